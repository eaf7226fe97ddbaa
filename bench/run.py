"""``python -m bench``: the coach side by side with a peer and a floor, all in one run.

- **ours**: the coach, through its public entry points (``webhook.app.create_app``,
  ``rls-coach serve``, ``skill.lambda_entry:handler``);
- **peer** (the targets): the hello-world skill built the standard way, doing what ours must do
  each turn: read and save the user's record, and ask the Settings API for the time zone on a
  session's first turn (``bench/peer_skill.py``, ``bench/peer_lambda.py``);
- **floor** (reported, no target): the stateless hello world (``bench/hello_skill.py``).

Sections: ``latency`` (a turn in process along the webhook's path), ``load`` (each webhook on
waitress under concurrent users), ``lambda`` (a fresh Lambda process: cold start and peak
memory). Prints the table, writes the figures as JSON, and with ``--docs FILE`` rewrites the table
in that Markdown file between its ``bench:table`` markers. See docs/benchmarks.md.
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import hello_skill, hello_webhook, peer_skill
from bench.dynamo import running_dynamodb
from bench.inprocess import TurnTimer, WsgiApp, call_wsgi, rotated, time_turns
from bench.load import LoadResult, Shot, run_load
from bench.processes import HOST, REPO, lambda_run, running_servers
from bench.stats import Summary, ratio, summarize
from bench.turns import LOAD_VISIT, MEASURED_TURNS, Session, TurnSpec, hello_equivalent
from skill.settings import Settings
from tests.fake_alexa_api import FakeAlexaApi, make_tls_files
from webhook.app import create_app

DEFAULT_OUTPUT = Path("bench-results/latest.json")
SECTIONS = ("latency", "load", "lambda")
SIDES = ("ours", "peer", "floor")
BENCH_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
TABLE_BEGIN = "<!-- bench:table begin -->"
TABLE_END = "<!-- bench:table end -->"
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
# Budgets (absolute, for ours) on this kind of machine: 2 cores.
TURN_P99_BUDGET_MS = 5.0
LOAD_P99_BUDGET_MS = 50.0


@dataclass(frozen=True)
class Plan:
    """How much to measure. ``quick`` is a smoke run; the default is what the docs report."""

    latency_rounds: int = 6
    latency_visits: int = 150  # per round and side; a visit is the five measured turns
    latency_users: int = 20
    load_rounds: int = 3
    load_users: int = 16
    load_visits: int = 300  # per round and side; a visit is 8 turns
    lambda_runs: int = 7
    lambda_turns: int = 50

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            latency_rounds=2,
            latency_visits=10,
            latency_users=5,
            load_rounds=1,
            load_users=4,
            load_visits=8,
            lambda_runs=1,
            lambda_turns=8,
        )


@dataclass(frozen=True)
class Target:
    """What a figure must meet: a ratio ours / peer (``budget=False``), or an absolute limit on
    ours in the figure's unit (``budget=True``)."""

    limit: float
    at_least: bool = False
    budget: bool = False

    def describe(self, unit: str) -> str:
        sign = "≥" if self.at_least else "≤"
        return f"{sign} {self.limit:g} {unit}" if self.budget else f"{sign} {self.limit:g}× peer"

    def met(self, ours: float, ratio_to_peer: float) -> bool:
        value = ours if self.budget else ratio_to_peer
        return value >= self.limit if self.at_least else value <= self.limit


@dataclass
class Figure:
    """One row of the table: a statistic of each side's samples, and the target for ours."""

    measure: str
    unit: str
    sides: dict[str, Summary]
    target: Target
    statistic: str = "p50"  # which value of each side's summary the row compares
    notes: str = ""

    def value(self, side: str) -> float:
        return getattr(self.sides[side], self.statistic)

    @property
    def ratio(self) -> float:
        return ratio(self.value("ours"), self.value("peer"))

    @property
    def met(self) -> bool:
        return self.target.met(self.value("ours"), self.ratio)

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "unit": self.unit,
            "statistic": self.statistic,
            **{side: summary.as_dict() for side, summary in self.sides.items()},
            "ratio": round(self.ratio, 3),
            "target": self.target.describe(self.unit),
            "met": self.met,
            "notes": self.notes,
        }


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


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


