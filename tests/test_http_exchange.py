"""The DynamoDB client's HTTP/1.1 transport: answers read as http.client reads them, malformed or
cut-short answers refused, kept-alive connections reused, and each failure named as before."""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.dynamodb_direct import (
    DirectDynamoDB,
    DynamoDBConnectionError,
    DynamoDBServiceError,
    DynamoDBTimeoutError,
)
from skill.http_exchange import ProtocolError, read_response, request_bytes

# ---- reading answers: the same as http.client --------------------------------------------------

tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).filter(
    lambda name: (
        name.lower() not in {"content-length", "transfer-encoding", "connection", "keep-alive"}
    )
)
values = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=20)


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    """A well-formed answer: any status, headers, and a body framed one of the three ways."""
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0"]))
    status = draw(st.sampled_from([200, 201, 204, 400, 404, 413, 500, 503]))
    body = draw(st.binary(max_size=300)) if status != 204 else b""
    headers = [(name, draw(values)) for name in draw(st.lists(tokens, max_size=5))]
    framing = draw(st.sampled_from(["length", "chunked", "close"])) if status != 204 else "none"
    if draw(st.booleans()):
        headers.append(("Connection", draw(st.sampled_from(["close", "keep-alive"]))))
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" if draw(st.booleans()) else b""
    if framing == "length":
        headers.append(("Content-Length", str(len(body))))
        payload = body
    elif framing == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        payload = b"".join(
            f"{len(piece):x}{draw(st.sampled_from(['', ';ext=1']))}\r\n".encode() + piece + b"\r\n"
            for piece in pieces
            if piece
        )
        payload += b"0\r\n" + (b"X-Trailer: yes\r\n" if draw(st.booleans()) else b"") + b"\r\n"
    else:
        payload = body
    head = f"{version} {status} Some Reason\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    return interim + head.encode("latin-1") + b"\r\n" + payload


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(io.BytesIO(self.data))  # type: ignore[arg-type]


def read_by_http_client(data: bytes) -> tuple[int, dict[str, str], bytes, bool]:
    response = http.client.HTTPResponse(_Socket(data), method="POST")  # type: ignore[arg-type]
    response.begin()
    body = response.read()
    headers: dict[str, str] = {}
    for name, value in response.getheaders():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return response.status, headers, body, bool(response.will_close)


@given(answers())
def test_an_answer_is_read_as_http_client_reads_it(data):
    ours = read_response(io.BufferedReader(io.BytesIO(data)))
    status, headers, body, will_close = read_by_http_client(data)
    assert (ours.status, ours.body) == (status, body)
    assert ours.headers == headers
    # http.client keeps an HTTP/1.0 connection whose answer has a length only if it says
    # keep-alive; so do we. An answer framed by closing always closes.
    assert ours.will_close == will_close


@given(answers(), st.data())
def test_a_cut_short_answer_is_refused(data, draw):
    cut = draw.draw(st.integers(0, len(data) - 1))
    reader = io.BufferedReader(io.BytesIO(data[:cut]))
    try:
        complete = read_by_http_client(data[:cut])
    except (http.client.HTTPException, ValueError):
        complete = None
    try:
        ours = read_response(reader)
    except ProtocolError:
        return
    # Only an answer framed by the close can look complete when cut: then http.client agrees.
    assert complete is not None
    assert (ours.status, ours.body) == (complete[0], complete[2])


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200\r\n",  # no blank line after the headers
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x2\r\nab\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n",
        b"",
    ],
)
def test_a_malformed_answer_is_refused(data):
    with pytest.raises(ProtocolError):
        read_response(io.BufferedReader(io.BytesIO(data)))


def test_a_header_that_could_split_the_request_is_never_sent():
    with pytest.raises(ValueError, match="invalid header"):
        request_bytes("POST", "/", {"X-Amz-Target": "a\r\nInjected: yes"}, b"")
    assert request_bytes("POST", "/", {"Host": "h"}, b"{}") == (
        b"POST / HTTP/1.1\r\nHost: h\r\nAccept-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}"
    )


# ---- the client over real sockets -------------------------------------------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"
Script = Callable[[socket.socket, int], None]


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lengths = [line.split(b":")[1] for line in head.split(b"\r\n") if b"length:" in line.lower()]
    length = int(lengths[0])
    while len(body) < length:
        body += conn.recv(65536)
    return data


