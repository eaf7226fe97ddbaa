"""Real ``rls-coach serve`` processes and real HTTP conversations with them, plus an oracle.

``Served`` starts the production command on a free port of 127.0.0.1 (read from its own "serving
the skill on …" line), drains its log in the background, and can be stopped politely or killed
with SIGKILL. ``HttpUser`` talks to it like tests.support.Conversation does in process, keeping
every request the server acknowledged. ``expected_records`` replays acknowledged requests through
the skill in process, one user at a time, giving the record each user should have: the oracle
the concurrency and crash tests compare the server's store against.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.settings import Settings
from skill.stores import MemoryAdapter
from tests.support import (
    Reply,
    envelope,
    intent_request,
    invoke,
    launch_request,
    session_ended_request,
    slot_json,
)
from webhook.app import HEALTH_PROBE_USER

HOST = "127.0.0.1"
# Safety nets, not performance assertions: a server that never starts, or a request that never
# returns, fails the test instead of hanging the suite.
START_LIMIT_S = 60.0
REQUEST_LIMIT_S = 30.0
LISTENING = re.compile(r"serving the skill on http://127\.0\.0\.1:(\d+)/alexa")
SERVER_SETTINGS = Settings(store_url="memory://", verify=False, default_timezone="UTC")
START = dt.datetime(
    2026, 11, 2, 13, 0, tzinfo=dt.UTC
)  # a Monday afternoon in UTC, the servers' zone
# What the skill says when a turn failed inside it or the store failed: never acceptable here.
APOLOGIES = tuple(
    " ".join(phrase.split())
    for key in ("common.error", "common.store_error")
    for phrase in default_catalog().phrases(key)
)
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    """One ``rls-coach serve`` process."""

    store_url: str
    threads: int = 8
    env: dict[str, str] = field(default_factory=dict)
    # Start the server unable to override file permissions, as an ordinary service user is, even
    # when the tests run as root (whose privileges would make a read-only file writable).
    restricted: bool = False
    port: int = 0
    lines: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None
    _drain: threading.Thread | None = None

    def start(self) -> Served:
        command = [sys.executable, "-m", "skill.cli", "serve", "--host", HOST, "--port", "0"]
        command += ["--store", self.store_url, "--no-verify", "--threads", str(self.threads)]
        env = {**os.environ, "RLS_COACH_TIMEZONE": "UTC", "RLS_COACH_LOG_LEVEL": "INFO"}
        env.pop("RLS_COACH_STORE", None)
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**env, **self.env},
            cwd=REPO,
            preexec_fn=_without_permission_overrides if self.restricted else None,  # noqa: PLW1509
        )
        found = threading.Event()

        def drain(stream: Any) -> None:
            for line in stream:
                self.lines.append(line.rstrip("\n"))
                match = LISTENING.search(line)
                if match and not found.is_set():
                    self.port = int(match[1])
                    found.set()

        self._drain = threading.Thread(target=drain, args=(self.process.stdout,), daemon=True)
        self._drain.start()
        deadline = time.monotonic() + START_LIMIT_S
        while not found.wait(0.05):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("rls-coach serve did not start:\n" + self.log())
        return self

    def log(self) -> str:
        return "\n".join(self.lines[-40:])

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill9(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=REQUEST_LIMIT_S)
        self._close_log()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=REQUEST_LIMIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=REQUEST_LIMIT_S)
        self._close_log()

    def _close_log(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=REQUEST_LIMIT_S)  # the pipe ends when the process does
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def get(self, path: str) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_LIMIT_S)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


# Linux capabilities that let root ignore file permissions; dropped from the bounding set before
# exec, the server process cannot regain them.
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER = 1, 2, 3
_PR_CAPBSET_DROP = 24


def _without_permission_overrides() -> None:
    if os.geteuid() != 0:
        return  # an ordinary user has none of these to drop
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH, _CAP_FOWNER):
        if libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@contextlib.contextmanager
def serving(store_url: str, **kwargs: Any) -> Iterator[Served]:
    server = Served(store_url, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


class TurnFailedError(AssertionError):
    """The server did not answer a turn with a 200 and a response envelope."""


@dataclass
class HttpUser:
    """One user talking to a server over HTTP, one turn at a time (as a person does).

    ``acknowledged`` keeps each request body the server answered with a 200, in order.
    """

    port: int
    user_id: str
    now: dt.datetime
    device_id: str = "amzn1.ask.device.LIVE"
    session_attributes: dict[str, Any] = field(default_factory=dict)
    in_session: bool = False
    session_number: int = 0
    acknowledged: list[bytes] = field(default_factory=list)
    in_flight: bytes | None = None  # sent, not (yet) answered
    latencies_ms: list[float] = field(default_factory=list)
    allow_apology: bool = False  # store-fault tests expect one
    last: Reply | None = None
    _connection: http.client.HTTPConnection | None = None

    def _post(self, request: dict[str, Any]) -> Reply:
        if not self.in_session:
            self.session_number += 1
            self.session_attributes = {}
        body = json.dumps(
            envelope(
                request,
                user_id=self.user_id,
                device_id=self.device_id,
                session_attributes=self.session_attributes,
                new_session=not self.in_session,
                session_id=f"amzn1.echo-api.session.{self.user_id}.{self.device_id}."
                f"{self.session_number}",
            )
        ).encode()
        if self._connection is None:
            self._connection = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_LIMIT_S)
        self.in_flight = body
        began = time.perf_counter()
        try:
            self._connection.request(
                "POST", "/alexa", body=body, headers={"Content-Type": "application/json"}
            )
            response = self._connection.getresponse()
            data = response.read()
            self.latencies_ms.append((time.perf_counter() - began) * 1000)
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.status != 200:
            raise TurnFailedError(f"HTTP {response.status}: {data[:300]!r}")
        answer = json.loads(data)
        if not isinstance(answer.get("response"), dict):
            raise TurnFailedError(f"not a response envelope: {data[:300]!r}")
        reply = Reply(answer)
        if not self.allow_apology and any(apology in reply.text for apology in APOLOGIES):
            raise TurnFailedError(f"the skill apologised: {reply.text}")
        self.acknowledged.append(body)
        self.in_flight = None
        self.session_attributes = answer.get("sessionAttributes") or {}
        self.in_session = not reply.ends_session
        self.last = reply
        return reply

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def launch(self) -> Reply:
        self.in_session = False
        return self._post(launch_request(self.now))

    def intent(self, name: str, **slots: tuple[str, str] | str) -> Reply:
        slot_map = {
            key: slot_json(key, *value) if isinstance(value, tuple) else slot_json(key, value)
            for key, value in slots.items()
        }
        return self._post(intent_request(name, self.now, slot_map))

    def end_session(self) -> None:
        if self.in_session:
            self._post(session_ended_request(self.now))
        self.in_session = False

    def wait(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def routine_visit(user: HttpUser, nexts: int) -> None:
    """Launch, start the morning stretches, go on ``nexts`` times, stop."""
    user.launch()
    user.intent("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    for _ in range(nexts):
        if not user.in_session:
            break
        user.intent("AMAZON.NextIntent")
    if user.in_session:
        user.intent("AMAZON.StopIntent")


def finish_routine(user: HttpUser, limit: int = 200) -> None:
    """Launch, start the morning stretches and say "next" until the routine is over; "no" to the
    reminder offer that a first finished routine ends with."""
    user.launch()
    reply = user.intent("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    for _ in range(limit):
        if not user.in_session:
            return
        if "remind you tomorrow" in reply.text:
            reply = user.intent("AMAZON.NoIntent")
        else:
            reply = user.intent("AMAZON.NextIntent")
    raise AssertionError(f"the routine did not end within {limit} turns")


class Oracle:
    """The skill in process, used to work out what a user's record should be after given
    requests. A turn's effect depends only on the stored record and the request, so records can be
    advanced a few requests at a time."""

    def __init__(self) -> None:
        self.store = MemoryAdapter()
        self.skill = build_skill(default_catalog(), self.store, SERVER_SETTINGS)

    def after(
        self, user_id: str, record: dict[str, Any], bodies: Iterable[bytes]
    ) -> dict[str, Any]:
        """The record ``user_id`` has after ``bodies``, starting from ``record``."""
        key = for_user(user_id)
        self.store.delete_attributes(key)
        if record:
            self.store.save_attributes(key, record)
        for body in bodies:
            invoke(self.skill, json.loads(body))
        return self.store.get_attributes(key)


def expected_records(bodies_by_user: dict[str, Sequence[bytes]]) -> dict[str, dict[str, Any]]:
    """What each user's record should be after these acknowledged requests, replayed in order
    through the skill in process (a fresh memory store, the server's settings)."""
    oracle = Oracle()
    return {user: oracle.after(user, {}, bodies) for user, bodies in bodies_by_user.items()}


def for_user(user_id: str) -> RequestEnvelope:
    return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))


