"""A small HTTP load generator: threads, one keep-alive connection each, bodies prepared ahead.

Each virtual user plays its script of requests in order, waiting for each answer (as a person
talking to a device does); several users run at once. Bodies and headers (signatures included) are
built before the clock starts, so the client spends its time sending and reading. Everything is
bounded: a fixed number of requests, a timeout per request, and a deadline for the whole run.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Shot:
    """One request: what to POST, and a name to group its latency under."""

    label: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    by_label_ms: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.errors)

    def merge(self, other: LoadResult) -> None:
        self.latencies_ms += other.latencies_ms
        for label, samples in other.by_label_ms.items():
            self.by_label_ms.setdefault(label, []).extend(samples)
        self.errors += other.errors
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


def run_load(
    host: str,
    port: int,
    scripts: Sequence[Sequence[Shot]],
    *,
    concurrency: int,
    path: str = "/alexa",
    check: Callable[[int, bytes], str | None] | None = None,
    deadline_s: float = 600.0,
) -> LoadResult:
    """Play every script against ``http://host:port/path`` with ``concurrency`` users at once.

    A response counts as an error if it is not 200 or ``check(status, body)`` returns a reason.
    Requests not sent before ``deadline_s`` passes are recorded as errors.
    """
    pending: queue.SimpleQueue[Sequence[Shot]] = queue.SimpleQueue()
    for script in scripts:
        pending.put(script)
    result = LoadResult()
    lock = threading.Lock()
    started = time.perf_counter()
    stop_at = started + deadline_s

    def user() -> None:
        mine = LoadResult()
        client = _Client(host, port, path)
        try:
            while True:
                try:
                    script = pending.get_nowait()
                except queue.Empty:
                    break
                for shot in script:
                    if time.perf_counter() > stop_at:
                        mine.errors.append(f"{shot.label}: not sent before the deadline")
                    else:
                        client.send(shot, mine, check)
        finally:
            client.close()
            with lock:
                result.merge(mine)

    threads = [threading.Thread(target=user, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, stop_at - time.perf_counter()) + REQUEST_TIMEOUT_SECONDS)
    result.elapsed_s = time.perf_counter() - started
    return result


class _Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)

    def send(
        self, shot: Shot, into: LoadResult, check: Callable[[int, bytes], str | None] | None
    ) -> None:
        headers = {"Content-Type": "application/json", **shot.headers}
        begin = time.perf_counter()
        try:
            self.connection.request("POST", self.path, body=shot.body, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            into.errors.append(f"{shot.label}: {type(exc).__name__}: {exc}")
            self.close()
            self.connection = http.client.HTTPConnection(
                self.host, self.port, timeout=REQUEST_TIMEOUT_SECONDS
            )
            return
        elapsed_ms = (time.perf_counter() - begin) * 1000
        into.statuses[response.status] = into.statuses.get(response.status, 0) + 1
        reason = None if response.status == 200 else f"HTTP {response.status}"
        if reason is None and check is not None:
            reason = check(response.status, body)
        if reason is not None:
            into.errors.append(f"{shot.label}: {reason}")
            return
        into.latencies_ms.append(elapsed_ms)
        into.by_label_ms.setdefault(shot.label, []).append(elapsed_ms)

    def close(self) -> None:
        self.connection.close()