def load_scripts(bench: Bench, side: str, recorder: WsgiApp) -> list[list[Shot]]:
    """One script per user (two visits each). Each is played in process first, through an app
    of the same side with a store of its own, so every request carries the session attributes
    the server's real answer will have."""
    visits_per_user = 2
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    scripts = []
    users = max(1, bench.plan.load_visits // visits_per_user)
    for session in bench.sessions(side, users, "load"):
        script = []
        for _ in range(visits_per_user):
            for turn in turns_for(side, LOAD_VISIT):
                body = session.body(turn, now)
                script.append(Shot(turn.label, body))
                status, answer = call_wsgi(recorder, body)
                if status != 200:
                    raise RuntimeError(f"recording {side} {turn.label}: HTTP {status}")
                session.heard(answer)
        scripts.append(script)
    return scripts


def _answer_is_an_envelope(status: int, body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    return None if isinstance(answer.get("response"), dict) else "answer has no response"


def measure_load(bench: Bench) -> None:
    plan, scratch = bench.plan, bench.scratch
    recorders = webhook_apps(scratch, "recorder")
    results: dict[str, list[LoadResult]] = {side: [] for side in SIDES}
    peaks: dict[str, float] = {}
    stores = {side: None if side == "floor" else scratch / f"{side}-load.sqlite3" for side in SIDES}
    with running_servers(stores, scratch, env=bench.trust) as servers:
        for number in range(plan.load_rounds):
            for side in rotated(SIDES, number):
                scripts = load_scripts(bench, side, recorders[side])
                result = run_load(
                    HOST,
                    servers[side].port,
                    scripts,
                    concurrency=plan.load_users,
                    check=_answer_is_an_envelope,
                    deadline_s=300,
                )
                if result.errors:
                    raise RuntimeError(
                        f"{side}: {len(result.errors)} errors under load, e.g. "
                        f"{result.errors[:3]}\n{servers[side].log_tail()}"
                    )
                results[side].append(result)
        for side, server in servers.items():
            peaks[side] = server.peak_rss_kib() / 1024
    bench.check_api_asked("load")
    throughput = {side: summarize([r.throughput for r in results[side]]) for side in SIDES}
    latency = {
        side: summarize([ms for r in results[side] for ms in r.latencies_ms]) for side in SIDES
    }
    requests = sum(r.requests for r in results["ours"])
    users = plan.load_users
    bench.report.figures += [
        Figure(
            f"webhook throughput, {users} users",
            "req/s",
            throughput,
            Target(0.9, at_least=True),
            notes=f"{requests} requests to ours in {plan.load_rounds} rounds, 0 errors",
        ),
        Figure(
            f"webhook latency under load, p99 ({users} users)",
            "ms",
            latency,
            Target(LOAD_P99_BUDGET_MS, budget=True),
            statistic="p99",
        ),
        Figure(
            "peak memory, webhook process",
            "MiB",
            {side: summarize([peak]) for side, peak in peaks.items()},
            Target(1.1),
            notes="VmHWM of each server after the load",
        ),
    ]
    bench.report.details["load_latency_ms"] = {side: latency[side].as_dict() for side in SIDES}


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


TABLE_COLUMNS = ("measure", "ours", "peer", "floor", "ours / peer", "target", "met")


def _number(value: float, unit: str) -> str:
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    lines = ["| " + " | ".join(TABLE_COLUMNS) + " |", "|" + " --- |" * len(TABLE_COLUMNS)]
    for figure in figures:
        cells = [
            figure.measure,
            *(_number(figure.value(side), figure.unit) for side in SIDES),
            f"{figure.ratio:.2f}×",
            figure.target.describe(figure.unit),
            "yes" if figure.met else "**no**",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_line(info: Mapping[str, Any]) -> str:
    return (
        f"Measured {info['measured_at']} on {info['cpu']} ({info['nproc']} CPUs), "
        f"{info['implementation']} {info['python']}, {info['system']}, "
        f"ask-sdk-core {info['ask_sdk_core']}."
    )


def update_docs(path: Path, info: Mapping[str, Any], figures: Sequence[Figure]) -> None:
    text = path.read_text()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise SystemExit(f"{path}: no {TABLE_BEGIN} … {TABLE_END} markers to replace")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    block = f"{TABLE_BEGIN}\n{machine_line(info)}\n\n{table(figures)}\n{TABLE_END}"
    path.write_text(head + block + tail)


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
        action="append",
        default=[],
        help="Markdown file whose table to rewrite (repeat for several)",
    )
    args = parser.parse_args(argv)
    sections = SECTIONS if not args.only else tuple(s.strip() for s in args.only.split(","))
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
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
        "details": report.details,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(machine_line(info))
    print(table(report.figures))
    print(f"\nwritten to {args.output}")
    for path in args.docs:
        update_docs(path, info, report.figures)
        print(f"table updated in {path}")
    return 0
