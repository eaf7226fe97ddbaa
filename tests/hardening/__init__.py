"""Hardening: property-based fuzzing, concurrency, crash, load and store-fault tests.

Each test runs at a size that keeps ``make test`` quick; ``make stress`` sets RLS_COACH_STRESS=1
and the same tests run many times larger (see :mod:`tests.hardening.scale`).
"""
