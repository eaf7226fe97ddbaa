"""The direct DynamoDB client's pieces against the libraries they stand in for: its SigV4 signature
against botocore's ``SigV4Auth``, its typed JSON against boto3's serializer and deserializer, and
its signatures against a server that checks them (moto with IAM authentication on)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from decimal import Decimal
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.stores.dynamodb_direct import (
    Credentials,
    DirectDynamoDB,
    DynamoDBServiceError,
    deserialize,
    serialize,
    sign,
)
from tests.lambda_support import REGION, create_users_table, moto_dynamodb

# ---- the signature -------------------------------------------------------------------------

HEADER_NAME = st.from_regex(r"x-test-[a-z0-9][a-z0-9-]{0,15}", fullmatch=True)
HEADER_VALUE = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from(" \t"),
    max_size=40,
)
PATH_SEGMENT = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="/?#%.")
    | st.sampled_from("é~- "),
    min_size=1,
    max_size=8,
)


@st.composite
def requests(draw: st.DrawFn) -> dict:
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(st.sampled_from(["dynamodb.eu-west-1.amazonaws.com", "127.0.0.1", "localhost"]))
    port = draw(st.none() | st.sampled_from([80, 443]) | st.integers(1, 65535))
    segments = draw(st.lists(PATH_SEGMENT, max_size=3))
    path = draw(st.sampled_from(["", "/"])) if not segments else "/" + "/".join(segments)
    names = draw(st.lists(HEADER_NAME, unique=True, max_size=5))
    headers = {}
    for name in names:  # any capitalisation: names are case-insensitive
        shown = "".join(c.upper() if draw(st.booleans()) else c for c in name)
        headers[shown] = draw(HEADER_VALUE)
    if draw(st.booleans()):
        headers["Content-Type"] = "application/x-amz-json-1.0"
        headers["X-Amz-Target"] = draw(
            st.sampled_from(["GetItem", "PutItem", "DeleteItem"]).map("DynamoDB_20120810.{}".format)
        )
    netloc = host if port is None else f"{host}:{port}"
    if draw(st.booleans()):
        headers["Host"] = netloc
    return {
        "url": f"{scheme}://{netloc}{path}",
        "headers": headers,
        "body": draw(st.binary(max_size=200)),
        "credentials": Credentials(
            draw(st.from_regex(r"(AKIA|ASIA)[A-Z0-9]{16}", fullmatch=True)),
            draw(st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)),
            draw(st.none() | st.from_regex(r"[A-Za-z0-9/+=]{1,120}", fullmatch=True)),
        ),
        "region": draw(st.from_regex(r"[a-z]{2}-[a-z]{4,9}-[1-9]", fullmatch=True)),
        "service": draw(st.sampled_from(["dynamodb", "s3", "execute-api"])),
        "now": draw(
            st.datetimes(
                min_value=dt.datetime(2000, 1, 1),
                max_value=dt.datetime(2099, 12, 31),
                timezones=st.just(dt.UTC),
            )
        ),
    }


def botocore_signature(request: dict) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotocoreCredentials

    creds = request["credentials"]
    aws_request = AWSRequest(
        method="POST", url=request["url"], data=request["body"], headers=request["headers"]
    )
    signer = SigV4Auth(
        BotocoreCredentials(creds.access_key, creds.secret_key, creds.token),
        request["service"],
        request["region"],
    )
    naive_utc = request["now"].replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive_utc):
        signer.add_auth(aws_request)
    return dict(aws_request.headers.items())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_the_signature_is_the_one_botocore_computes(request):
    ours = sign(
        "POST",
        request["url"],
        request["headers"],
        request["body"],
        credentials=request["credentials"],
        region=request["region"],
        service=request["service"],
        now=request["now"],
    )
    theirs = botocore_signature(request)
    assert ours["Authorization"] == theirs["Authorization"]
    assert ours["X-Amz-Date"] == theirs["X-Amz-Date"]
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")
    assert set(ours) - {"X-Amz-Security-Token"} == {"Authorization", "X-Amz-Date"}


def test_the_signature_matches_a_known_answer():
    """AWS's own documented example request (GET, no body) is out of scope; this pins one
    DynamoDB request so a change in both libraries at once would still show."""
    headers = sign(
        "POST",
        "https://dynamodb.us-east-1.amazonaws.com/",
        {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.GetItem"},
        b'{"TableName":"users"}',
        credentials=Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        region="us-east-1",
        service="dynamodb",
        now=dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC),
    )
    assert headers["X-Amz-Date"] == "20261117T131500Z"
    assert headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261117/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="
    )
    botocore_headers = botocore_signature(
        {
            "url": "https://dynamodb.us-east-1.amazonaws.com/",
            "headers": {
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "DynamoDB_20120810.GetItem",
            },
            "body": b'{"TableName":"users"}',
            "credentials": Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            "region": "us-east-1",
            "service": "dynamodb",
            "now": dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC),
        }
    )
    assert headers["Authorization"] == botocore_headers["Authorization"]


# ---- typed JSON ----------------------------------------------------------------------------

NUMBERS = (
    st.integers(min_value=-(10**45), max_value=10**45)
    | st.decimals(allow_nan=True, allow_infinity=True, places=None)
    | st.decimals(min_value=-(10**6), max_value=10**6, places=3)
)
SCALARS = st.none() | st.booleans() | st.text(max_size=20) | NUMBERS | st.floats()
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


def outcome(function, value):
    """What ``function(value)`` gives: its result, or the kind of error it raises."""
    try:
        return ("value", function(value))
    except Exception as exc:
        return ("error", type(exc))


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_values_are_written_as_boto3_writes_them(value):
    from boto3.dynamodb.types import TypeSerializer

    assert outcome(serialize, value) == outcome(TypeSerializer().serialize, value)


STORABLE = st.recursive(
    st.none()
    | st.booleans()
    | st.text(max_size=20)
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(min_value=-(10**9), max_value=10**9, places=4)
    | st.frozensets(st.text(max_size=5), min_size=1, max_size=3).map(set)
    | st.frozensets(st.integers(-1000, 1000).map(Decimal), min_size=1, max_size=3).map(set),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(STORABLE)
def test_values_are_read_as_boto3_reads_them(value):
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    typed = json.loads(json.dumps(TypeSerializer().serialize(value)))  # as it comes off the wire
    ours = deserialize(typed)
    assert ours == TypeDeserializer().deserialize(typed)
    assert repr(ours) == repr(TypeDeserializer().deserialize(typed)) or isinstance(ours, set)


# ---- a server that checks signatures -------------------------------------------------------


@pytest.fixture
def checking_signatures():
    """moto's DynamoDB with IAM authentication on, and a user allowed to use DynamoDB: its
    access key id and secret."""
    import boto3

    with moto_dynamodb() as endpoint:
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="setup",
            aws_secret_access_key="setup",
        )
        iam.create_user(UserName="coach")
        iam.put_user_policy(
            UserName="coach",
            PolicyName="users-table",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}],
                }
            ),
        )
        key = iam.create_access_key(UserName="coach")["AccessKey"]
        table = create_users_table(endpoint)
        _set_moto_auth(endpoint, "0")  # from now on every request must be signed correctly
        try:
            yield endpoint, table, key["AccessKeyId"], key["SecretAccessKey"]
        finally:
            _set_moto_auth(endpoint, "inf")


def _set_moto_auth(endpoint: str, count: str) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        headers={"Content-Type": "text/plain"},  # a form body would not reach moto as data
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_a_server_that_checks_signatures_accepts_the_right_secret_only(checking_signatures):
    endpoint, table, key_id, secret = checking_signatures

    def client(secret_key: str) -> DirectDynamoDB:
        return DirectDynamoDB(
            region=REGION,
            endpoint=endpoint,
            environ={"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret_key},
            connect_timeout=1.0,
            read_timeout=2.0,
            total_attempts=2,
        )

    item = {"id": {"S": "amzn1.ask.account.SIGNED"}, "attributes": {"M": {"n": {"N": "1"}}}}
    client(secret).call("PutItem", {"TableName": table, "Item": item})
    answer = client(secret).call(
        "GetItem", {"TableName": table, "Key": {"id": item["id"]}, "ConsistentRead": True}
    )
    assert answer["Item"] == item

    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    with pytest.raises(DynamoDBServiceError) as refused:
        client(wrong).call("GetItem", {"TableName": table, "Key": {"id": item["id"]}})
    assert refused.value.status == 403

    # boto3 signing with the same wrong secret is refused the same way, in the same words.
    import boto3
    from botocore.exceptions import ClientError

    boto3_client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=wrong,
        config=botocore_config(),
    )
    with pytest.raises(ClientError) as also_refused:
        boto3_client.get_item(TableName=table, Key={"id": item["id"]})
    assert str(also_refused.value) == str(refused.value)


def botocore_config():
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": 2})  # as the store has


# ---- HTTPS, as DynamoDB is reached on AWS --------------------------------------------------


def _server_certificate(directory) -> tuple[str, str, str]:
    """A test root CA and a server certificate for 127.0.0.1 signed by it: the paths of the
    root's PEM, the server's PEM and the server's key."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "store test root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(root_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    paths = (directory / "root.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tuple(str(path) for path in paths)


