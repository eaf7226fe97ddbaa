"""``rls-coach serve`` as a real process on a free port of 127.0.0.1, spoken to over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import http.client
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support import SKILL_ID, Reply, envelope, launch_request
from webhook.app import MAX_BODY_BYTES, hash_user_id

pytestmark = pytest.mark.slow

# How long to wait for the server to say where it listens. Not a performance assertion: a
# safety net so a server that never starts fails the test instead of hanging the suite.
STARTUP_LIMIT_SECONDS = 60
LISTENING = re.compile(r"serving the skill on http://127\.0\.0\.1:(\d+)/alexa")


@dataclass
class Server:
    process: subprocess.Popen[str]
    port: int = 0
    lines: list[str] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post_json(self, body: dict[str, Any], headers: dict | None = None) -> tuple[int, Any]:
        status, _, data = self.request(
            "POST",
            "/alexa",
            json.dumps(body).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )
        return status, json.loads(data)


def _environment(**overrides: str) -> dict[str, str]:
    """The test's own environment, minus any RLS_COACH_* the developer has set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLS_COACH_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides)
    return env


@contextlib.contextmanager
def running(*args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """The server process, stopped (SIGTERM, then kill) and its log collected on exit."""
    command = [sys.executable, "-m", "skill.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        [*command, *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env or _environment(),
    )
    server = Server(process)
    lines: queue.Queue[str | None] = queue.Queue()

    def read_log() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read_log, daemon=True)
    reader.start()
    try:
        while not server.port:
            line = lines.get(timeout=STARTUP_LIMIT_SECONDS)
            if line is None:
                raise AssertionError(
                    "the server exited before listening:\n" + "".join(server.lines)
                )
            server.lines.append(line)
            if match := LISTENING.search(line):
                server.port = int(match[1])
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=30)
        while (line := _drain(lines)) is not None:
            server.lines.append(line)
        if process.stderr is not None:
            process.stderr.close()


def _drain(lines: queue.Queue[str | None]) -> str | None:
    try:
        return lines.get_nowait()
    except queue.Empty:
        return None


def _launch(user_id: str = "amzn1.ask.account.PROCESS-TEST-USER") -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return envelope(launch_request(now), new_session=True, user_id=user_id)


@pytest.fixture(scope="module")
def open_server() -> Iterator[Server]:
    with running("--store", "memory://", "--no-verify") as server:
        yield server


@pytest.fixture(scope="module")
def guarded_server() -> Iterator[Server]:
    with running("--store", "memory://", env=_environment(RLS_COACH_SKILL_ID=SKILL_ID)) as server:
        yield server


