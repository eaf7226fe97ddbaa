"""A small DynamoDB client over the standard library: GetItem, PutItem and DeleteItem on one table.

Why hand-written rather than boto3: boto3 with botocore is most of the Lambda's cold start
(~85 ms to import, ~40 ms to build a resource and load DynamoDB's service model) and ~30 MiB of
its memory, and the coach needs three calls of DynamoDB's JSON protocol on one table. Those three
calls are a signed HTTP POST each: ``X-Amz-Target: DynamoDB_20120810.<Operation>`` with a JSON
body in DynamoDB's typed form (``{"S": …}``, ``{"N": "…"}``, ``{"M": …}``, …), signed with AWS
Signature Version 4. The SigV4 signers on PyPI either depend on ``requests`` (which the coach
keeps off its start-up path) or have not been released for years; the signature is a few lines of
``hmac``/``hashlib``, and ``tests/test_dynamodb_direct.py`` checks it against botocore's own
``SigV4Auth`` on random requests, and the typed JSON against boto3's serializer.

Behaviour follows the boto3 client the coach configures (``skill.stores.dynamodb``): connect
timeout 1 s, read timeout 2 s, two attempts in all. The second attempt follows a throttling error
(after up to 1 s, jittered), a 5xx answer or a lost connection (after up to 25 ms), as botocore's
"standard" retry mode does for DynamoDB. Connections are kept alive and reused, one in use per
thread at a time. Failures raise ``DynamoDBError`` subclasses whose messages read like botocore's,
so ``skill.stores.dynamodb.describe_failure`` words them the same on either path.

Credentials are read from the environment on every request (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, and AWS_SESSION_TOKEN when set): what AWS Lambda gives a function. Over
HTTPS, certificates are checked against AWS_CA_BUNDLE when it is set, as boto3 does.
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import functools
import hashlib
import hmac
import http.client
import json
import logging
import random
import select
import socket
import ssl  # loaded by http.client in any case
import threading
import time
import zlib
from collections.abc import Mapping
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any
from urllib.parse import quote, urlsplit

from skill.records import Record

logger = logging.getLogger(__name__)

SERVICE = "dynamodb"
TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"

THROTTLING_CODES = frozenset(
    {  # botocore's list of throttling error codes (retries/standard.py)
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}
)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
THROTTLING_BACKOFF_SECONDS = 1.0  # botocore's base scale for throttling errors
TRANSIENT_BACKOFF_SECONDS = 0.025  # and for other retryable errors, for DynamoDB

# boto3's DYNAMODB_CONTEXT: the precision and range DynamoDB numbers have; anything that would
# be rounded or clamped is refused rather than stored as a different number.
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)


# ---- failures ------------------------------------------------------------------------------


class DynamoDBError(Exception):
    """Any failure of a call on the direct path."""


class DynamoDBServiceError(DynamoDBError):
    """DynamoDB answered with an error, worded as botocore's ClientError (which says how many
    retries were made when the last error came on the last attempt allowed)."""

    def __init__(
        self, code: str, message: str, operation: str, status: int, retries: int | None = None
    ) -> None:
        retry_info = "" if retries is None else f" (reached max retries: {retries})"
        super().__init__(
            f"An error occurred ({code}) when calling the {operation} operation{retry_info}: "
            f"{message}"
        )
        self.code = code
        self.message = message
        self.operation = operation
        self.status = status

    def after_retries(self, retries: int) -> DynamoDBServiceError:
        return DynamoDBServiceError(self.code, self.message, self.operation, self.status, retries)


class DynamoDBConnectionError(DynamoDBError):
    """The endpoint could not be reached, or dropped the connection before answering."""


class DynamoDBTimeoutError(DynamoDBError):
    """The endpoint took longer than the connect or read timeout."""


class DynamoDBCredentialsError(DynamoDBError):
    """No credentials in the environment."""


# ---- credentials and SigV4 -----------------------------------------------------------------


class Credentials(Record):
    access_key: str
    secret_key: str
    token: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Credentials | None:
        """The environment's credentials, or None when the key id or the secret is missing."""
        access_key = environ.get("AWS_ACCESS_KEY_ID", "").strip()
        secret_key = environ.get("AWS_SECRET_ACCESS_KEY", "").strip()
        if not access_key or not secret_key:
            return None
        return cls(access_key, secret_key, environ.get("AWS_SESSION_TOKEN", "").strip() or None)


