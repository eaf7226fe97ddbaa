"""The next bedtime is the earliest of yesterday's, today's and tomorrow's that is at most four
hours past, in any zone, across daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from skill.clock import hours_before_bedtime, is_near_bedtime, next_bedtime
from tests.hardening.scale import fuzz_settings

NEW_YORK = ZoneInfo("America/New_York")
ZONES = [dt.UTC, NEW_YORK, ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]


def earliest_candidate(now: dt.datetime, bedtime: dt.time) -> dt.datetime:
    """The rule as first written: every candidate, then the least that qualifies."""
    today = now.replace(hour=bedtime.hour, minute=bedtime.minute, second=0, microsecond=0)
    candidates = (today + dt.timedelta(days=offset) for offset in (-1, 0, 1))
    return min(c for c in candidates if c >= now - dt.timedelta(hours=4))


@fuzz_settings(quick=500, stress=10000)
@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 2),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(ZONES),
        allow_imaginary=True,
    ),
    st.times(),
)
@example(dt.datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), dt.time(2, 30))
@example(dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK), dt.time(1, 0))
@example(dt.datetime(2026, 11, 18, 2, 29, tzinfo=NEW_YORK), dt.time(22, 30))
def test_next_bedtime_is_the_earliest_candidate(now, bedtime):
    found = next_bedtime(now, bedtime)
    expected = earliest_candidate(now, bedtime)
    assert found == expected
    assert (found.tzinfo, found.fold, found.replace(tzinfo=None)) == (
        expected.tzinfo,
        expected.fold,
        expected.replace(tzinfo=None),
    )


@fuzz_settings(quick=500, stress=10000)
@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 2),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.one_of(st.none(), st.sampled_from(ZONES)),
        allow_imaginary=True,
    ),
    st.times(),
)
@example(dt.datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK), dt.time(2, 30))
@example(dt.datetime(2026, 3, 8, 3, 30, tzinfo=NEW_YORK), dt.time(2, 30))
@example(dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK), dt.time(1, 0))
@example(dt.datetime(2026, 11, 18, 2, 30, tzinfo=NEW_YORK), dt.time(22, 30))
@example(dt.datetime(2026, 11, 18, 2, 30, 0, 1, tzinfo=NEW_YORK), dt.time(22, 30))
def test_hours_before_bedtime_is_the_time_to_the_next_bedtime(moment, bedtime):
    expected = (next_bedtime(moment, bedtime) - moment).total_seconds() / 3600
    assert hours_before_bedtime(moment, bedtime) == expected
    buffer = 2.5
    assert is_near_bedtime(moment, bedtime, buffer) == (expected <= buffer)
