"""The Alexa API stand-in (coach_dev/alexa_standin.py) served over real HTTPS on 127.0.0.1, in a
thread: the same answers ``rls-coach say`` and ``chat`` get in process, for tests whose skill calls
the Alexa APIs over the network (the webhook process, the API client itself).

On top of the stand-in, a test can make the APIs misbehave: ``status``, ``body``, ``delay``,
``content_type`` and ``extra_headers`` replace the time-zone answer; ``reminder_fault`` makes every
Reminders call answer that status and error code (the API's ``{"code": ..., "message": ...}``);
``reminder_delay`` holds Reminders answers back, and ``create_answer_delay`` holds back only a
create's answer, after the reminder is made (an answer that comes too late).

The SDK's API client (and so the skill's) refuses plain HTTP, so the server speaks TLS with a
certificate from a CA made here. Tests make the skill's client trust that CA through
``SSL_CERT_FILE`` (which ``ssl.create_default_context()`` reads), so it is used exactly as built,
and the SDK's own client through ``REQUESTS_CA_BUNDLE``, the variable requests reads.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from coach_dev.alexa_standin import (
    REMINDERS_PATH,
    ZONE_PATH,  # noqa: F401 - the tests import it from here
    AlexaApiStandIn,
    Answer,
    error,
)
from tests.pki import key_pem, make_leaf, make_root, pem


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path
    key: Path


def make_tls_files(folder: Path) -> TlsFiles:
    """A CA and a server certificate for 127.0.0.1 signed by it (from the same test PKI as the
    verification tests), written as PEM files for the server and the client's trust store."""
    now = dt.datetime.now(dt.UTC)
    ca = make_root("alexa-api", now)
    cert, key = make_leaf(
        ca,
        not_before=now - dt.timedelta(minutes=5),
        not_after=now + dt.timedelta(days=1),
        dns_names=("localhost",),
        ip_addresses=("127.0.0.1",),
        label="alexa-api-server",
    )
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    files.ca.write_bytes(pem(ca.certificate))
    files.cert.write_bytes(pem(cert))
    files.key.write_bytes(key_pem(key))
    return files


# BaseHTTPRequestHandler dates every answer; a fixed date makes two answers comparable.
ANSWER_DATE = "Tue, 17 Nov 2026 08:15:00 GMT"


@dataclass
class SeenRequest:
    path: str
    authorization: str | None
    method: str = "GET"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


@dataclass
class FakeAlexaApi:
    """The stand-in's answers over HTTPS: the time zone ``zone``, and reminders kept in
    ``reminders`` (alertToken → the stored reminder, tokens ``amzn1.alert.test-1``, -2, …).
    ``status`` (e.g. 403), ``body``, ``delay``, ``content_type`` and ``extra_headers``, when
    given, replace or add to the time-zone answer; ``reminder_fault`` and ``reminder_delay`` do
    the same for every Reminders call."""

    tls: TlsFiles
    zone: str = "Asia/Tokyo"
    status: int = 200
    delay: float = 0.0
    body: bytes | None = None
    content_type: str = "application/json"
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    seen: list[SeenRequest] = field(default_factory=list)
    reminders: dict[str, dict] = field(default_factory=dict)  # alertToken → the stored reminder
    reminder_fault: tuple[int, str] | None = None  # (status, error code) for every reminders call
    reminder_delay: float = 0.0
    # Seconds a create waits before answering, after the reminder is made: a late answer.
    create_answer_delay: float = 0.0

    def reminder_updates(self) -> list[dict]:
        """The JSON bodies the skill PUT to change reminders, in order."""
        return [
            json.loads(r.body)
            for r in self.seen
            if r.method == "PUT" and r.path.startswith(REMINDERS_PATH + "/")
        ]

    def reminder_bodies(self) -> list[dict]:
        """The JSON bodies the skill POSTed to create reminders, in order."""
        return [
            json.loads(r.body) for r in self.seen if r.method == "POST" and r.path == REMINDERS_PATH
        ]

    def _answer(self, seen: SeenRequest) -> Answer:
        """The stand-in's answer, unless the test asked for a fault."""
        if seen.path.startswith(REMINDERS_PATH):
            if self.reminder_delay:
                self._release.wait(self.reminder_delay)
            if self.reminder_fault is not None:
                return error(*self.reminder_fault, "as the test asked")
        elif self.status != 200:
            return Answer(self.status, {"type": "FORBIDDEN", "message": "no access"})
        try:
            body = json.loads(seen.body) if seen.body else None
        except ValueError:
            body = seen.body.decode("utf-8", "replace")
        self.standin.zone = self.zone
        answer = self.standin.answer(seen.method, seen.path, seen.headers, body)
        if seen.method == "POST" and seen.path == REMINDERS_PATH and self.create_answer_delay:
            self._release.wait(self.create_answer_delay)  # made, but answered too late
        return answer

    def __post_init__(self) -> None:
        self._release = threading.Event()
        self.standin = AlexaApiStandIn(
            zone=self.zone, reminders=self.reminders, token_prefix="amzn1.alert.test-"
        )
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = SeenRequest(
                    self.path,
                    self.headers.get("Authorization"),
                    self.command,
                    list(self.headers.items()),
                    self.rfile.read(length),
                )
                api.seen.append(seen)
                if api.delay:
                    api._release.wait(api.delay)
                answer = api._answer(seen)
                is_zone = not seen.path.startswith(REMINDERS_PATH)
                body = api.body if is_zone and api.body is not None else answer.text().encode()
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", api.content_type)
                    for name, value in api.extra_headers:
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up waiting, as the timeout test intends

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET  # noqa: N815 - http.server names

            def date_time_string(self, timestamp: float | None = None) -> str:
                return ANSWER_DATE

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.tls.cert, self.tls.key)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        # A short poll so that shutdown() at the end of a test returns promptly.
        serve = functools.partial(self._server.serve_forever, poll_interval=0.02)
        self._thread = threading.Thread(target=serve, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"

    def __enter__(self) -> FakeAlexaApi:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
