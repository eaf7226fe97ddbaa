"""One HTTP/1.1 request and its response over a kept-alive socket: the DynamoDB client's transport.

Why not ``http.client``: importing it imports ``email.parser`` and ``email.message`` (for header
parsing), which cost ~6.5 ms of a Lambda cold start and ~1.2 MiB of its memory (measured after
the SDK, ``socket`` and ``ssl`` are loaded), for three POSTs of a few hundred bytes to one host.
``urllib3`` is heavier still. This is the part of HTTP/1.1 (RFC 9112) those POSTs need, read
strictly: a status line, at most :data:`MAX_HEADERS` header lines of at most :data:`MAX_LINE`
bytes, and a body framed by ``Transfer-Encoding: chunked``, by ``Content-Length``, or by the
server closing the connection; interim 1xx answers are skipped. Anything else is a
:class:`ProtocolError` and the connection is dropped. Timeouts are the socket's own
(``TimeoutError``), and other socket failures are ``OSError`` as with ``http.client``.
``tests/test_http_exchange.py`` runs it against well-formed, malformed, truncated and slow answers;
the DynamoDB tests run it against moto, directly and behind TLS.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any

MAX_LINE = 65536  # as http.client's _MAXLINE
MAX_HEADERS = 100  # as http.client's _MAXHEADERS
NO_BODY_STATUSES = frozenset({204, 304})
HEX_DIGITS = b"0123456789abcdefABCDEF"


class ProtocolError(Exception):
    """The answer is not well-formed HTTP/1.1 (or is cut short)."""


class RemoteDisconnectedError(ProtocolError, ConnectionResetError):
    """The server closed the connection without answering (e.g. a kept-alive connection it had
    already let go): safe to retry on a new connection."""


class Response:
    """A complete answer: status, headers (names lower-cased) and body."""

    __slots__ = ("body", "headers", "status", "will_close")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, will_close: bool) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.will_close = will_close


class Connection:
    """One connection to ``host``:``port``, TLS when ``context`` is an ``ssl.SSLContext``."""

    def __init__(self, host: str, port: int, *, timeout: float, context: Any = None) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.context = context
        self.sock: socket.socket | None = None
        self._reader: Any = None

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._reader = sock.makefile("rb")

    def close(self) -> None:
        reader, sock = self._reader, self.sock
        self._reader = self.sock = None
        if reader is not None:
            reader.close()
        if sock is not None:
            sock.close()

    def post(self, path: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Send one POST and read its whole answer. The caller closes the connection after any
        exception, and after an answer whose ``will_close`` is set."""
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.sendall(request_bytes("POST", path, headers, body))
        return read_response(self._reader)


def request_bytes(method: str, path: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The request head and body as sent: the caller's headers (Host among them), then
    Content-Length and, as http.client sends it, ``Accept-Encoding: identity``."""
    lines = [f"{method} {path} HTTP/1.1"]
    for name, value in headers.items():
        if any(c in name for c in ":\r\n ") or "\r" in value or "\n" in value:
            raise ValueError(f"invalid header {name!r}: {value!r}")
        lines.append(f"{name}: {value}")
    lines.append("Accept-Encoding: identity")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def read_response(reader: Any) -> Response:
    """Read one answer from a buffered binary reader (the socket's ``makefile("rb")``)."""
    while True:
        version, status = _status_line(reader)
        headers = _headers(reader)
        if 100 <= status < 200 and status != 101:
            continue  # interim (100 Continue, 103 Early Hints): the answer follows
        break
    connection = headers.get("connection", "").lower()
    will_close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
    if status in NO_BODY_STATUSES or status < 200:
        return Response(status, headers, b"", will_close)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return Response(status, headers, _chunked_body(reader), will_close)
    length = headers.get("content-length")
    if length is not None:
        return Response(status, headers, _exactly(reader, _content_length(length)), will_close)
    return Response(status, headers, reader.read(), True)  # framed by the server closing


def _line(reader: Any) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise ProtocolError("a line of the answer is too long")
    return line


def _status_line(reader: Any) -> tuple[str, int]:
    line = _line(reader)
    if not line:
        raise RemoteDisconnectedError("the server closed the connection without answering")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    version = parts[0]
    if len(parts) < 2 or version not in {"HTTP/1.1", "HTTP/1.0"}:
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:80]!r}")
    code = parts[1]
    if len(code) != 3 or not code.isdigit() or not code.isascii() or code[0] == "0":
        raise ProtocolError(f"not an HTTP status: {line[:80]!r}")
    return version, int(code)


def _headers(reader: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    last: str | None = None
    for _ in range(MAX_HEADERS + 1):
        line = _line(reader)
        if line in {b"\r\n", b"\n"}:
            return headers
        if not line.endswith(b"\n"):
            raise ProtocolError("the answer ended inside its headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in {" ", "\t"} and last is not None:  # an obsolete folded line
            headers[last] += " " + text.strip()
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise ProtocolError(f"not a header line: {line[:80]!r}")
        last = name.lower()
        value = value.strip()
        if last == "content-length" and last in headers:
            if headers[last] != value:
                raise ProtocolError("the answer has two different Content-Length headers")
            continue
        headers[last] = f"{headers[last]}, {value}" if last in headers else value
    raise ProtocolError(f"the answer has more than {MAX_HEADERS} headers")


def _content_length(value: str) -> int:
    if not value.isdigit() or not value.isascii():
        raise ProtocolError(f"not a Content-Length: {value!r}")
    return int(value)


def _exactly(reader: Any, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise ProtocolError(f"the answer ended after {len(data)} of {size} body bytes")
    return data


def _chunked_body(reader: Any) -> bytes:
    parts = []
    while True:
        line = _line(reader)
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or size_text.strip(HEX_DIGITS) or not line.endswith(b"\n"):
            raise ProtocolError(f"not a chunk size: {line[:80]!r}")
        size = int(size_text, 16)
        if size == 0:
            break
        parts.append(_exactly(reader, size))
        if _line(reader) not in {b"\r\n", b"\n"}:
            raise ProtocolError("a chunk is longer than its size says")
    _headers(reader)  # trailers: read to the blank line that ends the answer, and ignored
    return b"".join(parts)