def test_health_over_http(open_server):
    status, headers, data = open_server.request("GET", "/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(data)["status"] == "ok"


def test_a_launch_over_http_with_verification_off(open_server):
    user = "amzn1.ask.account.PROCESS-TEST-USER"
    status, body = open_server.post_json(_launch(user))
    assert status == 200
    reply = Reply(body)
    assert "not medical advice" in reply.text and not reply.ends_session
    assert any("verification is OFF" in line for line in open_server.lines)


def test_oversized_bodies_are_413_json_with_and_without_content_length(open_server):
    big = b'{"padding": "' + b"x" * (MAX_BODY_BYTES + 1024) + b'"}'
    status, _, data = open_server.request("POST", "/alexa", big)
    assert status == 413
    assert "larger than 128 KiB" in json.loads(data)["error"]

    # Chunked: no Content-Length for the cap to check up front; the server still stops at it.
    def chunks() -> Iterator[bytes]:
        yield from (big[i : i + 8192] for i in range(0, len(big), 8192))

    connection = http.client.HTTPConnection("127.0.0.1", open_server.port, timeout=30)
    try:
        connection.request("POST", "/alexa", body=chunks(), encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert "larger than 128 KiB" in json.loads(response.read())["error"]
    finally:
        connection.close()


def test_non_post_and_garbage_never_get_an_html_page(open_server):
    for method, path, body in [
        ("GET", "/alexa", None),
        ("POST", "/alexa", b"\xff\xfe"),
        ("GET", "/nowhere", None),
    ]:
        status, headers, data = open_server.request(method, path, body)
        assert status in {400, 404, 405}
        assert headers["Content-Type"] == "application/json"
        assert b"<html" not in data.lower() and b"Traceback" not in data


def test_an_unsigned_request_is_rejected_when_verification_is_on(guarded_server):
    status, body = guarded_server.post_json(_launch())
    assert status == 400
    assert body == {"error": "request verification failed: missing SignatureCertChainUrl header"}


def test_a_request_with_a_bad_certificate_url_is_rejected_without_a_fetch(guarded_server):
    signature = base64.b64encode(bytes(256)).decode()  # as long as a 2048-bit RSA signature
    status, body = guarded_server.post_json(
        _launch(),
        {
            "SignatureCertChainUrl": "http://s3.amazonaws.com/echo.api/x.pem",
            "Signature-256": signature,
        },
    )
    assert status == 400
    assert "must use https" in body["error"]


def test_health_says_verification_is_on(guarded_server):
    status, _, data = guarded_server.request("GET", "/healthz")
    assert status == 200 and json.loads(data)["verification"] == "on"


def test_startup_is_refused_with_verification_on_and_no_skill_id():
    result = subprocess.run(
        [sys.executable, "-m", "skill.cli", "serve", "--port", "0", "--store", "memory://"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=STARTUP_LIMIT_SECONDS,
        check=False,
    )
    assert result.returncode == 2
    assert "RLS_COACH_SKILL_ID is not set" in result.stderr
    assert "--no-verify" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unusable_store_url_is_refused_with_a_clear_message():
    result = subprocess.run(
        [sys.executable, "-m", "skill.cli", "serve", "--port", "0", "--no-verify",
         "--store", "postgres://db/coach"],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=STARTUP_LIMIT_SECONDS,
        check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "unknown store URL 'postgres://db/coach'" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_the_server_cleanly_and_its_log_has_one_line_per_request():
    user = "amzn1.ask.account.SIGTERM-USER"
    with running("--store", "memory://", "--no-verify") as server:
        assert server.post_json(_launch(user))[0] == 200
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    log = "".join(server.lines)
    assert "stopped" in log
    request_lines = [line for line in server.lines if "POST /alexa" in line]
    assert len(request_lines) == 1
    assert f"user={hash_user_id(user)}" in request_lines[0]
    assert "type=LaunchRequest" in request_lines[0] and "status=200" in request_lines[0]
    assert user not in log
    assert "Traceback" not in log


LOGGING_BURST = """
import logging, threading
from webhook.serve import configure_logging
configure_logging("INFO", queued=True)
logging.getLogger("waitress.queue").setLevel(logging.DEBUG)
configure_logging("DEBUG", queued=True)  # already configured: changes nothing, as basicConfig
assert logging.getLogger("waitress.queue").level == logging.ERROR  # ...but its own quieting
log = logging.getLogger("burst")
log.debug("not at INFO")
def burst(thread):
    for number in range(500):
        log.info("thread=%d line=%d", thread, number)
threads = [threading.Thread(target=burst, args=(thread,)) for thread in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
log.info("last line")
"""


def test_every_log_line_is_written_in_order_before_a_clean_exit():
    """The server's threads queue their lines and one thread writes them: a burst from eight
    threads at once, then an exit straight away, still gives every line, each thread's in the
    order it logged them, in the server's format."""
    result = subprocess.run(
        [sys.executable, "-c", LOGGING_BURST],
        capture_output=True,
        text=True,
        env=_environment(),
        timeout=STARTUP_LIMIT_SECONDS,
        check=True,
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 8 * 500 + 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\d [\d:,]+ INFO burst: last line", lines[-1])
    for thread in range(8):
        numbers = [int(line.rsplit("line=", 1)[1]) for line in lines if f"thread={thread} " in line]
        assert numbers == list(range(500))


def test_a_user_id_that_is_not_valid_unicode_is_answered_and_logged():
    """A lone surrogate ("\\ud800") is valid JSON but cannot be encoded as UTF-8: the request is
    still answered below 500, and its line is still logged, with the id hashed."""
    body = json.dumps(_launch(user_id="\ud800")).encode()  # ASCII: the surrogate stays escaped
    with running("--store", "memory://", "--no-verify") as server:
        status, _, data = server.request(
            "POST", "/alexa", body, {"Content-Type": "application/json"}
        )
    assert status < 500, data
    assert json.loads(data)
    [line] = [line for line in server.lines if "POST /alexa" in line]
    assert f"user={hash_user_id(chr(0xD800))}" in line
    assert "Traceback" not in "".join(server.lines)
