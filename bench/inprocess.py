"""In-process measurements: turn latency along the webhook's path, and verification cost.

A turn is timed from raw request bytes to response bytes through the Flask app itself (its WSGI
callable, without a socket): body read → envelope → skill (ours with the SQLite store) → JSON.
Verification is off here; its cost is measured on its own.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.pki import SigningPKI
from bench.turns import Session, TurnSpec

WsgiApp = Callable[..., Iterable[bytes]]
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
    users: int = 20
    samples_us: dict[str, list[float]] = field(default_factory=dict)
    _sessions: list[Session] = field(default_factory=list)
    _next_user: int = 0

    def __post_init__(self) -> None:
        self._sessions = [Session(f"amzn1.ask.account.bench-{n:04d}") for n in range(self.users)]

    def visit(self, record: bool = True) -> None:
        session = self._sessions[self._next_user % len(self._sessions)]
        self._next_user += 1
        session.open = False
        for turn in self.turns:
            body = session.body(turn, FIXED_NOW)
            begin = time.perf_counter_ns()
            status, answer = call_wsgi(self.app, body)
            elapsed_us = (time.perf_counter_ns() - begin) / 1000
            if status != 200:
                raise RuntimeError(f"{turn.label}: HTTP {status}: {answer[:300]!r}")
            session.heard(answer)
            if record:
                self.samples_us.setdefault(turn.label, []).append(elapsed_us)


def time_turns(
    ours: TurnTimer, baseline: TurnTimer, *, rounds: int, visits: int, warmup: int
) -> None:
    """Alternate blocks of ours and the baseline (order flipped each round), so drift in the
    machine's load falls on both alike."""
    for _ in range(warmup):
        ours.visit(record=False)
        baseline.visit(record=False)
    for number in range(rounds):
        pair = (ours, baseline) if number % 2 == 0 else (baseline, ours)
        for timer in pair:
            for _ in range(visits):
                timer.visit()


def time_verification(
    pki: SigningPKI, skill_id: str, bodies: Sequence[bytes], *, now: dt.datetime
) -> tuple[list[float], list[float]]:
    """Microseconds per request: (with the chain cached, with the chain new to the verifier).

    The verifier is the webhook's own. The first figure is what every request but the first per
    certificate URL costs; the second is what the first one costs (the fetch is instant here).
    """
    from webhook.verify import AlexaRequestVerifier  # noqa: PLC0415

    def verifier() -> Any:
        return AlexaRequestVerifier(
            skill_id, trust_roots=[pki.root], fetch_chain=pki.fetch_chain, clock=lambda: now
        )

    signed = [(pki.headers(body), body, json.loads(body)) for body in bodies]
    warm = verifier()
    headers, body, parsed = signed[0]
    warm.verify_signature(headers, body)
    cached, fresh = [], []
    for headers, body, parsed in signed:
        begin = time.perf_counter_ns()
        warm.verify_signature(headers, body)
        warm.verify_envelope(parsed)
        cached.append((time.perf_counter_ns() - begin) / 1000)
        new = verifier()
        begin = time.perf_counter_ns()
        new.verify_signature(headers, body)
        new.verify_envelope(parsed)
        fresh.append((time.perf_counter_ns() - begin) / 1000)
    return cached, fresh
