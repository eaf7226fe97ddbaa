"""An HTTPS server on 127.0.0.1 that answers every request badly in one chosen way, counting
what it sent: it drips its headers or its body a byte at a time, or sends an endless body.

It stands for an Alexa API (Settings, Reminders) gone wrong, with the test CA of the Alexa API
stand-in (``alexa_api_tls``), so the skill's own client reaches it exactly as it reaches Alexa.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"


@dataclass
class MisbehavingApi:
    """``mode``: "drip-headers", "drip-body" (a byte every ``interval`` seconds, ``drip_bytes``
    of them), "endless-body" (``endless_bytes`` sent as fast as the client reads) or
    "long-token" (every call answered at once, as a created reminder with a 5,004-character
    token)."""

    tls: Any
    mode: str
    interval: float = 0.5
    drip_bytes: int = 60
    endless_bytes: int = 50 * 1024 * 1024
    sent: list[int] = field(default_factory=list)  # bytes sent, per connection
    requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> MisbehavingApi:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert, self.tls.key)
        api = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    with context.wrap_socket(self.request, server_side=True) as tls:
                        api.serve(tls)
                except (OSError, ssl.SSLError):
                    pass  # the client gave up, as it should

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def endpoint(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, tls: socket.socket) -> None:
        tls.settimeout(30)
        while self.serve_one(tls) and self.mode == "long-token":
            pass  # answers at once: the client may send its next request on this connection

    def serve_one(self, tls: socket.socket) -> bool:
        request = b""
        while b"\r\n\r\n" not in request:
            data = tls.recv(65536)
            if not data:
                return False
            request += data
        head, _, rest = request.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(rest) < length:
            rest += tls.recv(65536)
        with self._lock:
            self.requests += 1
            self.sent.append(0)
            index = len(self.sent) - 1

        def send(data: bytes) -> None:
            tls.sendall(data)
            with self._lock:
                self.sent[index] += len(data)

        if self.mode == "drip-headers":
            for byte in (HEADERS * 100)[: self.drip_bytes]:
                send(bytes([byte]))
                time.sleep(self.interval)
        elif self.mode == "drip-body":
            send(HEADERS + b"\r\n")
            for byte in b'"' + b"A" * self.drip_bytes:
                send(bytes([byte]))
                time.sleep(self.interval)
        elif self.mode == "endless-body":
            send(HEADERS + b"\r\n" + b'"')
            block = b"A" * 65536
            for _ in range(self.endless_bytes // len(block)):
                send(block)
        elif self.mode == "long-token":
            body = json.dumps(
                {
                    "alertToken": "amzn1.alert." + "x" * 4992,
                    "createdTime": "2026-11-17T13:15:00.000Z",
                    "updatedTime": "2026-11-17T13:15:00.000Z",
                    "status": "ON",
                    "version": "1",
                }
            ).encode()
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            send(head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        else:
            raise ValueError(self.mode)
        return True