@pytest.fixture(scope="module")
def https_endpoint(tmp_path_factory):
    """moto's DynamoDB behind a TLS-terminating forwarder on 127.0.0.1: the https URL, the
    table, and the root CA that signed the forwarder's certificate."""
    import http.client
    import http.server
    import ssl
    import threading

    root, certificate, key = _server_certificate(tmp_path_factory.mktemp("tls"))
    with moto_dynamodb() as upstream:
        table = create_users_table(upstream)

        class Forward(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as DynamoDB offers

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                connection = http.client.HTTPConnection(upstream.removeprefix("http://"))
                connection.request("POST", self.path, body, dict(self.headers.items()))
                answer = connection.getresponse()
                data = answer.read()
                connection.close()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.getheader("Content-Type", ""))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}", table, root
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def https_client(endpoint: str, **environ: str) -> DirectDynamoDB:
    return DirectDynamoDB(
        region=REGION,
        endpoint=endpoint,
        environ={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", **environ},
        connect_timeout=1.0,
        read_timeout=2.0,
        total_attempts=2,
    )


def test_over_https_the_server_certificate_is_checked_against_aws_ca_bundle(https_endpoint):
    endpoint, table, root = https_endpoint
    client = https_client(endpoint, AWS_CA_BUNDLE=root)
    item = {"id": {"S": "amzn1.ask.account.TLS"}, "attributes": {"M": {"ok": {"BOOL": True}}}}
    client.call("PutItem", {"TableName": table, "Item": item})
    for _ in range(2):  # the second call reuses the kept-alive connection
        answer = client.call("GetItem", {"TableName": table, "Key": {"id": item["id"]}})
        assert answer["Item"] == item


def test_over_https_an_untrusted_certificate_is_refused(https_endpoint):
    from skill.stores.dynamodb_direct import DynamoDBConnectionError

    endpoint, table, _ = https_endpoint
    with pytest.raises(DynamoDBConnectionError, match="SSL validation failed for https://"):
        https_client(endpoint).call("GetItem", {"TableName": table, "Key": {"id": {"S": "x"}}})
    with pytest.raises(DynamoDBConnectionError, match=r"invalid path: /no/such/bundle\.pem"):
        https_client(endpoint, AWS_CA_BUNDLE="/no/such/bundle.pem").call(
            "GetItem", {"TableName": table, "Key": {"id": {"S": "x"}}}
        )
