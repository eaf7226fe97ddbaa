"""An open-loop HTTP load generator: requests arrive on a fixed timetable, whatever the server does.

Request ``i`` is due ``i / rate`` seconds after the start, as requests from many independent
people arrive: none of them waits for somebody else's answer. A pool of threads, each with one
keep-alive connection (``http.client``), sends them: a free thread takes the next request, waits
for its due time and sends it. Latency is counted from the due time, not from when the request
went out, so a server that falls behind shows the whole delay its users would feel (a closed loop,
where the next request waits for the last answer, sends less exactly when the server is slow and
hides that delay: "coordinated omission").

The first ``untimed`` requests are a lead-in at the same rate: they bring the server to the
state the measured traffic finds it in (records stored, sessions under way), and nothing about
them is reported.

A rate the server cannot keep up with is reported, not fatal: latency grows, sends go out late
(every thread is waiting on an answer), and requests still unsent when the run's time is up are
counted as not sent. Everything is bounded: the number of requests, a timeout per request, and
a deadline for the whole run. Bodies and headers are built before the clock starts.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

REQUEST_TIMEOUT_SECONDS = 5.0
# A send that leaves this much after its due time counts as late: every thread was busy.
LATE_SEND_MS = 10.0
CONNECTIONS = 64

Check = Callable[[int, bytes], str | None]


@dataclass(frozen=True)
class Shot:
    """One request: what to POST, and a name to group its latency under."""

    label: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Arrival:
    """What became of one request. Times are seconds from the start of the run."""

    label: str
    due_s: float
    sent_s: float | None = None
    done_s: float | None = None
    outcome: str = "not sent"  # "answered", "error", "timeout" or "not sent"
    detail: str = ""

    @property
    def latency_ms(self) -> float:
        """From when it was due to its answer (meaningful only if answered)."""
        return ((self.done_s or self.due_s) - self.due_s) * 1000

    @property
    def send_lag_ms(self) -> float:
        return ((self.sent_s or self.due_s) - self.due_s) * 1000


@dataclass
class OpenLoopResult:
    """The measured requests of a run (the lead-in is left out), in the order they were due."""

    rate: float
    arrivals: list[Arrival]

    def _with(self, outcome: str) -> list[Arrival]:
        return [arrival for arrival in self.arrivals if arrival.outcome == outcome]

    @property
    def answered(self) -> list[Arrival]:
        return self._with("answered")

    @property
    def latencies_ms(self) -> list[float]:
        return [arrival.latency_ms for arrival in self.answered]

    @property
    def send_lags_ms(self) -> list[float]:
        return [a.send_lag_ms for a in self.arrivals if a.sent_s is not None]

    @property
    def late_sends(self) -> int:
        return sum(lag > LATE_SEND_MS for lag in self.send_lags_ms)

    @property
    def errors(self) -> list[str]:
        return [f"{arrival.label}: {arrival.detail}" for arrival in self._with("error")]

    @property
    def timeouts(self) -> int:
        return len(self._with("timeout"))

    @property
    def not_sent(self) -> int:
        return len(self._with("not sent"))

    @property
    def failed(self) -> int:
        return len(self.arrivals) - len(self.answered)

    @property
    def span_s(self) -> float:
        """The measured window: from the first request's due time for as long as the timetable
        runs (``count / rate``), or to the last answer if that comes later."""
        if not self.arrivals:
            return 0.0
        first = self.arrivals[0].due_s
        ends = [a.done_s - first for a in self.answered if a.done_s is not None]
        return max([len(self.arrivals) / self.rate, *ends])

    @property
    def achieved_rate(self) -> float:
        """Answers per second over the span: the rate the server really delivered."""
        span = self.span_s
        return len(self.answered) / span if span else 0.0


def run_open_loop(
    host: str,
    port: int,
    shots: Sequence[Shot],
    *,
    rate: float,
    connections: int = CONNECTIONS,
    path: str = "/alexa",
    check: Check | None = None,
    untimed: int = 0,
    grace_s: float = 2.0,
    timeout_s: float = REQUEST_TIMEOUT_SECONDS,
) -> OpenLoopResult:
    """Send ``shots`` to ``http://host:port/path``, shot ``i`` due ``i / rate`` s after the start,
    and report on all but the first ``untimed``.

    An answer counts if it is a 200 and ``check(status, body)`` returns no reason. Nothing is
    sent later than ``grace_s`` after the last due time; whatever is left then is "not sent".
    """
    if rate <= 0:
        raise ValueError(f"rate must be positive, not {rate}")
    if connections < 1:
        raise ValueError(f"connections must be at least 1, not {connections}")
    if not 0 <= untimed <= len(shots):
        raise ValueError(f"untimed must be between 0 and {len(shots)}, not {untimed}")
    arrivals = [Arrival(shot.label, index / rate) for index, shot in enumerate(shots)]
    pending: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(shots)):
        pending.put(index)
    clients = [_Client(host, port, path, timeout_s) for _ in range(min(connections, len(shots)))]
    for client in clients:
        client.connect()  # before the clock starts: a connection costs the first request nothing
    start = time.perf_counter() + 0.05  # every thread is waiting on its first due time by then
    stop_at = start + (arrivals[-1].due_s if arrivals else 0.0) + grace_s

    def work(client: _Client) -> None:
        try:
            while True:
                try:
                    index = pending.get_nowait()
                except queue.Empty:
                    return
                arrival = arrivals[index]
                due = start + arrival.due_s
                # Never early: sleep may wake a hair before its time, so check and sleep again.
                while (now := time.perf_counter()) < due:
                    time.sleep(due - now)
                if now > stop_at:
                    continue  # stays "not sent"
                client.send(shots[index], arrival, start, check)
        finally:
            client.close()

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A send still in flight at stop_at ends within its timeout (per socket operation).
        thread.join(timeout=max(0.0, stop_at - time.perf_counter()) + 2 * timeout_s + 1)
    return OpenLoopResult(rate, arrivals[untimed:])


class _Client:
    """One keep-alive connection; reconnects after a failure."""

    def __init__(self, host: str, port: int, path: str, timeout_s: float) -> None:
        self.host, self.port, self.path, self.timeout_s = host, port, path, timeout_s
        self.connection = self._new_connection()

    def _new_connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)

    def connect(self) -> None:
        try:
            self.connection.connect()
        except OSError:
            self.close()  # the first request will try again, and report what happens then

    def send(self, shot: Shot, arrival: Arrival, start: float, check: Check | None) -> None:
        headers = {"Content-Type": "application/json", **shot.headers}
        arrival.sent_s = time.perf_counter() - start
        try:
            self.connection.request("POST", self.path, body=shot.body, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except TimeoutError:
            self._failed(arrival, start, "timeout", f"no answer within {self.timeout_s:g} s")
            return
        except (OSError, http.client.HTTPException) as exc:
            self._failed(arrival, start, "error", f"{type(exc).__name__}: {exc}")
            return
        arrival.done_s = time.perf_counter() - start
        reason = None if response.status == 200 else f"HTTP {response.status}"
        if reason is None and check is not None:
            reason = check(response.status, body)
        arrival.outcome, arrival.detail = ("error", reason) if reason else ("answered", "")

    def _failed(self, arrival: Arrival, start: float, outcome: str, detail: str) -> None:
        arrival.done_s = time.perf_counter() - start
        arrival.outcome, arrival.detail = outcome, detail
        self.close()
        self.connection = self._new_connection()

    def close(self) -> None:
        self.connection.close()
