"""Summaries of timing samples: medians and spread, not means (one slow sample skews a mean)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    """Percentiles of a sample, in the sample's unit."""

    count: int
    p50: float
    p90: float
    p99: float
    iqr: float  # p75 - p25: the spread of the middle half
    minimum: float
    maximum: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(samples: Sequence[float]) -> Summary:
    if not samples:
        raise ValueError("no samples to summarise")
    ordered = sorted(samples)
    if len(ordered) == 1:
        only = ordered[0]
        return Summary(1, only, only, only, 0.0, only, only)
    # statistics.quantiles with n=100 gives the 1st..99th percentiles (inclusive method: the
    # sample's own range, no extrapolation past the slowest sample).
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return Summary(
        count=len(ordered),
        p50=statistics.median(ordered),
        p90=cuts[89],
        p99=cuts[98],
        iqr=cuts[74] - cuts[24],
        minimum=ordered[0],
        maximum=ordered[-1],
    )


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline else float("inf")
