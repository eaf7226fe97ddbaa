"""Load on loopback: many users at once through a real ``rls-coach serve``, zero errors.

Each simulated user talks as a person does (one turn at a time, whole visits: launch, start a
routine, step through it, stop), many users at once. Every request must be answered with a 200,
a response envelope and no apology. The p99 latency is reported in the run's summary, not
asserted: speed belongs to the benchmarks (``make bench``).
"""

from __future__ import annotations

import statistics
import threading

import pytest

from tests.hardening.live import START, HttpUser, routine_visit, run_threads, serving
from tests.hardening.scale import scaled

pytestmark = pytest.mark.slow


def test_thousands_of_turns_without_an_error(tmp_path, report_line):
    wanted = scaled(400, 6000)
    concurrency = scaled(8, 32)
    users: list[HttpUser] = []
    lock = threading.Lock()

    def answered() -> int:
        with lock:
            return sum(len(user.acknowledged) for user in users)

    with serving(f"sqlite:///{tmp_path / 'load.sqlite3'}", threads=8) as server:

        def talk(number: int) -> None:
            user = HttpUser(server.port, f"amzn1.ask.account.load-{number:03d}", START)
            with lock:
                users.append(user)
            try:
                while answered() < wanted:
                    routine_visit(user, nexts=3)
                    user.wait(hours=5)
            finally:
                user.close()

        failures = run_threads([lambda n=n: talk(n) for n in range(concurrency)])
        assert not failures, failures[:3]
        assert server.running, server.log()
    latencies = sorted(ms for user in users for ms in user.latencies_ms)
    total = answered()
    assert total == len(latencies) >= wanted
    p99 = statistics.quantiles(latencies, n=100)[98]
    report_line(
        f"load: {total} turns from {concurrency} users at once, 0 errors; "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
    )
