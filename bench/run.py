"""``python -m bench``: the coach side by side with a peer and a floor, all in one run.

- **ours**: the coach, through its public entry points (``webhook.app.create_app``,
  ``rls-coach serve``, ``skill.lambda_entry:handler``);
- **peer** (the targets): the hello-world skill built the standard way, doing what ours must do
  each turn: read and save the user's record, and ask the Settings API for the time zone on a
  session's first turn (``bench/peer_skill.py``, ``bench/peer_lambda.py``);
- **floor** (reported, no target): the stateless hello world (``bench/hello_skill.py``).

What users feel comes first: the first answer of a cold Lambda, and the webhook's latency when
requests arrive at fixed rates (an open loop: each is due at its time, whoever else is waiting).
What it costs follows: memory, and a turn's time in process.

Sections: ``latency`` (a turn in process along the webhook's path), ``load`` (each webhook on
waitress, requests arriving at fixed rates), ``lambda`` (a fresh Lambda process: cold start and
peak memory). Prints the tables, writes the figures as JSON, and with ``--docs`` (the
benchmarks page, docs/benchmarks.md) rewrites them between its ``bench:table`` markers.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import hello_skill, hello_webhook, peer_skill
from bench.dynamo import running_dynamodb
from bench.inprocess import TurnTimer, WsgiApp, call_wsgi, rotated, time_turns
from bench.load import LATE_SEND_MS, OpenLoopResult, Shot, run_open_loop
from bench.processes import HOST, REPO, ServerProcess, lambda_run, running_servers
from bench.stats import summarize
from bench.tables import (
    SIDES,
    Figure,
    Report,
    Target,
    machine_line,
    rate_row,
    read_docs,
    tables,
    update_docs,
)
from bench.turns import LOAD_VISIT, MEASURED_TURNS, Session, TurnSpec, hello_equivalent
from skill.settings import Settings
from tests.fake_alexa_api import FakeAlexaApi, make_tls_files
from webhook.app import create_app

DEFAULT_OUTPUT = Path("bench-results/latest.json")
SECTIONS = ("lambda", "load", "latency")  # what users feel first
DOCS = Path("docs/benchmarks.md")  # the one page that shows the tables
BENCH_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
LAMBDA_HANDLERS = {
    "ours": "skill.lambda_entry:handler",
    "peer": "bench.peer_lambda:handler",
    "floor": "bench.hello_skill:handler",
}
# The device's zone, as the Settings API stand-in answers it. At FIXED_NOW (13:15 UTC) it is a
# Tuesday morning there, so "start routine" starts the morning stretches.
DEVICE_ZONE = "America/New_York"
# Each side has its own API token, so the stand-in's log shows who asked.
API_TOKENS = {side: f"bench-{side}-api-token" for side in SIDES}
# Budget (absolute, for ours) on this kind of machine: 2 cores.
TURN_P99_BUDGET_MS = 5.0
# At every arrival rate, p50 and p99 at most this many times the peer's.
LOAD_LATENCY_RATIO = 1.2


@dataclass(frozen=True)
class Plan:
    """How much to measure. ``quick`` is a smoke run; the default is what the docs report."""

    latency_rounds: int = 6
    latency_visits: int = 150  # per round and side; a visit is the five measured turns
    latency_users: int = 20
    load_rates: tuple[int, ...] = (50, 100, 200)  # requests a second, each run on its own
    load_seconds: float = 6.0  # per run: one side at one rate
    load_rounds: int = 2
    load_connections: int = 64  # the client's threads: how many requests can be in flight
    load_turn_gap_s: float = 0.5  # a device speaks again this long after its last turn was due
    lambda_runs: int = 7
    lambda_turns: int = 50

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            latency_rounds=2,
            latency_visits=10,
            latency_users=5,
            load_rates=(20, 40),
            load_seconds=0.5,
            load_turn_gap_s=0.05,
            load_rounds=1,
            lambda_runs=1,
            lambda_turns=8,
        )


@dataclass
class Bench:
    """What every section shares: the plan, a scratch folder, and the Settings API stand-in."""

    plan: Plan
    scratch: Path
    api: FakeAlexaApi
    trust: dict[str, str]  # the environment that makes a client trust the stand-in's CA
    report: Report = field(default_factory=Report)

    def sessions(self, side: str, count: int, label: str) -> list[Session]:
        run = uuid.uuid4().hex[:8]
        return [
            Session(
                f"amzn1.ask.account.{label}-{run}-{side}-{number:05d}",
                api_endpoint=self.api.endpoint,
                api_token=API_TOKENS[side],
                follows_answers=side == "ours",
            )
            for number in range(count)
        ]

    def check_api_asked(self, section: str) -> None:
        """Ours and the peer must really have asked the stand-in for the time zone."""
        asked = {seen.authorization for seen in self.api.seen}
        for side in ("ours", "peer"):
            if f"Bearer {API_TOKENS[side]}" not in asked:
                raise RuntimeError(f"{section}: {side} never asked the Settings API")
        self.api.seen.clear()


def turns_for(side: str, turns: Sequence[TurnSpec]) -> Sequence[TurnSpec]:
    return turns if side == "ours" else hello_equivalent(turns)


def webhook_apps(scratch: Path, label: str) -> dict[str, WsgiApp]:
    """Each side's Flask app, in process, with a SQLite file of its own."""
    settings = Settings(
        store_url=f"sqlite:///{scratch / f'ours-{label}.sqlite3'}",
        verify=False,
        default_timezone=DEVICE_ZONE,
    )
    peer_store = peer_skill.SqlitePersistenceAdapter(str(scratch / f"peer-{label}.sqlite3"))
    return {
        "ours": create_app({"SETTINGS": settings}),
        "peer": hello_webhook.create_app(peer_skill.build_skill(peer_store)),
        "floor": hello_webhook.create_app(hello_skill.build_skill()),
    }


