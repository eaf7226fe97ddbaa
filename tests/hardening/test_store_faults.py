"""Store faults under a real ``rls-coach serve``: the user hears an apology, the server stays up,
nothing stored is lost, and the skill recovers by itself once the store does.

- SQLite file read-only (the server runs unable to override file permissions, as a service user).
- SQLite file locked by another process for longer than the server will wait.
- DynamoDB endpoint down (a proxy in front of moto's DynamoDB server drops every connection).
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.hardening.live import START, HttpUser, serving, stored_records
from tests.lambda_support import FAKE_CREDENTIALS, REGION, create_users_table, moto_dynamodb
from tests.lambda_support import dynamodb as dynamodb_resource

pytestmark = pytest.mark.slow

SORRY = "couldn't reach your saved progress"


def start_and_step(user: HttpUser) -> None:
    user.launch()
    user.intent("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    user.intent("AMAZON.NextIntent")


def changing_turn(user: HttpUser) -> Any:
    """A turn that must save: "next" in the middle of the routine moves the user's place."""
    assert user.in_session
    return user.intent("AMAZON.NextIntent")


def test_a_read_only_store_is_apologised_for_and_recovers(tmp_path):
    folder = tmp_path / "store"
    path = folder / "rls-coach.sqlite3"
    url = f"sqlite:///{path}"
    user = HttpUser(0, "amzn1.ask.account.read-only", START, allow_apology=True)
    with serving(url) as server:
        user.port = server.port
        start_and_step(user)
        user.close()
    before = stored_records(path)
    assert before[user.user_id]["progress"] is not None

    files = [folder, *folder.iterdir()]
    for item in files:
        item.chmod(0o555 if item.is_dir() else 0o444)
    try:
        with serving(url, restricted=True) as server:
            user.port = server.port
            user.wait(minutes=5)
            reply = changing_turn(user)
            assert SORRY in reply.text
            assert server.running, server.log()
            assert stored_records(path) == before  # nothing lost, nothing half-written

            for item in files:
                item.chmod(0o755 if item.is_dir() else 0o644)
            user.wait(minutes=1)
            reply = changing_turn(user)
            assert SORRY not in reply.text
            assert server.get("/healthz")[0] == 200
            user.close()
    finally:
        for item in files:
            item.chmod(0o755 if item.is_dir() else 0o644)
    after = stored_records(path)[user.user_id]
    assert after["progress"] != before[user.user_id]["progress"]  # the recovered turn saved
    assert after["disclaimer_heard"] is True


def test_a_locked_store_is_apologised_for_and_recovers(tmp_path):
    path = tmp_path / "rls-coach.sqlite3"
    user = HttpUser(0, "amzn1.ask.account.locked", START, allow_apology=True)
    with serving(f"sqlite:///{path}") as server:
        user.port = server.port
        start_and_step(user)
        before = stored_records(path)
        # Another process takes the write lock and keeps it past the server's busy timeout.
        blocker = sqlite3.connect(path, isolation_level=None)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            user.wait(minutes=5)
            reply = changing_turn(user)
            assert SORRY in reply.text
            # Reads go on (WAL lets readers past) but no save can: not healthy.
            assert server.get("/healthz")[0] == 503
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert stored_records(path) == before
        reply = changing_turn(user)
        assert SORRY not in reply.text
        user.close()
    assert stored_records(path)[user.user_id]["progress"] != before[user.user_id]["progress"]


@contextlib.contextmanager
def switchable_proxy(upstream: str) -> Iterator[dict[str, Any]]:
    """An HTTP proxy to ``upstream``; while ``state["down"]`` it drops every connection unanswered,
    as an unreachable endpoint does."""
    state: dict[str, Any] = {"down": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if state["down"]:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            connection = http.client.HTTPConnection(upstream.removeprefix("http://"), timeout=10)
            try:
                connection.request("POST", self.path, body, dict(self.headers.items()))
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for name, value in answer.getheaders():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_dynamodb_outage_is_apologised_for_and_recovers():
    with moto_dynamodb() as endpoint, switchable_proxy(endpoint) as proxy:
        table = create_users_table(endpoint)
        env = {
            **FAKE_CREDENTIALS,
            "AWS_REGION": REGION,
            "RLS_COACH_DYNAMODB_ENDPOINT": proxy["url"],
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        user = HttpUser(0, "amzn1.ask.account.outage", START, allow_apology=True)

        def stored() -> dict[str, Any]:
            items = dynamodb_resource(endpoint).Table(table).scan()["Items"]
            return {item["id"]: item["attributes"] for item in items}

        with serving(f"dynamodb://{table}", env=env) as server:
            user.port = server.port
            start_and_step(user)
            before = stored()
            assert before[user.user_id]["progress"] is not None

            proxy["down"] = True
            user.wait(minutes=5)
            reply = changing_turn(user)
            assert SORRY in reply.text
            assert server.get("/healthz")[0] == 503  # says so to a load balancer
            assert server.running, server.log()
            assert stored() == before

            proxy["down"] = False
            user.wait(minutes=1)
            reply = changing_turn(user)
            assert SORRY not in reply.text
            assert server.get("/healthz")[0] == 200
            user.close()
        after = stored()[user.user_id]
        assert after["progress"] != before[user.user_id]["progress"]
