"""The benchmark's machinery: the open-loop load generator keeps its timetable, a server that
cannot keep up shows it, the docs writer writes only between its markers, and ``python -m bench``
runs end to end.

No figure of the coach is judged here (speed belongs to the benchmark's own table). The load
generator is tried against small servers started here on 127.0.0.1 (threads, not processes),
whose speed the test sets.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

from bench.load import LATE_SEND_MS, Shot, run_open_loop
from bench.run import Plan, main
from bench.stats import summarize
from bench.tables import (
    ARRIVAL_COLUMNS,
    TABLE_BEGIN,
    TABLE_COLUMNS,
    TABLE_END,
    Figure,
    RateRow,
    Report,
    Target,
    update_docs,
)

ANSWER = b'{"response": {}}'


def _server(service_s: float, one_at_a_time: bool) -> http.server.ThreadingHTTPServer:
    """A keep-alive HTTP server that answers every POST after ``service_s``; with
    ``one_at_a_time``, it serves requests one after another (its capacity: 1 / service_s)."""
    gate = threading.Lock() if one_at_a_time else None

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            if gate is None:
                time.sleep(service_s)
            else:
                with gate:
                    time.sleep(service_s)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return _Server(("127.0.0.1", 0), Handler)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # every connection the client opens is accepted at once


@pytest.fixture
def serve() -> Iterator:
    started: list[tuple[http.server.ThreadingHTTPServer, threading.Thread]] = []

    def start(service_s: float, *, one_at_a_time: bool = False) -> int:
        server = _server(service_s, one_at_a_time)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        started.append((server, thread))
        return server.server_address[1]

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _shots(count: int) -> list[Shot]:
    return [Shot(f"turn {number % 3}", b'{"n": %d}' % number) for number in range(count)]


def test_requests_leave_on_their_timetable_however_long_the_answers_take(serve):
    # Each answer takes 100 ms, five times the 50 ms between arrivals. A closed loop of one
    # user would send every 100 ms, and one of eight would send early, ahead of the timetable.
    port = serve(0.1)
    began = time.perf_counter()
    result = run_open_loop("127.0.0.1", port, _shots(25), rate=20, connections=8, untimed=5)
    elapsed = time.perf_counter() - began

    assert len(result.arrivals) == 20 and len(result.answered) == 20
    assert [arrival.due_s for arrival in result.arrivals] == pytest.approx(
        [number / 20 for number in range(5, 25)]
    )
    assert all(arrival.sent_s >= arrival.due_s for arrival in result.arrivals)  # never early
    assert summarize(result.send_lags_ms).p50 < LATE_SEND_MS
    assert all(latency >= 100 for latency in result.latencies_ms)  # counted from the due time
    assert result.achieved_rate == pytest.approx(20, rel=0.25)
    assert result.errors == [] and result.timeouts == 0 and result.not_sent == 0
    assert 1.2 <= elapsed < 5


def test_a_rate_the_server_cannot_keep_up_with_shows_as_growing_delay_not_a_crash(serve):
    # One request at a time, 50 ms each: 20 a second at most, asked for 40.
    port = serve(0.05, one_at_a_time=True)
    began = time.perf_counter()
    result = run_open_loop("127.0.0.1", port, _shots(30), rate=40, connections=2, grace_s=0.3)
    elapsed = time.perf_counter() - began

    latencies = result.latencies_ms
    assert len(latencies) >= 10
    # Two connections: a request waits for at most one other once sent, but later ones are
    # sent later and later, and their latency counts from when they were due.
    assert latencies[-1] > latencies[0] + 200
    assert result.achieved_rate < 30
    assert result.late_sends + result.not_sent > 0  # every connection busy: sends fall behind
    assert len(result.answered) + result.failed == 30  # every request is accounted for
    assert elapsed < 5  # bounded: nothing goes out after the grace period


def test_nothing_listening_is_counted_as_errors():
    result = run_open_loop("127.0.0.1", _closed_port(), _shots(4), rate=100, connections=2)
    assert len(result.errors) == 4 and result.answered == []
    assert all("ConnectionRefusedError" in error for error in result.errors)


def _closed_port() -> int:
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    return port


def _report(unanswered: int) -> Report:
    def sides(ours: float) -> dict:
        return {"ours": summarize([ours]), "peer": summarize([10.0]), "floor": summarize([5.0])}

    return Report(
        figures=[
            Figure("peak memory, webhook process", "MiB", sides(12.0), Target(1.1)),
            Figure(
                "webhook latency at 100 req/s, p99",
                "ms",
                sides(9.0),
                Target(1.2),
                statistic="p99",
                felt=True,
                failed={"ours": unanswered, "peer": 0, "floor": 0},
            ),
        ],
        arrivals=[
            RateRow(100, side, 600, 99.5, summarize([1.0, 2.0]), 0.4, 0, 0, 0, unanswered)
            for side in ("ours", "peer", "floor")
        ],
        arrivals_note="Arrivals:",
    )


MACHINE = {
    "measured_at": "2026-12-07 18:00 UTC",
    "cpu": "a CPU",
    "nproc": 2,
    "implementation": "CPython",
    "python": "3.11.7",
    "system": "Linux",
    "ask_sdk_core": "1.19.0",
}


def test_the_docs_writer_replaces_only_what_lies_between_its_markers(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Benchmarks\n\nBefore.\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nAfter.\n")
    update_docs(page, MACHINE, _report(unanswered=0))

    text = page.read_text()
    assert text.startswith("# Benchmarks\n\nBefore.\n\n" + TABLE_BEGIN)
    assert text.endswith(TABLE_END + "\n\nAfter.\n") and "old table" not in text
    assert "Measured 2026-12-07 18:00 UTC on a CPU (2 CPUs)" in text
    rows = [line for line in text.splitlines() if line.startswith("|")]
    # What users feel comes first, then the arrivals in full, then what it costs.
    assert rows[0] == "| " + " | ".join(TABLE_COLUMNS) + " |"
    assert rows[2].startswith("| webhook latency at 100 req/s, p99 | 9.00 ms | 10.0 ms |")
    assert rows[2].endswith("| 0.90× | ≤ 1.2× peer | yes |")
    assert rows[3] == "| " + " | ".join(ARRIVAL_COLUMNS) + " |"
    assert rows[5].startswith("| 100 req/s | ours | 99.5 req/s | 1.50 ms |")
    assert rows[-1].startswith("| peak memory, webhook process | 12.0 MiB |")
    assert rows[-1].endswith("| **no** |")


def test_a_fast_answer_from_a_server_that_left_requests_unanswered_does_not_meet_its_target(
    tmp_path,
):
    page = tmp_path / "benchmarks.md"
    page.write_text(f"{TABLE_BEGIN}\n{TABLE_END}\n")
    update_docs(page, MACHINE, _report(unanswered=12))
    text = page.read_text()
    assert "| 0.90× | ≤ 1.2× peer | **no** (12 unanswered) |" in text
    ours = "| 100 req/s | ours | 99.5 req/s | 1.50 ms | 1.99 ms | 2.00 ms | 0 | 0 | 0 | 12 of 600 |"
    assert ours in text


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("# Benchmarks\n", "needs one"),
        (f"{TABLE_END}\n{TABLE_BEGIN}\n", "comes before"),
        (f"{TABLE_BEGIN}\n{TABLE_END}\n{TABLE_BEGIN}\n{TABLE_END}\n", "needs one"),
    ],
)
def test_a_page_without_one_pair_of_markers_is_refused_before_anything_is_measured(
    tmp_path, capsys, content, complaint
):
    page = tmp_path / "benchmarks.md"
    page.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["--docs", str(page), "--output", str(tmp_path / "latest.json")])
    assert str(page) in str(exit_info.value) and complaint in str(exit_info.value)
    assert page.read_text() == content and not (tmp_path / "latest.json").exists()
    assert "measuring" not in capsys.readouterr().err


def test_an_unknown_section_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "latency,speed"])
    assert exit_info.value.code == 2
    assert "unknown section(s) speed" in capsys.readouterr().err


@pytest.mark.slow
def test_a_quick_run_measures_every_side_and_writes_the_tables(tmp_path, capsys):
    plan = Plan.quick()
    rates = [
        f"webhook latency at {rate} req/s, {statistic}"
        for rate in plan.load_rates
        for statistic in ("p50", "p99")
    ]
    felt = ["Lambda cold start to first answer", *rates]
    costs = [
        f"peak memory, Lambda process ({plan.lambda_turns} turns)",
        "peak memory, webhook process",
        "turn latency in process, p50",
        "turn latency in process, p99",
    ]
    output = tmp_path / "latest.json"
    page = tmp_path / "benchmarks.md"
    page.write_text(f"# Benchmarks\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nMore text.\n")
    assert main(["--quick", "--output", str(output), "--docs", str(page)]) == 0

    report = json.loads(output.read_text())
    # In the order measured: the Lambda, the webhooks under load, turns in process.
    measured = [felt[0], costs[0], *rates, *costs[1:]]
    assert [figure["measure"] for figure in report["figures"]] == measured
    for figure in report["figures"]:
        for side in ("ours", "peer", "floor"):
            assert figure[side][figure["statistic"]] > 0
        assert figure["ratio"] > 0 and figure["target"] and figure["met"] in (True, False)
    assert [(row["rate"], row["side"]) for row in report["arrivals"]] == [
        (rate, side) for rate in plan.load_rates for side in ("ours", "peer", "floor")
    ]
    for row in report["arrivals"]:
        assert row["requests"] == round(row["rate"] * plan.load_seconds)
        assert row["achieved"] > 0 and row["latency_ms"]["count"] > 0
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]

    printed = capsys.readouterr().out
    for text in (printed, page.read_text()):
        figure_rows = [line.split(" | ")[0].removeprefix("| ") for line in text.splitlines()]
        assert [row for row in figure_rows if row in felt + costs] == felt + costs
        assert text.count("| " + " | ".join(ARRIVAL_COLUMNS) + " |") == 1
    text = page.read_text()
    assert "old table" not in text and text.endswith("More text.\n")