# ---- latency -----------------------------------------------------------------------------------


def measure_latency(bench: Bench) -> None:
    plan = bench.plan
    apps = webhook_apps(bench.scratch, "latency")
    timers = {
        side: TurnTimer(
            apps[side],
            turns_for(side, MEASURED_TURNS),
            bench.sessions(side, plan.latency_users, "latency"),
        )
        for side in SIDES
    }
    time_turns(
        list(timers.values()),
        rounds=plan.latency_rounds,
        visits=plan.latency_visits,
        warmup=max(5, plan.latency_visits // 5),
    )
    bench.check_api_asked("latency")
    every = {
        side: summarize([ms for samples in timer.samples_ms.values() for ms in samples])
        for side, timer in timers.items()
    }
    bench.report.figures += [
        Figure("turn latency in process, p50", "ms", every, Target(1.2)),
        Figure(
            "turn latency in process, p99",
            "ms",
            every,
            Target(TURN_P99_BUDGET_MS, budget=True),
            statistic="p99",
        ),
    ]
    bench.report.details["turn_latency_ms"] = {
        side: {label: summarize(samples).as_dict() for label, samples in timer.samples_ms.items()}
        for side, timer in timers.items()
    }


# ---- load --------------------------------------------------------------------------------------


def arrival_shots(bench: Bench, side: str, recorder: WsgiApp, rate: int) -> tuple[list[Shot], int]:
    """The requests for one run at ``rate`` in the order they are due, and how many of them
    (at the front) are the lead-in.

    Devices take turns: ``rate × load_turn_gap_s`` of them, each speaking again that long after
    its last turn was due. Each device is a line of users, one after another, each making two
    whole visits (so returning users are in the mix). The measured window opens on traffic
    already under way: each device is part-way through its first user's visits, at a different
    turn for each, so every moment of the window holds the whole mix of turns. The turns before
    that point are sent first, untimed, at the same rate, each device's ending just as the window
    opens: the server has stored those records and seen those sessions start, as it would have.

    Every request is first played in process through an app of the same side with a store of
    its own, so it carries the session attributes the server's real answer will have.
    """
    plan = bench.plan
    count = max(1, round(rate * plan.load_seconds))
    devices = max(1, min(count, round(rate * plan.load_turn_gap_s)))
    per_device = -(-count // devices)
    visit = turns_for(side, LOAD_VISIT)
    script = [*visit, *visit]
    joined = [device * len(script) // devices for device in range(devices)]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    lines = []
    for device in range(devices):
        line: list[Shot] = []
        while len(line) < joined[device] + per_device:
            session = bench.sessions(side, 1, f"load{rate}")[0]
            for turn in script[: joined[device] + per_device - len(line)]:
                body = session.body(turn, now)
                line.append(Shot(turn.label, body))
                status, answer = call_wsgi(recorder, body)
                if status != 200:
                    raise RuntimeError(f"recording {side} {turn.label}: HTTP {status}")
                session.heard(answer)
        lines.append(line)
    lead_in = [
        lines[device][joined[device] - before]
        for before in range(max(joined), 0, -1)
        for device in range(devices)
        if joined[device] >= before
    ]
    window = [lines[i % devices][joined[i % devices] + i // devices] for i in range(count)]
    return lead_in + window, len(lead_in)


def _answer_is_an_envelope(status: int, body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
        return "answer has no response"
    return None


def warm_up(bench: Bench, side: str, server: ServerProcess, recorder: WsgiApp) -> None:
    """One visit, slowly, before anything is timed: every side has loaded what a turn needs,
    and a server that cannot answer at all stops the run here with its log."""
    session = bench.sessions(side, 1, "warmup")[0]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    shots = []
    for turn in turns_for(side, LOAD_VISIT):
        shots.append(Shot(turn.label, session.body(turn, now)))
        session.heard(call_wsgi(recorder, shots[-1].body)[1])
    result = run_open_loop(
        HOST, server.port, shots, rate=50, connections=1, check=_answer_is_an_envelope
    )
    if result.failed:
        problems = [f"{a.label}: {a.outcome} {a.detail}" for a in result.arrivals if a.detail]
        raise RuntimeError(f"{side} does not answer: {problems[:3]}\n{server.log_tail()}")


def measure_load(bench: Bench) -> None:
    plan, scratch = bench.plan, bench.scratch
    recorders = webhook_apps(scratch, "recorder")
    results: dict[tuple[int, str], list[OpenLoopResult]] = {}
    peaks: dict[str, float] = {}
    stores = {side: None if side == "floor" else scratch / f"{side}-load.sqlite3" for side in SIDES}
    with running_servers(stores, scratch, env=bench.trust) as servers:
        for side in SIDES:
            warm_up(bench, side, servers[side], recorders[side])
        runs = [(rate, number) for number in range(plan.load_rounds) for rate in plan.load_rates]
        for number, (rate, _) in enumerate(runs):
            for side in rotated(SIDES, number):
                shots, lead_in = arrival_shots(bench, side, recorders[side], rate)
                result = run_open_loop(
                    HOST,
                    servers[side].port,
                    shots,
                    rate=rate,
                    connections=plan.load_connections,
                    check=_answer_is_an_envelope,
                    untimed=lead_in,
                )
                if result.errors:
                    print(
                        f"{side} at {rate} req/s: {len(result.errors)} errors, e.g. "
                        f"{result.errors[:3]}\n{servers[side].log_tail(10)}",
                        file=sys.stderr,
                    )
                results.setdefault((rate, side), []).append(result)
        for side, server in servers.items():
            peaks[side] = server.peak_rss_kib() / 1024
    bench.check_api_asked("load")
    rows = [rate_row(rate, side, results[rate, side]) for rate in plan.load_rates for side in SIDES]
    bench.report.arrivals += rows
    for rate in plan.load_rates:
        mine = {row.side: row for row in rows if row.rate == rate}
        if any(row.latency is None for row in mine.values()):
            silent = sorted(side for side, row in mine.items() if row.latency is None)
            raise RuntimeError(f"no answers at {rate} req/s from {', '.join(silent)}")
        latency = {side: row.latency for side, row in mine.items() if row.latency}
        failed = {side: row.failed for side, row in mine.items()}
        for statistic in ("p50", "p99"):
            bench.report.figures.append(
                Figure(
                    f"webhook latency at {rate} req/s, {statistic}",
                    "ms",
                    latency,
                    Target(LOAD_LATENCY_RATIO),
                    statistic=statistic,
                    felt=True,
                    failed=failed,
                    notes="open loop, from each request's due time to its answer",
                )
            )
    bench.report.figures.append(
        Figure(
            "peak memory, webhook process",
            "MiB",
            {side: summarize([peak]) for side, peak in peaks.items()},
            Target(1.1),
            notes="VmHWM of each server after the load",
        )
    )
    bench.report.arrivals_note = (
        f"Arrivals on a fixed timetable, {plan.load_rounds} × {plan.load_seconds:g} s per rate "
        f"and side; latency from each request's due time to its answer; a send is late if it "
        f"left more than {LATE_SEND_MS:g} ms after its time:"
    )


# ---- Lambda ------------------------------------------------------------------------------------


def lambda_events(bench: Bench, side: str) -> list[dict[str, Any]]:
    """Whole visits for one user: a new session at each launch, the rest within it (the child
    carries each answer's session attributes into the next event)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    session = bench.sessions(side, 1, "lambda")[0]
    turns = turns_for(side, LOAD_VISIT)
    events = []
    for number in range(bench.plan.lambda_turns):
        events.append(session.event(turns[number % len(turns)], now))
        session.open = True
    return events


def compile_sources() -> None:
    """Byte-compile this checkout's packages before timing fresh processes.

    pip compiled the peer's and the floor's libraries when it installed them; the checkout's own
    modules are compiled on first import. Where PYTHONDONTWRITEBYTECODE is set, every fresh
    process would recompile them and the cold start would time the compiler.
    """
    import compileall  # noqa: PLC0415

    for package in ("skill", "webhook", "bench"):
        if not compileall.compile_dir(REPO / package, quiet=1):
            raise RuntimeError(f"{package}: a module does not compile")


def measure_lambda(bench: Bench) -> None:
    compile_sources()
    starts: dict[str, list[float]] = {side: [] for side in SIDES}
    peaks: dict[str, list[float]] = {side: [] for side in SIDES}
    imports: dict[str, list[float]] = {side: [] for side in SIDES}
    with running_dynamodb() as aws:
        env = {side: {**aws[side], **bench.trust} for side in SIDES}
        env["ours"]["RLS_COACH_SKILL_ID"] = BENCH_SKILL_ID
        events = {side: lambda_events(bench, side) for side in SIDES}
        for number in range(bench.plan.lambda_runs):
            for side in rotated(SIDES, number):
                child = lambda_run(LAMBDA_HANDLERS[side], events[side], env[side])
                if "response" not in child["first"]:
                    raise RuntimeError(f"{side} Lambda answered {child['first']}")
                starts[side].append(child["start_to_answer_ms"])
                imports[side].append(child["import_ms"])
                peaks[side].append(child["peak_rss_kib"] / 1024)
    bench.check_api_asked("lambda")
    bench.report.figures += [
        Figure(
            "Lambda cold start to first answer",
            "ms",
            {side: summarize(starts[side]) for side in SIDES},
            Target(1.1),
            felt=True,
            notes="process spawn to the first answer: a launch, with store read/save and zone",
        ),
        Figure(
            f"peak memory, Lambda process ({bench.plan.lambda_turns} turns)",
            "MiB",
            {side: summarize(peaks[side]) for side in SIDES},
            Target(1.1),
        ),
    ]
    bench.report.details["lambda_import_ms"] = {
        side: statistics.median(values) for side, values in imports.items()
    }


# ---- the Settings API stand-in -----------------------------------------------------------------


@contextlib.contextmanager
def settings_api(scratch: Path) -> Iterator[tuple[FakeAlexaApi, dict[str, str]]]:
    """The stand-in on loopback, and the environment that makes every client trust it: ours
    reads ``SSL_CERT_FILE`` (the standard library's), the SDK's client ``REQUESTS_CA_BUNDLE``
    (requests'). Set here for the in-process apps too, and put back afterwards."""
    folder = scratch / "alexa-api-tls"
    folder.mkdir()
    tls = make_tls_files(folder)
    trust = {"SSL_CERT_FILE": str(tls.ca), "REQUESTS_CA_BUNDLE": str(tls.ca)}
    saved = {name: os.environ.get(name) for name in trust}
    os.environ.update(trust)
    try:
        with FakeAlexaApi(tls, zone=DEVICE_ZONE) as api:
            yield api, trust
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# ---- output ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    return {
        "nproc": cpus,
        "cpu": model or platform.processor() or "unknown",
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "system": f"{platform.system()} {platform.release()}",
        "ask_sdk_core": metadata.version("ask-sdk-core"),
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--only", help=f"comma-separated sections to run (default all): {', '.join(SECTIONS)}"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file to write")
    parser.add_argument(
        "--docs",
        type=Path,
        nargs="?",
        const=DOCS,
        help=f"rewrite the tables in the benchmarks page (default {DOCS})",
    )
    args = parser.parse_args(argv)
    sections = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.docs is not None:
        read_docs(args.docs)  # a page without its markers is refused now, not after the run
    plan = Plan.quick() if args.quick else Plan()
    info = machine()
    info["measured_at"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    began = time.perf_counter()
    steps: dict[str, Callable[[Bench], None]] = {
        "latency": measure_latency,
        "load": measure_load,
        "lambda": measure_lambda,
    }
    with (
        tempfile.TemporaryDirectory(prefix="rls-coach-bench-") as directory,
        settings_api(Path(directory)) as (api, trust),
        _quiet("webhook.app"),  # the in-process apps run unverified on purpose: not news here
    ):
        bench = Bench(plan, Path(directory), api, trust)
        for name in SECTIONS:
            if name in sections:
                print(f"measuring {name} …", file=sys.stderr, flush=True)
                steps[name](bench)
    report = bench.report
    info["seconds"] = round(time.perf_counter() - began, 1)
    result = {
        "machine": info,
        "plan": asdict(plan),
        "figures": [figure.as_dict() for figure in report.figures],
        "arrivals": [row.as_dict() for row in report.arrivals],
        "details": report.details,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(machine_line(info))
    print()
    print(tables(report))
    print(f"\nwritten to {args.output}")
    if args.docs is not None:
        update_docs(args.docs, info, report)
        print(f"tables updated in {args.docs}")
    return 0
