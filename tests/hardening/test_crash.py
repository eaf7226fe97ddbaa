"""kill -9 the server while it takes turns; restart it; every acknowledged turn is in the store.

Users talk continuously from several threads; when enough turns have been answered the server is
killed with SIGKILL, mid-traffic. For each user, the store must hold exactly the record that
their acknowledged requests produce (replayed in process), or that plus the one request that was
in flight when the server died (it may have been saved before the answer was lost). The file must
pass SQLite's integrity check, and a server restarted on it must carry on where users left off.
"""

from __future__ import annotations

import datetime as dt
import http.client
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import pytest

from skill.state import state_from_record
from tests.hardening.live import (
    START,
    HttpUser,
    Oracle,
    Served,
    finish_routine,
    routine_visit,
    run_threads,
    stored_records,
)
from tests.hardening.scale import scaled

pytestmark = pytest.mark.slow


def keep_talking(user: HttpUser, stop: threading.Event) -> None:
    """Visits day after day until the server goes away (or the test says stop)."""
    try:
        while not stop.is_set():
            finish_routine(user)
            user.wait(days=1)
            routine_visit(user, nexts=2)
            user.wait(days=1)
    except (OSError, http.client.HTTPException):
        pass  # the server was killed: expected
    finally:
        user.close()


def test_acknowledged_turns_survive_kill_9(tmp_path):
    path = tmp_path / "store.sqlite3"
    url = f"sqlite:///{path}"
    users: dict[str, HttpUser] = {}
    oracle, checked = Oracle(), {}
    for cycle in range(scaled(2, 10)):
        server = Served(url, threads=8).start()
        stop = threading.Event()
        talkers = []
        for n in range(scaled(8, 24)):
            user_id = f"amzn1.ask.account.crash-{n:03d}"
            previous = users.get(user_id)
            user = HttpUser(
                server.port,
                user_id,
                previous.now + dt.timedelta(days=1) if previous else START,
                acknowledged=previous.acknowledged if previous else [],
            )
            users[user_id] = user
            talkers.append(user)
        threads = [
            threading.Thread(target=keep_talking, args=(user, stop), daemon=True)
            for user in talkers
        ]
        for thread in threads:
            thread.start()
        answered_before = sum(len(user.acknowledged) for user in talkers)
        target = answered_before + scaled(60, 400) + 17 * cycle  # vary where the kill lands
        deadline = time.monotonic() + 120
        while sum(len(u.acknowledged) for u in talkers) < target:
            assert time.monotonic() < deadline, server.log()
            assert server.running, server.log()
            time.sleep(0.005)
        server.kill9()
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert_every_acknowledged_turn_is_stored(path, users, oracle, checked)

    # A server restarted on the same file answers, and users carry on from what was stored.
    server = Served(url).start()
    try:
        assert server.get("/healthz")[0] == 200
        failures = run_threads(
            [lambda user=user: resume(user, server.port) for user in list(users.values())[:4]]
        )
        assert not failures, failures[:3]
    finally:
        server.stop()


def resume(user: HttpUser, port: int) -> None:
    user.port = port
    user.in_flight = None
    user.wait(days=1)
    try:
        routine_visit(user, nexts=1)
    finally:
        user.close()


@dataclass
class Checked:
    """How far the oracle has followed one user: their record after ``count`` requests."""

    count: int = 0
    record: dict = field(default_factory=dict)


def assert_every_acknowledged_turn_is_stored(
    path, users: dict[str, HttpUser], oracle: Oracle, checked: dict[str, Checked]
) -> None:
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
    stored = stored_records(path)
    for user_id, user in users.items():
        seen = checked.setdefault(user_id, Checked())
        acknowledged = oracle.after(user_id, seen.record, user.acknowledged[seen.count :])
        allowed = [acknowledged]
        if user.in_flight is not None:
            allowed.append(oracle.after(user_id, acknowledged, [user.in_flight]))
        record = stored.get(user_id, {})
        assert record in allowed, (
            f"{user_id}: stored {record}\nacknowledged turns give {acknowledged}"
        )
        if record:
            assert state_from_record(record).to_record() == record
        # What was stored is what the next turn will read: carry on from it.
        if record != acknowledged:
            user.acknowledged.append(user.in_flight)
        user.in_flight = None
        checked[user_id] = Checked(len(user.acknowledged), record)
