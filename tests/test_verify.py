"""Alexa request verification, through the real webhook: every rule Amazon lists for skills hosted
as a web service, each tested with a chain (root CA → intermediate → leaf) made in the test and
requests signed in the test."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import ssl
import threading
import urllib.error
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from skill.settings import Settings
from tests.helpers.webhook_client import webhook_client
from tests.pki import (
    CERT_URL,
    AlexaPKI,
    FakeS3,
    MovableClock,
    key_pem,
    make_leaf,
    make_root,
    pem,
    rsa_key,
    sign,
    url,
)
from tests.support import (
    SKILL_ID,
    Reply,
    envelope,
    intent_request,
    launch_request,
    stored_record,
)
from webhook.verify import (
    MAX_CHAIN_BYTES,
    AlexaRequestVerifier,
    HttpsChainFetcher,
    VerificationFailedError,
    certifi_roots,
    check_cert_url,
)

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)  # the morning fixture, in UTC


@pytest.fixture(scope="module")
def pki() -> AlexaPKI:
    return AlexaPKI.build(NOW)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(NOW)


@pytest.fixture
def s3(pki) -> FakeS3:
    return FakeS3(dict(pki.chains))


@pytest.fixture
def client(pki, s3, clock, catalog, store):
    settings = Settings(
        skill_id=SKILL_ID, store_url="memory://", default_timezone="America/New_York"
    )
    return webhook_client(
        settings,
        catalog=catalog,
        store=store,
        TRUST_ROOTS=[pki.root.certificate],
        FETCH_CHAIN=s3,
        CLOCK=clock,
    )


def launch_body(moment: dt.datetime = NOW, skill_id: str = SKILL_ID) -> bytes:
    return json.dumps(
        envelope(launch_request(moment), new_session=True, skill_id=skill_id)
    ).encode()


def post(
    client,
    body: bytes,
    *,
    cert_url: str | None = CERT_URL,
    signature: str | None = None,
    key: Any = None,
    pki: AlexaPKI | None = None,
) -> Any:
    headers = {"Content-Type": "application/json"}
    if cert_url is not None:
        headers["SignatureCertChainUrl"] = cert_url
    if signature is None and key is not None:
        signature = sign(key, body)
    if signature is not None:
        headers["Signature-256"] = signature
    return client.post("/alexa", data=body, headers=headers)


def signed(client, pki: AlexaPKI, body: bytes, cert_url: str = CERT_URL) -> Any:
    return post(client, body, cert_url=cert_url, key=pki.leaf_key)


def rejected_because(response: Any) -> str:
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


# ---- accepted ---------------------------------------------------------------------------------


def test_a_request_signed_by_alexa_is_answered(client, pki):
    response = signed(client, pki, launch_body())
    assert response.status_code == 200
    reply = Reply(response.get_json())
    assert "not medical advice" in reply.text
    assert not reply.ends_session


def test_the_chain_is_fetched_once_and_cached_across_requests(client, pki, s3, clock):
    for minute in range(3):
        clock.now = NOW + dt.timedelta(minutes=minute)
        assert signed(client, pki, launch_body(clock.now)).status_code == 200
    assert s3.fetches == [CERT_URL]


def test_a_cached_chain_is_dropped_when_its_signing_certificate_expires(client, pki, s3, clock):
    assert signed(client, pki, launch_body()).status_code == 200
    clock.now = pki.leaf.not_valid_after_utc + dt.timedelta(minutes=1)
    reason = rejected_because(signed(client, pki, launch_body(clock.now)))
    assert "signing certificate has expired" in reason
    assert s3.fetches == [CERT_URL, CERT_URL]


def test_a_chain_that_failed_is_refused_for_a_minute_then_fetched_again(client, pki, s3, clock):
    s3.chains[CERT_URL] = b"<html>Slow Down</html>"
    assert "not a PEM bundle" in rejected_because(signed(client, pki, launch_body()))
    s3.chains[CERT_URL] = pki.chains[CERT_URL]
    clock.now = NOW + dt.timedelta(seconds=30)
    reason = rejected_because(signed(client, pki, launch_body(clock.now)))
    assert reason.endswith("certificate chain is not a PEM bundle (not retried yet)")
    assert len(s3.fetches) == 1
    clock.now = NOW + dt.timedelta(seconds=61)
    assert signed(client, pki, launch_body(clock.now)).status_code == 200
    assert len(s3.fetches) == 2


def test_an_unknown_request_type_that_is_signed_gets_an_empty_valid_response(client, pki):
    body = envelope(
        {"type": "Alexa.Brand.NewThing", "requestId": "amzn1.echo-api.request.1",
         "timestamp": "2026-11-17T13:15:00Z", "locale": "en-US"}
    )  # fmt: skip
    response = signed(client, pki, json.dumps(body).encode())
    assert response.status_code == 200
    assert response.get_json() == {"version": "1.0", "response": {}}


# ---- replays ---------------------------------------------------------------------------------


def test_a_signed_request_sent_again_is_refused_and_not_processed(client, pki, store, clock):
    """Someone who saw a signed "next" sends it again within the 150-second window: the routine
    must not advance twice."""
    start = json.dumps(
        envelope(intent_request("StartRoutineIntent", NOW), new_session=True)
    ).encode()
    assert signed(client, pki, start).status_code == 200
    clock.now = NOW + dt.timedelta(seconds=20)
    next_body = json.dumps(envelope(intent_request("AMAZON.NextIntent", clock.now))).encode()
    assert signed(client, pki, next_body).status_code == 200
    place = stored_record(store)["progress"]
    for seconds in (30, 90, 140):
        clock.now = NOW + dt.timedelta(seconds=seconds)
        reason = rejected_because(signed(client, pki, next_body))
        assert reason == "request verification failed: request was already received (a replay)"
    assert stored_record(store)["progress"] == place


def test_a_replay_after_the_window_is_refused_for_its_age(client, pki, clock):
    body = launch_body()
    assert signed(client, pki, body).status_code == 200
    clock.now = NOW + dt.timedelta(seconds=151)
    assert rejected_because(signed(client, pki, body)).endswith("request timestamp is too old")


def test_requests_with_their_own_ids_are_all_answered(client, pki):
    for _ in range(5):
        assert signed(client, pki, launch_body()).status_code == 200


# ---- 1. the certificate chain URL (Amazon's own examples, and a few more) ---------------------


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
        "HTTPS://S3.AmazonAWS.com/echo.api/echo-api-cert.pem",
    ],
)
def test_amazons_valid_certificate_url_forms_are_accepted(client, pki, s3, cert_url):
    s3.fallback = pki.chains[CERT_URL]
    assert signed(client, pki, launch_body(), cert_url=cert_url).status_code == 200
    assert s3.fetches == [cert_url]


@pytest.mark.parametrize(
    ("cert_url", "complaint"),
    [
        ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "must use https"),
        ("https://notamazon.com/echo.api/echo-api-cert.pem", "host must be s3.amazonaws.com"),
        ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "path must start with /echo.api/"),
        ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "path must start with"),
        ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port must be 443"),
        ("https://s3.amazonaws.com/echo.api/../evil/cert.pem", "path must start with"),
        ("https://s3.amazonaws.com/echo.api/%2e%2e/evil/cert.pem", "path must start with"),
        ("https://invalid.s3.amazonaws.com/echo.api/cert.pem", "host must be"),
        ("https://s3.amazonaws.com@evil.example/echo.api/cert.pem", "host must be"),
        ("https://evil.example@s3.amazonaws.com/echo.api/cert.pem", "must not carry user info"),
        ("https://a:b@s3.amazonaws.com/echo.api/cert.pem", "must not carry user info"),
        ("https://s3.amazonaws.com:https/echo.api/cert.pem", "not a valid URL"),
        ("s3.amazonaws.com/echo.api/cert.pem", "must use https"),
    ],
)
def test_bad_certificate_urls_are_rejected_without_fetching(client, pki, s3, cert_url, complaint):
    s3.fallback = pki.chains[CERT_URL]
    assert complaint in rejected_because(signed(client, pki, launch_body(), cert_url=cert_url))
    assert s3.fetches == []


def test_check_cert_url_names_the_broken_part():
    with pytest.raises(VerificationFailedError, match="port must be 443"):
        check_cert_url("https://s3.amazonaws.com:8443/echo.api/cert.pem")
    check_cert_url("https://s3.amazonaws.com/echo.api/cert.pem")  # and a good one passes


# ---- 2. the chain -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "complaint"),
    [
        ("expired", "signing certificate has expired"),
        ("not-yet-valid", "signing certificate is not valid yet"),
        ("wrong-name", "signing certificate is not for echo-api.amazon.com"),
        ("wildcard", "signing certificate is not for echo-api.amazon.com"),
        ("untrusted-root", "certificate chain is not trusted"),
        ("weak-key", "signing certificate's RSA key is shorter than 2048 bits"),
        ("no-intermediate", "certificate chain is not trusted"),
        ("expired-intermediate", "certificate chain is not trusted"),
        ("not-pem", "certificate chain is not a PEM bundle"),
        ("missing-from-s3", "could not fetch the certificate chain"),
    ],
)
def test_a_bad_signing_chain_is_rejected(client, pki, s3, name, complaint):
    reason = rejected_because(signed(client, pki, launch_body(), cert_url=url(name)))
    assert complaint in reason
    assert s3.fetches == [url(name)]


def test_a_rejected_chain_is_not_trusted_from_the_cache(client, pki, s3, clock):
    for seconds in (0, 61):
        clock.now = NOW + dt.timedelta(seconds=seconds)
        body = launch_body(clock.now)
        assert "not trusted" in rejected_because(
            signed(client, pki, body, cert_url=url("untrusted-root"))
        )
    assert len(s3.fetches) == 2


def test_the_default_trust_store_is_certifis_bundle_with_amazons_roots():
    names = {root.subject.rfc4514_string() for root in certifi_roots()}
    assert any("CN=Amazon Root CA 1" in name for name in names)
    AlexaRequestVerifier(SKILL_ID)  # builds its store from them, without warnings


# ---- 3. the signature -------------------------------------------------------------------------


def test_missing_certificate_url_header_is_rejected(client, pki):
    response = post(client, launch_body(), cert_url=None, key=pki.leaf_key)
    assert rejected_because(response) == (
        "request verification failed: missing SignatureCertChainUrl header"
    )


def test_missing_signature_header_is_rejected(client):
    response = post(client, launch_body())
    assert "missing Signature-256 header" in rejected_because(response)


def test_only_the_old_sha1_signature_header_is_not_enough(client, pki):
    body = launch_body()
    old = pki.leaf_key.sign(body, padding.PKCS1v15(), hashes.SHA1())
    response = client.post(
        "/alexa",
        data=body,
        headers={"SignatureCertChainUrl": CERT_URL, "Signature": old.hex()},
    )
    assert "missing Signature-256 header" in rejected_because(response)


def test_a_signature_that_is_not_base64_is_rejected(client):
    response = post(client, launch_body(), signature="not base64!")
    assert "Signature-256 header is not base64" in rejected_because(response)


@pytest.mark.parametrize(
    "signature",
    [
        "AAAA",
        base64.b64encode(b"x" * 128).decode(),  # as long as a 1024-bit key's signature
        base64.b64encode(b"x" * 255).decode(),
        base64.b64encode(b"x" * 1025).decode(),
    ],
)
def test_a_signature_of_no_plausible_length_is_rejected_before_any_fetch(client, s3, signature):
    response = post(client, launch_body(), cert_url=url("never-fetched"), signature=signature)
    assert "not an RSA signature of 2048 bits or more" in rejected_because(response)
    assert s3.fetches == []


def test_a_signature_by_another_key_is_rejected(client):
    response = post(client, launch_body(), key=rsa_key("stranger"))
    assert "signature does not match the request body" in rejected_because(response)


def test_a_sha1_signature_in_the_sha256_header_is_rejected(client, pki):
    body = launch_body()
    sha1 = base64.b64encode(pki.leaf_key.sign(body, padding.PKCS1v15(), hashes.SHA1())).decode()
    assert "does not match" in rejected_because(post(client, body, signature=sha1))


def test_a_tampered_body_is_rejected(client, pki):
    body = launch_body()
    signature = sign(pki.leaf_key, body)
    tampered = body.replace(b"en-US", b"en-GB")
    assert tampered != body
    response = post(client, tampered, signature=signature)
    assert "signature does not match the request body" in rejected_because(response)


def test_the_signature_covers_the_exact_bytes_not_the_json(client, pki):
    """Re-serialising the same JSON differently (here, with spaces) breaks the signature."""
    body = launch_body()
    signature = sign(pki.leaf_key, body)
    same_json = json.dumps(json.loads(body), indent=1).encode()
    assert "does not match" in rejected_because(post(client, same_json, signature=signature))


# ---- 4. the timestamp -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset_seconds", "complaint"),
    [(-151, "request timestamp is too old"), (151, "request timestamp is in the future")],
)
def test_stale_and_future_timestamps_are_rejected(client, pki, offset_seconds, complaint):
    body = launch_body(NOW + dt.timedelta(seconds=offset_seconds))
    assert complaint in rejected_because(signed(client, pki, body))


@pytest.mark.parametrize("offset_seconds", [-150, 150])
def test_timestamps_within_150_seconds_are_accepted(client, pki, offset_seconds):
    body = launch_body(NOW + dt.timedelta(seconds=offset_seconds))
    assert signed(client, pki, body).status_code == 200


# ---- 5. the skill id --------------------------------------------------------------------------


def test_a_request_for_another_skill_is_rejected(client, pki):
    body = launch_body(skill_id="amzn1.ask.skill.11111111-2222-4333-8444-555555555555")
    assert "request is for a different skill" in rejected_because(signed(client, pki, body))


# ---- what the server log says -----------------------------------------------------------------


def test_a_rejection_is_logged_with_its_reason_and_never_the_body(client, caplog):
    body = json.dumps(
        envelope(
            intent_request("SetBedtimeIntent", NOW),
            user_id="amzn1.ask.account.SECRET-USER",
        )
    ).encode()
    with caplog.at_level(logging.INFO, logger="webhook"):
        post(client, body, signature="AAAA")
    lines = [r.getMessage() for r in caplog.records if r.name == "webhook.app"]
    assert len(lines) == 1
    assert "status=400" in lines[0]
    assert 'reason="request verification failed' not in lines[0]  # the bare reason, not wrapped
    assert "reason=" in lines[0]
    assert "SECRET-USER" not in caplog.text
    assert "SetBedtimeIntent" not in caplog.text  # the body was never read, let alone logged


# ---- the real chain fetcher, against a local https server -------------------------------------


@pytest.fixture
def chain_server(tmp_path, pki) -> Iterator[tuple[str, ssl.SSLContext]]:
    """An https server on 127.0.0.1 with a certificate from its own CA, which the client is
    told to trust; it serves a chain, an oversized file and a redirect."""
    real_now = dt.datetime.now(dt.UTC)
    tls_ca = make_root("local-tls", real_now)
    server_cert, server_key = make_leaf(
        tls_ca,
        not_before=real_now - dt.timedelta(days=1),
        not_after=real_now + dt.timedelta(days=1),
        dns_names=(),
        ip_addresses=("127.0.0.1",),
    )
    (tmp_path / "cert.pem").write_bytes(pem(server_cert))
    (tmp_path / "key.pem").write_bytes(key_pem(server_key))
    chain = pki.chains[CERT_URL]

    class Bucket(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/echo.api/chain.pem")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = chain if self.path == "/echo.api/chain.pem" else b"x" * (MAX_CHAIN_BYTES + 1)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Bucket)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cadata=pem(tls_ca.certificate).decode())
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", client_context
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_fetcher_reads_a_chain_over_https(chain_server):
    base, context = chain_server
    fetch = HttpsChainFetcher(ssl_context=context, timeout=10)
    assert fetch(f"{base}/echo.api/chain.pem").startswith(b"-----BEGIN CERTIFICATE-----")


def test_the_fetcher_refuses_a_chain_over_the_size_cap(chain_server):
    base, context = chain_server
    with pytest.raises(VerificationFailedError, match="too large"):
        HttpsChainFetcher(ssl_context=context, timeout=10)(f"{base}/echo.api/huge.pem")


def test_the_fetcher_refuses_redirects(chain_server):
    base, context = chain_server
    with pytest.raises(urllib.error.HTTPError, match="redirect refused"):
        HttpsChainFetcher(ssl_context=context, timeout=10)(f"{base}/moved")


def test_the_fetcher_refuses_plain_http():
    with pytest.raises(VerificationFailedError, match="only be fetched over https"):
        HttpsChainFetcher()("http://127.0.0.1:9/echo.api/chain.pem")


def test_the_fetcher_does_not_trust_an_unknown_server_certificate(chain_server):
    base, _ = chain_server
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        HttpsChainFetcher(timeout=10)(f"{base}/echo.api/chain.pem")