def host_header(url: str) -> str:
    """The Host header for ``url``: its netloc without a port that is the scheme's default."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return host if parts.port in {None, default_port} else f"{host}:{parts.port}"


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    credentials: Credentials,
    region: str,
    service: str,
    now: dt.datetime,
) -> dict[str, str]:
    """The headers that sign a request with AWS Signature Version 4: X-Amz-Date, the session
    token when there is one, and Authorization. Every header in ``headers`` is signed (names are
    case-insensitive and must be unique), with Host added from ``url`` when absent. The path is
    percent-encoded as it stands (DynamoDB's is "/"); the query string is not supported."""
    timestamp = now.astimezone(dt.UTC).strftime(SIGV4_TIMESTAMP)
    added = {"X-Amz-Date": timestamp}
    if credentials.token:
        added["X-Amz-Security-Token"] = credentials.token
    signed = {name.lower(): value for name, value in headers.items()}
    signed.update((name.lower(), value) for name, value in added.items())
    signed.setdefault("host", host_header(url))
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            quote(urlsplit(url).path or "/", safe="/~"),
            "",  # no query string
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{timestamp[:8]}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            timestamp,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (timestamp[:8], region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    added["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return added


# ---- DynamoDB's typed JSON -----------------------------------------------------------------


def serialize(value: Any) -> dict[str, Any]:
    """``value`` in DynamoDB's typed JSON, as boto3's TypeSerializer writes it (for the types
    the coach stores: str, int, Decimal, bool, None, mappings, lists)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        number = str(DYNAMODB_CONTEXT.create_decimal(value))
        if number in {"Infinity", "NaN"}:
            raise TypeError("Infinity and NaN not supported")
        return {"N": number}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, Mapping):
        return {"M": {key: serialize(item) for key, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(item) for item in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def deserialize(typed: Mapping[str, Any]) -> Any:
    """A typed JSON value as boto3's TypeDeserializer reads it (numbers as Decimal; binary
    values as bytes, where boto3 gives its own Binary wrapper)."""
    [(kind, value)] = typed.items()
    if kind in {"S", "BOOL"}:
        return value
    if kind == "N":
        return DYNAMODB_CONTEXT.create_decimal(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: deserialize(item) for key, item in value.items()}
    if kind == "L":
        return [deserialize(item) for item in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {DYNAMODB_CONTEXT.create_decimal(item) for item in value}
    if kind == "B":
        return base64.b64decode(value)
    if kind == "BS":
        return {base64.b64decode(item) for item in value}
    raise TypeError(f"DynamoDB type {kind} is not supported")


# ---- the client ----------------------------------------------------------------------------


# Scheme, host, port and, for https, the CA bundle the server was checked against: a connection
# verified under one trust setting is never lent to a client that has another.
_PoolKey = tuple[str, str, int, str | None]


class _Connections:
    """Idle kept-alive connections per endpoint, shared by every client in the process: a thread
    takes one (or opens one), uses it for one call and gives it back. They live in the module, not
    in a client or a thread-local, so a discarded client or a finished thread never leaves an
    unclosed socket to the garbage collector; what is left is closed at exit."""

    def __init__(self) -> None:
        self._idle: dict[_PoolKey, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def take(self, key: _PoolKey) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                connection = idle.pop()
                if _still_open(connection):
                    return connection
                connection.close()
        return None

    def give_back(self, key: _PoolKey, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(connection)

    def close_all(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for connection in idle:
                    connection.close()
            self._idle.clear()


def _still_open(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle connection can be reused: a socket that is readable while idle has been
    closed by the server (or holds stray bytes), as urllib3 checks before reuse."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


_CONNECTIONS = _Connections()
atexit.register(_CONNECTIONS.close_all)


class DirectDynamoDB:
    """Signed calls to one DynamoDB endpoint (AWS's regional one, or ``endpoint``)."""

    def __init__(
        self,
        *,
        region: str,
        endpoint: str,
        environ: Mapping[str, str],
        connect_timeout: float,
        read_timeout: float,
        total_attempts: int,
    ) -> None:
        parts = urlsplit(endpoint)
        self.region = region
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path or '/'}"
        self.path = parts.path or "/"
        self.host = host_header(self.url)
        https = parts.scheme == "https"
        self._address = (parts.scheme, parts.hostname or "", parts.port or (443 if https else 80))
        self._environ = environ
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._total_attempts = total_attempts

    def call(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The decoded answer to ``operation`` with ``payload``, or a DynamoDBError."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        for attempt in range(1, self._total_attempts + 1):
            try:
                return self._call_once(operation, body)
            except DynamoDBError as error:
                delay = _retry_delay(error)
                last = attempt == self._total_attempts
                if last and isinstance(error, DynamoDBServiceError):
                    raise error.after_retries(attempt - 1) from None
                if delay is None or last:
                    raise
                logger.info("DynamoDB %s failed (%s); trying again", operation, error)
                time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _call_once(self, operation: str, body: bytes) -> dict[str, Any]:
        credentials = Credentials.from_environ(self._environ)
        if credentials is None:
            raise DynamoDBCredentialsError("Unable to locate credentials")
        headers = {
            "Host": self.host,
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": TARGET_PREFIX + operation,
        }
        headers.update(
            sign(
                "POST",
                self.url,
                headers,
                body,
                credentials=credentials,
                region=self.region,
                service=SERVICE,
                now=dt.datetime.now(dt.UTC),
            )
        )
        status, answer = self._exchange(body, headers)
        text = answer.decode("utf-8", errors="replace")
        try:
            decoded = json.loads(text) if text else {}
        except ValueError:
            decoded = {"message": text}  # as botocore reads an error body that is not JSON
        if status == 200 and isinstance(decoded, dict):
            return decoded
        code, message = _error_code(decoded, status)
        raise DynamoDBServiceError(code, message, operation, status)

    def _exchange(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """POST once: the status and the body. A reused connection that turns out to have been
        closed by the server is replaced once, without counting as an attempt."""
        key = (*self._address, self._ca_bundle() if self._address[0] == "https" else None)
        connection = _CONNECTIONS.take(key)
        reused = connection is not None
        while True:
            if connection is None:
                connection = self._connect()
            try:
                connection.request("POST", self.path, body, headers)
                response = connection.getresponse()
                answer = response.read()
            except TimeoutError:
                connection.close()
                raise DynamoDBTimeoutError(f'Read timeout on endpoint URL: "{self.url}"') from None
            except (http.client.HTTPException, OSError) as error:
                connection.close()
                if reused and isinstance(
                    error, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
                ):
                    connection, reused = None, False
                    continue
                raise DynamoDBConnectionError(
                    "Connection was closed before we received a valid response from endpoint "
                    f'URL: "{self.url}".'
                ) from None
            break
        if response.will_close:
            connection.close()
        else:
            _CONNECTIONS.give_back(key, connection)
        checksum = response.getheader("x-amz-crc32")
        if checksum is not None and checksum.isdigit() and int(checksum) != zlib.crc32(answer):
            raise DynamoDBConnectionError(
                f'The answer from endpoint URL "{self.url}" failed its CRC32 check.'
            )
        return response.status, answer

    def _ca_bundle(self) -> str | None:
        return self._environ.get("AWS_CA_BUNDLE", "").strip() or None

    def _connect(self) -> http.client.HTTPConnection:
        scheme, host, port = self._address
        connection: http.client.HTTPConnection
        if scheme == "https":
            ca_bundle = self._ca_bundle()
            try:
                context = _tls_context(ca_bundle)
            except OSError:
                raise DynamoDBConnectionError(
                    "Could not find a suitable TLS CA certificate bundle, invalid path: "
                    f"{ca_bundle}"
                ) from None
            connection = http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=context
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise DynamoDBTimeoutError(f'Connect timeout on endpoint URL: "{self.url}"') from None
        except ssl.SSLError as error:
            connection.close()
            raise DynamoDBConnectionError(f"SSL validation failed for {self.url} {error}") from None
        except OSError:
            connection.close()
            raise DynamoDBConnectionError(
                f'Could not connect to the endpoint URL: "{self.url}"'
            ) from None
        assert connection.sock is not None
        connection.sock.settimeout(self._read_timeout)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection


def _retry_delay(error: DynamoDBError) -> float | None:
    """Seconds to wait before the next attempt, or None when trying again cannot help."""
    if isinstance(error, DynamoDBServiceError):
        if error.code in THROTTLING_CODES:
            return random.random() * THROTTLING_BACKOFF_SECONDS
        if error.code in TRANSIENT_CODES or error.status in TRANSIENT_STATUSES:
            return random.random() * TRANSIENT_BACKOFF_SECONDS
        return None
    if isinstance(error, DynamoDBConnectionError | DynamoDBTimeoutError):
        return random.random() * TRANSIENT_BACKOFF_SECONDS
    return None


def _error_code(decoded: Any, status: int) -> tuple[str, str]:
    """The error code and message of an error answer, read as botocore's JSON parser reads them
    (``{"__type": "com.amazonaws.dynamodb.v20120810#Code", "message": …}``; the HTTP status when
    there is no type)."""
    if not isinstance(decoded, dict):
        decoded = {}
    message = str(decoded.get("message", decoded.get("Message", "")))
    code = str(decoded.get("__type", status)).split(":", 1)[0].rpartition("#")[2]
    return code, message


@functools.cache
def _tls_context(ca_bundle: str | None) -> Any:
    """One TLS context per CA bundle: AWS_CA_BUNDLE when set (as boto3 honours it), else
    certifi's roots (as botocore uses) when installed, else the system's."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    try:
        import certifi  # noqa: PLC0415
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())
