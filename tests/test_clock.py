"""The next bedtime is the earliest of yesterday's, today's and tomorrow's that is at most four
hours past, in any zone, across daylight-saving changes; and how many hours away it is."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from skill.clock import hours_before_bedtime, is_near_bedtime, next_bedtime
from tests.hardening.scale import fuzz_settings

NEW_YORK = ZoneInfo("America/New_York")
ZONES = [dt.UTC, NEW_YORK, ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]


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
def test_next_bedtime_is_the_earliest_bedtime_at_most_four_hours_past(now, bedtime):
    found = next_bedtime(now, bedtime)
    assert (found.hour, found.minute, found.second, found.microsecond) == (
        bedtime.hour,
        bedtime.minute,
        0,
        0,
    )
    assert found.tzinfo is now.tzinfo
    grace = dt.timedelta(hours=4)
    assert found >= now - grace  # not more than four hours past
    assert found - dt.timedelta(days=1) < now - grace  # and no earlier bedtime qualifies


@pytest.mark.parametrize(
    ("clock", "day", "hours"),
    [
        ("21:00", 17, 1.5),  # the evening before a 22:30 bedtime
        ("22:30", 17, 0.0),
        ("08:15", 17, 14.25),  # the morning: tonight's bedtime
        ("01:00", 18, -2.5),  # the small hours: last night's, passed
        ("02:30", 18, -4.0),  # four hours past: still last night's
        ("02:31", 18, 19.983333333333334),  # after that, tonight's
    ],
)
def test_hours_before_a_22_30_bedtime(clock, day, hours):
    moment = dt.datetime.combine(
        dt.date(2026, 11, day), dt.time.fromisoformat(clock), tzinfo=NEW_YORK
    )
    assert hours_before_bedtime(moment, dt.time(22, 30)) == pytest.approx(hours)
    assert is_near_bedtime(moment, dt.time(22, 30), 3) == (hours <= 3)


def test_a_bedtime_across_a_daylight_saving_change_counts_real_hours():
    # 8 March 2026, New York: clocks go from 2:00 to 3:00. From 20:00 the evening before to a
    # 22:30 bedtime is 2.5 hours on the wall clock, whatever the night brings after.
    evening = dt.datetime(2026, 3, 7, 20, 0, tzinfo=NEW_YORK)
    assert hours_before_bedtime(evening, dt.time(22, 30)) == pytest.approx(2.5)
