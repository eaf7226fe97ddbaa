"""Hardening tests report a few figures (request counts, p99 latency) at the end of the run.

A figure travels as a user property of the test's report, so it reaches the summary from xdist
workers too.
"""

from __future__ import annotations

from typing import Any

import pytest

FIGURE = "hardening figure"


@pytest.fixture
def report_line(request: pytest.FixtureRequest) -> Any:
    """Call with a line of text to show in the run's summary (e.g. a load test's p99)."""

    def add(line: str) -> None:
        request.node.user_properties.append((FIGURE, line))

    return add


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = [
        value
        for report in terminalreporter.stats.get("passed", [])
        if report.when == "call"
        for name, value in report.user_properties
        if name == FIGURE
    ]
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)
