"""Hardening tests report a few figures (request counts, p99 latency) at the end of the run."""

from __future__ import annotations

from typing import Any

import pytest

REPORT_KEY = pytest.StashKey[list[str]]()


@pytest.fixture
def report_line(request: pytest.FixtureRequest) -> Any:
    """Call with a line of text to show in the run's summary (e.g. a load test's p99)."""
    lines = request.config.stash.setdefault(REPORT_KEY, [])
    return lines.append


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(REPORT_KEY, [])
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)