def stored_records(path: Path) -> dict[str, dict[str, Any]]:
    """Every user's record in a SQLite store file, read directly (every row must be a JSON
    object); the health check's probe record is not a user's."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute("SELECT user_key, record FROM user_state").fetchall()
    finally:
        connection.close()
    records = {}
    for key, text in rows:
        if key == HEALTH_PROBE_USER:
            continue
        record = json.loads(text)
        assert isinstance(record, dict), f"{key}: {text[:200]}"
        records[key] = record
    return records


def run_threads(targets: Iterable[Any]) -> list[BaseException]:
    """Run callables on their own threads; return what they raised."""
    failures: list[BaseException] = []
    lock = threading.Lock()

    def guarded(target: Any) -> None:
        try:
            target()
        except BaseException as exc:
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return failures


@dataclass(frozen=True)
class UserPlan:
    """What one simulated user does: finish the morning routine on ``day``, then come back the
    next day and stop part-way (so both completions and progress end up stored)."""

    user_id: str
    ports: tuple[int, ...]  # the servers to talk to, one turn each in turn
    day: int = 0
    device_id: str = "amzn1.ask.device.LIVE"


def play_plan(plan: UserPlan) -> tuple[str, list[bytes]]:
    """Run a UserPlan; returns the user id and the acknowledged request bodies. Importable, so a
    worker process can run it too."""
    start = START + dt.timedelta(days=plan.day)
    user = RoundRobinUser(
        port=plan.ports[0], user_id=plan.user_id, now=start, device_id=plan.device_id
    )
    user.ports = plan.ports
    try:
        finish_routine(user)
        user.wait(days=1)
        routine_visit(user, nexts=2)
    finally:
        user.close()
    return plan.user_id, user.acknowledged


@dataclass
class RoundRobinUser(HttpUser):
    """An HttpUser whose turns go to each of several servers in turn (one process per turn)."""

    ports: tuple[int, ...] = ()
    _turn: int = 0

    def _post(self, request: dict[str, Any]) -> Reply:
        if len(self.ports) > 1:
            self.close()
            self.port = self.ports[self._turn % len(self.ports)]
            self._turn += 1
        return super()._post(request)
