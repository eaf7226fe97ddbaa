"""``python -m bench``: every benchmark, as a ratio against the hello-world skill in the same run.

1. turn latency in process along the webhook's path (SQLite store, verification excluded);
2. verification cost per request with the chain cached, against validating the chain every time;
3. webhook throughput and p50/p99 under concurrent load on 127.0.0.1, verification on, waitress;
4. cold start: a fresh Lambda process to its first answer, and a webhook process to its first
   answer;
5. peak memory of the Lambda process and of the webhook process.

Prints a table and writes JSON (``bench-results/latest.json`` by default). ``--docs FILE`` also
rewrites the table in that Markdown file between its ``bench:table`` markers. Ratios are medians
over medians; the spread columns show how steady each side was. The figures depend on the machine
and on what else it is doing: compare ratios, not absolute times, across machines.
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
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import hello_webhook
from bench.dynamo import running_dynamodb
from bench.inprocess import TurnTimer, call_wsgi, time_turns, time_verification
from bench.load import LoadResult, Shot, run_load
from bench.pki import SigningPKI
from bench.processes import HOST, REPO, first_answer_ms, lambda_run, running_server
from bench.stats import Summary, ratio, summarize
from bench.turns import LOAD_VISIT, MEASURED_TURNS, Session, hello_equivalent
from skill.settings import Settings
from tests.fake_alexa_api import FakeAlexaApi, make_tls_files
from tests.support import envelope
from webhook.app import create_app

DEFAULT_OUTPUT = Path("bench-results/latest.json")
SECTIONS = ("latency", "verification", "load", "start", "memory")
BENCH_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
TABLE_BEGIN = "<!-- bench:table begin -->"
TABLE_END = "<!-- bench:table end -->"
LAMBDA_HANDLERS = {"ours": "skill.lambda_entry:handler", "hello": "bench.hello_skill:handler"}


@dataclass(frozen=True)
class Plan:
    """How much to measure. ``quick`` is a smoke run; the default is what the docs report."""

    latency_rounds: int = 6
    latency_visits: int = 150
    verification_requests: int = 300
    load_rounds: int = 3
    load_users: int = 16
    load_visits: int = 300  # per round and side; a visit is 8 turns
    start_runs: int = 7

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            latency_rounds=2,
            latency_visits=20,
            verification_requests=30,
            load_rounds=1,
            load_users=8,
            load_visits=30,
            start_runs=2,
        )


@dataclass
class Figure:
    """One row of the table: ours against the baseline."""

    measure: str
    unit: str
    ours: Summary
    baseline: Summary
    target: str  # e.g. "≤ 1.0×"
    higher_is_better: bool = False
    limit: float | None = None  # the ratio the target allows
    notes: str = ""
    headline: str = "p50"  # the percentile the ratio compares (p99 for tail latency)

    @property
    def ratio(self) -> float:
        return ratio(getattr(self.ours, self.headline), getattr(self.baseline, self.headline))

    @property
    def met(self) -> bool | None:
        if self.limit is None:
            return None
        return self.ratio >= self.limit if self.higher_is_better else self.ratio <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "unit": self.unit,
            "ours": self.ours.as_dict(),
            "baseline": self.baseline.as_dict(),
            "ratio": round(self.ratio, 3),
            "ratio_of": self.headline,
            "target": self.target,
            "met": self.met,
            "notes": self.notes,
        }


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


# ---- 1. turn latency ---------------------------------------------------------------------------


def measure_latency(plan: Plan, scratch: Path, report: Report) -> None:
    settings = Settings(
        store_url=f"sqlite:///{scratch / 'latency.sqlite3'}",
        verify=False,
        default_timezone="America/New_York",
    )
    ours = TurnTimer(create_app({"SETTINGS": settings}), MEASURED_TURNS)
    baseline = TurnTimer(hello_webhook.create_app(), hello_equivalent(MEASURED_TURNS))
    time_turns(
        ours,
        baseline,
        rounds=plan.latency_rounds,
        visits=plan.latency_visits,
        warmup=max(5, plan.latency_visits // 5),
    )
    for turn in MEASURED_TURNS:
        report.figures.append(
            Figure(
                f"turn latency: {turn.label}",
                "µs",
                summarize(ours.samples_us[turn.label]),
                summarize(baseline.samples_us[turn.label]),
                "≤ 1.0×",
                limit=1.0,
            )
        )
    every = [sample for samples in ours.samples_us.values() for sample in samples]
    every_baseline = [sample for samples in baseline.samples_us.values() for sample in samples]
    report.figures.append(
        Figure(
            "turn latency: all five turns",
            "µs",
            summarize(every),
            summarize(every_baseline),
            "≤ 1.0×",
            limit=1.0,
        )
    )


# ---- 2. verification ---------------------------------------------------------------------------


def measure_verification(plan: Plan, scratch: Path, report: Report) -> None:
    pki = SigningPKI.create(scratch / "pki-verification")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    session = Session("amzn1.ask.account.bench-verify")
    bodies = [
        session.body(MEASURED_TURNS[n % len(MEASURED_TURNS)], now)
        for n in range(plan.verification_requests)
    ]
    cached, fresh = time_verification(pki, BENCH_SKILL_ID, bodies, now=now)
    report.figures.append(
        Figure(
            "verification per request, chain cached",
            "µs",
            summarize(cached),
            summarize(fresh),
            "< 1.0× (chain validated once per URL)",
            limit=0.99,
            notes="baseline: the same verifier on a request whose chain it has not seen",
        )
    )


# ---- 3. load -----------------------------------------------------------------------------------


def _load_scripts(which: str, plan: Plan, pki: Any, recorder: Any, run_id: str) -> list[list[Any]]:
    """Signed scripts, one per virtual user (two visits each). Ours are recorded in process
    first, so each request carries the session attributes the real answer will have."""

    turns = LOAD_VISIT if which == "ours" else hello_equivalent(LOAD_VISIT)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    scripts = []
    visits_per_user = 2
    for user in range(max(1, plan.load_visits // visits_per_user)):
        session = Session(f"amzn1.ask.account.load-{run_id}-{which}-{user:05d}")
        script = []
        for _ in range(visits_per_user):
            for turn in turns:
                body = session.body(turn, now)
                script.append(Shot(turn.label, body, pki.headers(body)))
                if which == "ours":
                    status, answer = call_wsgi(recorder, body)
                    if status != 200:
                        raise RuntimeError(f"recording {turn.label}: HTTP {status}")
                    session.heard(answer)
                else:
                    session.open = False
        scripts.append(script)
    return scripts


def _answer_is_an_envelope(status: int, body: bytes) -> str | None:
    try:
        answer = json.loads(body)
    except ValueError:
        return "answer is not JSON"
    return None if isinstance(answer.get("response"), dict) else "answer has no response"


def measure_load(plan: Plan, scratch: Path, report: Report) -> None:
    pki_dir = scratch / "pki-load"
    pki = SigningPKI.create(pki_dir)
    recorder = create_app(
        {"SETTINGS": Settings(store_url="memory://", verify=False, default_timezone="UTC")}
    )
    results: dict[str, list[LoadResult]] = {"ours": [], "hello": []}
    peaks: dict[str, int] = {}
    store = f"sqlite:///{scratch / 'load.sqlite3'}"
    with (
        running_server("ours", scratch, pki_dir=pki_dir, store=store) as ours_server,
        running_server("hello", scratch, pki_dir=pki_dir) as hello_server,
    ):
        servers = {"ours": ours_server, "hello": hello_server}
        for number in range(plan.load_rounds):
            order = ("ours", "hello") if number % 2 == 0 else ("hello", "ours")
            for which in order:
                scripts = _load_scripts(which, plan, pki, recorder, uuid.uuid4().hex[:8])
                result = run_load(
                    HOST,
                    servers[which].port,
                    scripts,
                    concurrency=plan.load_users,
                    check=_answer_is_an_envelope,
                    deadline_s=120,
                )
                if result.errors:
                    raise RuntimeError(
                        f"{which}: {len(result.errors)} errors under load, e.g. "
                        f"{result.errors[:3]}\n{servers[which].log_tail()}"
                    )
                results[which].append(result)
        for which, server in servers.items():
            peaks[which] = server.peak_rss_kib()

    def throughputs(which: str) -> Summary:
        return summarize([result.throughput for result in results[which]])

    def latencies(which: str) -> list[float]:
        return [sample for result in results[which] for sample in result.latencies_ms]

    requests = {which: sum(r.requests for r in results[which]) for which in results}
    note = (
        f"{plan.load_users} users at once, {requests['ours']} requests to ours and "
        f"{requests['hello']} to the baseline, 0 errors; verification on; waitress, 8 threads"
    )
    report.figures += [
        Figure(
            "webhook throughput under load",
            "req/s",
            throughputs("ours"),
            throughputs("hello"),
            "≥ 1.0×",
            higher_is_better=True,
            limit=1.0,
            notes=note,
        ),
        Figure("webhook latency under load", "ms", *_both(latencies), "reported"),
        Figure(
            "webhook latency under load, p99",
            "ms",
            *_both(latencies),
            "reported",
            headline="p99",
        ),
    ]
    report.details["webhook_peak_rss_kib"] = peaks
    report.details["load_latency_ms"] = {
        which: summarize(latencies(which)).as_dict() for which in results
    }
    report.details["load_latency_by_turn_ms"] = {
        which: {
            label: summarize(
                [ms for r in results[which] for ms in r.by_label_ms.get(label, [])]
            ).as_dict()
            for label in sorted({label for r in results[which] for label in r.by_label_ms})
        }
        for which in results
    }


def _both(latencies: Callable[[str], list[float]]) -> tuple[Summary, Summary]:
    return summarize(latencies("ours")), summarize(latencies("hello"))


# ---- 4 and 5. start-up and memory --------------------------------------------------------------


# Every real Alexa request carries a token and endpoint for Alexa's APIs, so a real first answer
# asks the Settings API for the device's time zone: the Lambda events do too, against a TLS
# stand-in on loopback (the hello world is sent the same fields and ignores them).
API_TOKEN = "bench-api-access-token"


def _lambda_events(count: int, api_endpoint: str) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    user = f"amzn1.ask.account.lambda-{uuid.uuid4().hex[:8]}"
    return [
        envelope(
            LOAD_VISIT[n % len(LOAD_VISIT)].make(now),
            user_id=user,
            new_session=n == 0,
            api_endpoint=api_endpoint,
            api_access_token=API_TOKEN,
        )
        for n in range(count)
    ]


def _hello_events(count: int, api_endpoint: str) -> list[dict[str, Any]]:
    turns = hello_equivalent(LOAD_VISIT)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return [
        envelope(
            turns[n % len(turns)].make(now), api_endpoint=api_endpoint, api_access_token=API_TOKEN
        )
        for n in range(count)
    ]


def measure_start_and_memory(
    plan: Plan, scratch: Path, report: Report, *, start: bool, memory: bool
) -> None:
    lambda_starts: dict[str, list[float]] = {"ours": [], "hello": []}
    lambda_peaks: dict[str, list[float]] = {"ours": [], "hello": []}
    imports: dict[str, list[float]] = {"ours": [], "hello": []}
    (scratch / "alexa-api-tls").mkdir(exist_ok=True)
    tls = make_tls_files(scratch / "alexa-api-tls")
    with running_dynamodb() as dynamo_env, FakeAlexaApi(tls, zone="America/New_York") as api:
        events = {
            "ours": _lambda_events(50, api.endpoint),
            "hello": _hello_events(50, api.endpoint),
        }
        # Both trust the stand-in's CA, as a real function trusts Amazon's.
        trust = {"SSL_CERT_FILE": str(tls.ca), "REQUESTS_CA_BUNDLE": str(tls.ca)}
        ours_env = {**dynamo_env, **trust, "RLS_COACH_SKILL_ID": BENCH_SKILL_ID}
        for number in range(plan.start_runs):
            order = ("ours", "hello") if number % 2 == 0 else ("hello", "ours")
            for which in order:
                child = lambda_run(
                    LAMBDA_HANDLERS[which],
                    events[which] if memory else events[which][:1],
                    ours_env if which == "ours" else trust,
                )
                if "response" not in child["first"]:
                    raise RuntimeError(f"{which} Lambda answered {child['first']}")
                lambda_starts[which].append(child["start_to_answer_ms"])
                imports[which].append(child["import_ms"])
                lambda_peaks[which].append(child["peak_rss_kib"] / 1024)
        if not any(seen.authorization == f"Bearer {API_TOKEN}" for seen in api.seen):
            raise RuntimeError("the coach's Lambda never asked the Settings API for the time zone")
    if start:
        report.figures.append(
            Figure(
                "Lambda cold start to first answer",
                "ms",
                summarize(lambda_starts["ours"]),
                summarize(lambda_starts["hello"]),
                "≤ 1.2×",
                limit=1.2,
                notes=(
                    "fresh interpreter; ours with its DynamoDB store (moto on loopback) and the "
                    "device's time zone from a Settings API stand-in (TLS on loopback)"
                ),
            )
        )
        report.details["lambda_import_ms"] = {
            which: statistics.median(values) for which, values in imports.items()
        }
        pki_dir = scratch / "pki-start"
        pki = SigningPKI.create(pki_dir)
        webhook_starts: dict[str, list[float]] = {"ours": [], "hello": []}
        for number in range(plan.start_runs):
            order = ("ours", "hello") if number % 2 == 0 else ("hello", "ours")
            for which in order:
                session = Session(f"amzn1.ask.account.start-{uuid.uuid4().hex[:8]}")
                body = session.body(MEASURED_TURNS[0], dt.datetime.now(dt.UTC))
                webhook_starts[which].append(
                    first_answer_ms(
                        which,
                        scratch,
                        pki_dir=pki_dir,
                        body=body,
                        headers={"Content-Type": "application/json", **pki.headers(body)},
                        store=f"sqlite:///{scratch / f'start-{number}.sqlite3'}",
                    )
                )
        report.figures.append(
            Figure(
                "webhook start to first answer",
                "ms",
                summarize(webhook_starts["ours"]),
                summarize(webhook_starts["hello"]),
                "≤ 1.2×",
                limit=1.2,
                notes="process spawn to the first verified answer (SQLite store)",
            )
        )
    if memory:
        report.figures.append(
            Figure(
                "peak memory, Lambda process",
                "MiB",
                summarize(lambda_peaks["ours"]),
                summarize(lambda_peaks["hello"]),
                "≤ 1.2×",
                limit=1.2,
                notes="ru_maxrss after 50 turns in a fresh process",
            )
        )
        peaks = report.details.get("webhook_peak_rss_kib")
        if peaks:
            report.figures.append(
                Figure(
                    "peak memory, webhook process",
                    "MiB",
                    summarize([peaks["ours"] / 1024]),
                    summarize([peaks["hello"] / 1024]),
                    "≤ 1.2×",
                    limit=1.2,
                    notes="VmHWM of each server after the load test",
                )
            )


def compile_sources() -> None:
    """Byte-compile this checkout's packages before timing fresh processes.

    pip compiled the baseline's code (ask-sdk, in site-packages) when it was installed; the coach's
    own modules come from the checkout and are compiled on first import. Where
    PYTHONDONTWRITEBYTECODE is set, nothing writes that bytecode, so every fresh process would
    recompile them and the cold-start figure would time the compiler, not the start-up. Both
    sides' own packages (``skill``, ``webhook``, ``bench``) are compiled alike.
    """
    import compileall  # noqa: PLC0415

    for package in ("skill", "webhook", "bench"):
        if not compileall.compile_dir(REPO / package, quiet=1):
            raise RuntimeError(f"{package}: a module does not compile")


# ---- output ------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
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


def _cell(summary: Summary, unit: str, headline: str = "p50") -> str:
    value = getattr(summary, headline)
    digits = 0 if value >= 100 else 1
    if headline != "p50":
        return f"{headline} {value:.{digits}f} {unit}"
    spread = f"p90 {summary.p90:.{digits}f}, IQR {summary.iqr:.{digits}f}"
    if summary.count == 1:
        return f"{value:.{digits}f} {unit}"
    return f"{value:.{digits}f} {unit} ({spread})"


def table(figures: Sequence[Figure]) -> str:
    lines = [
        "| measure | ours: p50 (p90, IQR) | hello world: p50 (p90, IQR) | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for figure in figures:
        met = {True: "yes", False: "**no**", None: "–"}[figure.met]
        lines.append(
            f"| {figure.measure} | {_cell(figure.ours, figure.unit, figure.headline)} | "
            f"{_cell(figure.baseline, figure.unit, figure.headline)} | {figure.ratio:.2f}× | "
            f"{figure.target} | "
            f"{met} |"
        )
    return "\n".join(lines)


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"Measured {info['measured_at']} on {info['cpu']} ({info['nproc']} CPUs), "
        f"{info['implementation']} {info['python']}, {info['system']}, "
        f"ask-sdk-core {info['ask_sdk_core']}."
    )


def update_docs(path: Path, report_json: dict[str, Any], figures: Sequence[Figure]) -> None:
    text = path.read_text()
    if TABLE_BEGIN not in text or TABLE_END not in text:
        raise SystemExit(f"{path}: no {TABLE_BEGIN} … {TABLE_END} markers to replace")
    head, rest = text.split(TABLE_BEGIN, 1)
    _, tail = rest.split(TABLE_END, 1)
    summary = machine_line(report_json["machine"])
    block = f"{TABLE_BEGIN}\n{summary}\n\n{table(figures)}\n{TABLE_END}"
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
    report = Report()
    began = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="rls-coach-bench-") as directory,
        _quiet("webhook.app"),  # the in-process apps run unverified on purpose: not news here
    ):
        scratch = Path(directory)
        steps: list[tuple[str, Callable[[], None]]] = [
            ("latency", lambda: measure_latency(plan, scratch, report)),
            ("verification", lambda: measure_verification(plan, scratch, report)),
            ("load", lambda: measure_load(plan, scratch, report)),
        ]
        for name, step in steps:
            if name in sections:
                print(f"measuring {name} …", file=sys.stderr, flush=True)
                step()
        if "start" in sections or "memory" in sections:
            print("measuring start-up and memory …", file=sys.stderr, flush=True)
            compile_sources()
            measure_start_and_memory(
                plan, scratch, report, start="start" in sections, memory="memory" in sections
            )
    info["seconds"] = round(time.perf_counter() - began, 1)
    result = {
        "machine": info,
        "plan": plan.__dict__,
        "figures": [figure.as_dict() for figure in report.figures],
        "details": report.details,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(machine_line(info))
    print(table(report.figures))
    print(f"\nwritten to {args.output}")
    for path in args.docs:
        update_docs(path, result, report.figures)
        print(f"table updated in {path}")
    return 0
