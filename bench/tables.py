"""The benchmark's figures and the tables they are printed in, and the writer of docs/benchmarks.md.

Two kinds of row: what users feel (a cold Lambda's first answer, the webhook's latency at fixed
arrival rates) and what it costs (memory, a turn's time in process). Under load, a second table
shows each side at each rate in full: the rate achieved, p50/p99, and every request that went out
late or got no answer, so a rate a server cannot keep up with is plain to see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.load import OpenLoopResult
from bench.stats import Summary, ratio, summarize

SIDES = ("ours", "peer", "floor")
TABLE_BEGIN = "<!-- bench:table begin -->"
TABLE_END = "<!-- bench:table end -->"
TABLE_COLUMNS = ("measure", "ours", "peer", "floor", "ours / peer", "target", "met")
ARRIVAL_COLUMNS = (
    "rate",
    "side",
    "achieved",
    "p50",
    "p99",
    "max",
    "late sends",
    "errors",
    "timeouts",
    "not sent",
)
FELT_HEADING = "What users feel:"
COST_HEADING = "What it costs:"


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
    felt: bool = False  # what a user feels (cold start, latency under load), not what it costs
    failed: dict[str, int] = field(default_factory=dict)  # requests with no answer, by side

    def value(self, side: str) -> float:
        return getattr(self.sides[side], self.statistic)

    @property
    def ratio(self) -> float:
        return ratio(self.value("ours"), self.value("peer"))

    @property
    def met(self) -> bool:
        """The target, and every request sent to ours answered: a quick p99 over the answers
        of a server that left requests unanswered would flatter it."""
        return self.target.met(self.value("ours"), self.ratio) and not self.failed.get("ours")

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "unit": self.unit,
            "statistic": self.statistic,
            **{side: summary.as_dict() for side, summary in self.sides.items()},
            "ratio": round(self.ratio, 3),
            "target": self.target.describe(self.unit),
            "met": self.met,
            "felt": self.felt,
            "failed": self.failed,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class RateRow:
    """One side at one arrival rate, every round pooled: a row of the arrivals table."""

    rate: int
    side: str
    requests: int
    achieved: float  # answers a second
    latency: Summary | None  # from each request's due time to its answer; None: no answers
    send_lag_p99_ms: float
    late_sends: int
    errors: int
    timeouts: int
    not_sent: int

    @property
    def failed(self) -> int:
        return self.errors + self.timeouts + self.not_sent

    def as_dict(self) -> dict[str, Any]:
        row = {name: value for name, value in asdict(self).items() if name != "latency"}
        return {**row, "latency_ms": self.latency.as_dict() if self.latency else None}


def rate_row(rate: int, side: str, results: Sequence[OpenLoopResult]) -> RateRow:
    """Pool a side's runs at one rate: latencies together, the rate over their summed spans."""
    latencies = [ms for result in results for ms in result.latencies_ms]
    lags = [ms for result in results for ms in result.send_lags_ms]
    span = sum(result.span_s for result in results)
    answered = sum(len(result.answered) for result in results)
    return RateRow(
        rate=rate,
        side=side,
        requests=sum(len(result.arrivals) for result in results),
        achieved=answered / span if span else 0.0,
        latency=summarize(latencies) if latencies else None,
        send_lag_p99_ms=summarize(lags).p99 if lags else 0.0,
        late_sends=sum(result.late_sends for result in results),
        errors=sum(len(result.errors) for result in results),
        timeouts=sum(result.timeouts for result in results),
        not_sent=sum(result.not_sent for result in results),
    )


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    arrivals: list[RateRow] = field(default_factory=list)
    arrivals_note: str = ""  # how the arrivals were run, said above their table
    details: dict[str, Any] = field(default_factory=dict)


def number(value: float, unit: str) -> str:
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _head(columns: Sequence[str]) -> list[str]:
    return [_row(columns), "|" + " --- |" * len(columns)]


def figures_table(figures: Sequence[Figure]) -> str:
    lines = _head(TABLE_COLUMNS)
    for figure in figures:
        unanswered = figure.failed.get("ours", 0)
        verdict = "yes" if figure.met else "**no**"
        if unanswered:
            verdict += f" ({unanswered} unanswered)"
        cells = [
            figure.measure,
            *(number(figure.value(side), figure.unit) for side in SIDES),
            f"{figure.ratio:.2f}×",
            figure.target.describe(figure.unit),
            verdict,
        ]
        lines.append(_row(cells))
    return "\n".join(lines)


def arrivals_table(rows: Sequence[RateRow]) -> str:
    lines = _head(ARRIVAL_COLUMNS)
    for row in rows:
        latency = [
            number(getattr(row.latency, name), "ms") if row.latency else "–"
            for name in ("p50", "p99", "maximum")
        ]
        counts = [row.late_sends, row.errors, row.timeouts, row.not_sent]
        cells = [
            f"{row.rate} req/s",
            row.side,
            number(row.achieved, "req/s"),
            *latency,
            *(f"{count} of {row.requests}" if count else "0" for count in counts),
        ]
        lines.append(_row(cells))
    return "\n".join(lines)


def tables(report: Report) -> str:
    """Every table the run has rows for: felt, then the arrivals in full, then costs."""
    felt = [figure for figure in report.figures if figure.felt]
    costs = [figure for figure in report.figures if not figure.felt]
    parts = []
    if felt:
        parts += [FELT_HEADING, figures_table(felt)]
    if report.arrivals:
        parts += [report.arrivals_note, arrivals_table(report.arrivals)]
    if costs:
        parts += [COST_HEADING, figures_table(costs)]
    return "\n\n".join(parts)


def machine_line(info: Mapping[str, Any]) -> str:
    return (
        f"Measured {info['measured_at']} on {info['cpu']} ({info['nproc']} CPUs), "
        f"{info['implementation']} {info['python']}, {info['system']}, "
        f"ask-sdk-core {info['ask_sdk_core']}."
    )


def read_docs(path: Path) -> tuple[str, str]:
    """The benchmarks page around its tables: (before the begin marker, after the end marker)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read the benchmarks page ({exc.strerror})") from None
    if text.count(TABLE_BEGIN) != 1 or text.count(TABLE_END) != 1:
        raise SystemExit(f"{path}: needs one {TABLE_BEGIN} … {TABLE_END} pair to replace")
    head, rest = text.split(TABLE_BEGIN, 1)
    if TABLE_END not in rest:
        raise SystemExit(f"{path}: {TABLE_END} comes before {TABLE_BEGIN}")
    return head, rest.split(TABLE_END, 1)[1]


def update_docs(path: Path, info: Mapping[str, Any], report: Report) -> None:
    """Rewrite what lies between the page's ``bench:table`` markers; the rest stays as it is."""
    head, tail = read_docs(path)
    block = f"{TABLE_BEGIN}\n{machine_line(info)}\n\n{tables(report)}\n{TABLE_END}"
    path.write_text(head + block + tail)