@contextlib.contextmanager
def raw_server(script: Script) -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP server on 127.0.0.1 that hands each connection (and its number) to ``script``;
    yields the endpoint URL and a list counting the connections made."""
    listener = socket.create_server(("127.0.0.1", 0))
    connections: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # the listener was shut down
                return
            connections.append(conn)
            with conn, contextlib.suppress(OSError):
                script(conn, len(connections))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", connections
    finally:
        for conn in [listener, *connections]:  # wakes accept() and recv() at once
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(timeout=5)
        assert not thread.is_alive()


def client(endpoint: str, *, read_timeout: float = 2.0) -> DirectDynamoDB:
    return DirectDynamoDB(
        region="us-east-1",
        endpoint=endpoint,
        environ={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"},
        connect_timeout=1.0,
        read_timeout=read_timeout,
        total_attempts=1,
    )


def keep_alive(answer: bytes) -> Script:
    def script(conn: socket.socket, _number: int) -> None:
        while _read_request(conn):
            conn.sendall(answer)

    return script


@pytest.mark.parametrize(
    "answer",
    [
        OK,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;x=y\r\n{\r\n1\r\n}\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n" + OK,
    ],
)
def test_kept_alive_connections_are_reused(answer):
    with raw_server(keep_alive(answer)) as (endpoint, connections):
        dynamo = client(endpoint)
        for _ in range(3):
            assert dynamo.call("GetItem", {}) == {}
    assert len(connections) == 1


def test_an_answer_that_closes_the_connection_is_not_reused():
    def script(conn: socket.socket, _number: int) -> None:
        _read_request(conn)
        conn.sendall(b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"Item": {}}')

    with raw_server(script) as (endpoint, connections):
        dynamo = client(endpoint)
        assert dynamo.call("GetItem", {}) == {"Item": {}}
        assert dynamo.call("GetItem", {}) == {"Item": {}}
    assert len(connections) == 2


def test_a_kept_alive_connection_the_server_dropped_is_replaced_without_an_attempt():
    def script(conn: socket.socket, number: int) -> None:
        if number == 1:
            _read_request(conn)
            conn.sendall(OK)
            _read_request(conn)  # the second request arrives; the server hangs up unanswered
            return
        keep_alive(OK)(conn, number)

    with raw_server(script) as (endpoint, connections):
        dynamo = client(endpoint)  # one attempt only: the replacement must not count as one
        assert dynamo.call("GetItem", {}) == {}
        assert dynamo.call("GetItem", {}) == {}
    assert len(connections) == 2


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnope\r\n",
        b"",
    ],
)
def test_a_malformed_or_cut_answer_is_a_connection_error(answer):
    def script(conn: socket.socket, _number: int) -> None:
        _read_request(conn)
        conn.sendall(answer)
        conn.shutdown(socket.SHUT_WR)

    with (
        raw_server(script) as (endpoint, _),
        pytest.raises(
            DynamoDBConnectionError,
            match="Connection was closed before we received a valid response",
        ),
    ):
        client(endpoint).call("GetItem", {})


def test_a_server_that_does_not_answer_in_time_is_a_timeout():
    answered = threading.Event()

    def script(conn: socket.socket, _number: int) -> None:
        _read_request(conn)
        answered.wait(5)

    with raw_server(script) as (endpoint, _):
        try:
            with pytest.raises(DynamoDBTimeoutError, match="Read timeout on endpoint URL"):
                client(endpoint, read_timeout=0.2).call("GetItem", {})
        finally:
            answered.set()


def test_an_error_answer_is_read_as_a_service_error():
    body = b'{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}'
    answer = b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    with (
        raw_server(keep_alive(answer)) as (endpoint, _),
        pytest.raises(DynamoDBServiceError, match=r"\(ResourceNotFoundException\)"),
    ):
        client(endpoint).call("GetItem", {})


def test_the_direct_client_loads_ssl_but_not_http_client_or_email():
    """The reason this transport exists: http.client would bring the email package along."""
    script = (
        "import sys, skill.store_dynamodb\n"
        "print(' '.join(m for m in ('ssl', 'http.client', 'email.parser') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split() == ["ssl"]
