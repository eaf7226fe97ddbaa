"""DynamoDB (or something in its place) answering with far more than an item can hold: the
answer is refused while it is read, not after 50 MB of it sit in memory."""

from __future__ import annotations

import contextlib
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from skill.builder import build_skill
from skill.stores import open_store
from skill.stores.dynamodb import ENDPOINT_VARIABLE
from tests.lambda_support import FAKE_CREDENTIALS, REGION
from tests.support import Conversation

STORE_ERROR = "couldn't reach your saved progress"
ANSWER_BYTES = 50 * 1024 * 1024


@dataclass
class FloodingDynamoDB:
    """Answers every call with 200 and an endless JSON body, with or without a length."""

    declare_length: bool
    sent: list[int] = field(default_factory=list)

    def serve(self, connection) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            request += connection.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
        if self.declare_length:
            head += f"Content-Length: {ANSWER_BYTES}\r\n".encode()
        head += b"Connection: close\r\n\r\n"
        connection.sendall(head + b'{"Item":{"padding":{"S":"')
        self.sent.append(0)
        block = b"x" * 65536
        for _ in range(ANSWER_BYTES // len(block)):
            connection.sendall(block)
            self.sent[-1] += len(block)


@pytest.fixture(params=[False, True], ids=["streamed", "declared-length"])
def flooding(request, monkeypatch) -> Iterator[FloodingDynamoDB]:
    fake = FloodingDynamoDB(declare_length=request.param)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with contextlib.suppress(OSError):  # the client hung up: what the test wants
                fake.serve(self.request)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv(ENDPOINT_VARIABLE, f"http://127.0.0.1:{server.server_address[1]}")
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_a_50_mb_answer_is_refused_while_it_is_read(
    flooding, catalog, settings, morning, caplog, report_line
):
    skill = build_skill(catalog, open_store("dynamodb://users"), settings)
    reply = Conversation(skill=skill, now=morning).launch()
    assert STORE_ERROR in reply.text
    assert "more than an item can ever need" in caplog.text
    sent = max(flooding.sent, default=0)
    kind = "with its length declared" if flooding.declare_length else "streamed"
    report_line(f"a 50 MB DynamoDB answer ({kind}): refused after {sent / 2**20:.1f} MB sent")
    # Refused after about a megabyte (plus what the sockets buffer), not 50.
    assert flooding.sent == [] or max(flooding.sent) < 8 * 1024 * 1024, flooding.sent
