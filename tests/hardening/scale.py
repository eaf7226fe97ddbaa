"""How hard the hardening tests push: small in ``make test``, large in ``make stress``."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

STRESS = os.environ.get("RLS_COACH_STRESS", "").strip().lower() in {"1", "true", "yes", "on"}


def scaled(quick: int, stress: int) -> int:
    """A count for this run: ``quick`` in make test, ``stress`` in make stress."""
    return stress if STRESS else quick


def fuzz_settings(quick: int, stress: int) -> settings:
    """Hypothesis settings for a property test: bounded examples, no per-example deadline
    (a slow example on a loaded CI machine is not a failure), deterministic in make test."""
    return settings(
        max_examples=scaled(quick, stress),
        deadline=None,
        derandomize=not STRESS,  # make test is reproducible; make stress explores anew each run
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
