"""In-process turn latency along the webhook's path.

A turn is timed from raw request bytes to response bytes through each side's Flask app itself (its
WSGI callable, without a socket): body read → envelope → skill (with its SQLite store, and on a
session's first turn the Settings API stand-in) → JSON. Verification is off on every side.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bench.turns import Session, TurnSpec

WsgiApp = Callable[..., Iterable[bytes]]
T = TypeVar("T")
# A Tuesday morning in New York: "start routine" starts the morning stretches.
FIXED_NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)


def call_wsgi(
    app: WsgiApp, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """POST ``body`` to ``/alexa`` through the WSGI callable, as a server would hand it over."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/alexa",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []

    def start_response(line: str, _headers: Any, _exc_info: Any = None) -> Callable[..., Any]:
        status.append(line)
        return lambda _data: None

    chunks = app(environ, start_response)
    try:
        out = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return int(status[0].split()[0]), out


@dataclass
class TurnTimer:
    """Plays visits of ``turns`` for a pool of users through ``app``, timing each turn."""

    app: WsgiApp
    turns: Sequence[TurnSpec]
    sessions: Sequence[Session]
    samples_ms: dict[str, list[float]] = field(default_factory=dict)
    _next_user: int = 0

    def visit(self, record: bool = True) -> None:
        session = self.sessions[self._next_user % len(self.sessions)]
        self._next_user += 1
        session.open = False
        for turn in self.turns:
            body = session.body(turn, FIXED_NOW)
            begin = time.perf_counter_ns()
            status, answer = call_wsgi(self.app, body)
            elapsed_ms = (time.perf_counter_ns() - begin) / 1e6
            if status != 200:
                raise RuntimeError(f"{turn.label}: HTTP {status}: {answer[:300]!r}")
            session.heard(answer)
            if record:
                self.samples_ms.setdefault(turn.label, []).append(elapsed_ms)


def time_turns(timers: Sequence[TurnTimer], *, rounds: int, visits: int, warmup: int) -> None:
    """Alternate blocks of each side (the order turned each round), so drift in the machine's
    load falls on all alike."""
    for _ in range(warmup):
        for timer in timers:
            timer.visit(record=False)
    for number in range(rounds):
        for timer in rotated(timers, number):
            for _ in range(visits):
                timer.visit()


def rotated(items: Sequence[T], turn: int) -> list[T]:
    """``items`` starting at ``turn`` (mod its length): who goes first changes every round."""
    start = turn % len(items)
    return [*items[start:], *items[:start]]
