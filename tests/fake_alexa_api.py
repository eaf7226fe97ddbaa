"""A small stand-in for the Alexa Settings API and Reminders API: a real HTTPS server on
127.0.0.1, in a thread.

Reminders (``/v1/alerts/reminders``) are kept in memory: POST creates one (answering its
``alertToken``), GET lists them all, PUT on a token replaces that reminder (its update), DELETE
removes one (404 if unknown). ``reminder_fault`` makes every reminders call answer that status and
error code instead, as the API documents its errors (``{"code": ..., "message": ...}``);
``reminder_delay`` holds those answers back, and ``create_answer_delay`` holds back only a
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

from tests.pki import key_pem, make_leaf, make_root, pem

ZONE_PATH = "/v2/devices/{device_id}/settings/System.timeZone"
REMINDERS_PATH = "/v1/alerts/reminders"


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
    """Answers the time-zone request with ``zone`` (200), ``status`` (e.g. 403), or, with
    ``delay``, only after that many seconds (or when the test ends). ``body``, ``content_type``
    and ``extra_headers``, when given, replace or add to what is answered; any method is
    answered alike."""

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

    def reminder_bodies(self) -> list[dict]:
        """The JSON bodies the skill POSTed to create reminders, in order."""
        return [
            json.loads(r.body) for r in self.seen if r.method == "POST" and r.path == REMINDERS_PATH
        ]

    def answer_reminders(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self.reminder_delay:
            self._release.wait(self.reminder_delay)
        if self.reminder_fault is not None:
            status, code = self.reminder_fault
            return status, json.dumps({"code": code, "message": "as the test asked"}).encode()
        token = path[len(REMINDERS_PATH) :].strip("/")
        if method == "POST" and not token:
            token = f"amzn1.alert.test-{len(self.reminders) + 1}"
            stored = {
                **json.loads(body),
                "alertToken": token,
                "createdTime": "2026-11-17T13:15:00.000Z",
                "updatedTime": "2026-11-17T13:15:00.000Z",
                "status": "ON",
                "version": "1",
            }
            self.reminders[token] = stored
            self.answer_late()
            answer = {k: stored[k] for k in ("alertToken", "createdTime", "updatedTime")}
            return 200, json.dumps({**answer, "status": "ON", "version": "1"}).encode()
        if method == "GET" and not token:
            alerts = list(self.reminders.values())
            return 200, json.dumps({"totalCount": len(alerts), "alerts": alerts}).encode()
        if method == "PUT" and token in self.reminders:
            return self.update_reminder(token, body)
        if method == "DELETE" and token in self.reminders:
            del self.reminders[token]
            return 200, b""
        return 404, json.dumps({"code": "NOT_FOUND", "message": "no such reminder"}).encode()

    def answer_late(self) -> None:
        """Hold a create's answer back ``create_answer_delay`` seconds (the reminder is made)."""
        if self.create_answer_delay:
            self._release.wait(self.create_answer_delay)

    def update_reminder(self, token: str, body: bytes) -> tuple[int, bytes]:
        """PUT /v1/alerts/reminders/{token}: the reminder becomes what was sent, same token."""
        stored = {
            **self.reminders[token],
            **json.loads(body),
            "updatedTime": "2026-11-17T13:16:00.000Z",
            "version": str(int(self.reminders[token].get("version", "1")) + 1),
        }
        self.reminders[token] = stored
        answer = {k: stored[k] for k in ("alertToken", "createdTime", "updatedTime", "version")}
        return 200, json.dumps({**answer, "status": "ON"}).encode()

    def reminder_updates(self) -> list[dict]:
        """The JSON bodies the skill PUT to change reminders, in order."""
        return [
            json.loads(r.body)
            for r in self.seen
            if r.method == "PUT" and r.path.startswith(REMINDERS_PATH + "/")
        ]

    def __post_init__(self) -> None:
        self._release = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.seen.append(
                    SeenRequest(
                        self.path,
                        self.headers.get("Authorization"),
                        self.command,
                        list(self.headers.items()),
                        self.rfile.read(length),
                    )
                )
                if api.delay:
                    api._release.wait(api.delay)
                status = api.status
                if self.path.startswith(REMINDERS_PATH):
                    status, body = api.answer_reminders(self.command, self.path, api.seen[-1].body)
                elif api.body is not None:
                    body = api.body
                elif api.status == 200:
                    body = json.dumps(api.zone).encode()
                else:
                    body = json.dumps({"type": "FORBIDDEN", "message": "no access"}).encode()
                try:
                    self.send_response(status)
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
