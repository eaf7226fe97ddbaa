"""The next bedtime is the earliest of yesterday's, today's and tomorrow's that is at most four
hours past, in any zone, across daylight-saving changes; and how many hours away it is. And an
"HH:MM" clock time is read the same way, with the same error, by the operator's settings and by
the content."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from skill.catalog.loader import collect_errors
from skill.catalog.model import CONTENT_DIR
from skill.clock import hours_before_bedtime, is_near_bedtime, next_bedtime
from skill.settings import Settings, SettingsError
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


# Written "HH:MM" → the time read, or None where it is refused.
CLOCK_TIMES = [
    ("22:30", dt.time(22, 30)),
    ("7:05", dt.time(7, 5)),
    ("07:05", dt.time(7, 5)),
    ("00:00", dt.time(0, 0)),
    ("23:59", dt.time(23, 59)),
    ("24:00", None),
    ("22:60", None),
    ("7:5", None),
    ("123:00", None),
    ("22:30:00", None),  # seconds are read only from Alexa's AMAZON.TIME values
    ("10 pm", None),
    ("22.30", None),
    ("２２:３０", None),  # full-width digits
]


@pytest.mark.parametrize(("written", "time"), CLOCK_TIMES)
def test_an_operator_bedtime_is_read_or_refused_naming_the_variable(written, time):
    environ = {"RLS_COACH_BEDTIME": written}
    if time is not None:
        assert Settings.from_env(environ).default_bedtime == time
        return
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(environ)
    assert str(refused.value) == (
        f'RLS_COACH_BEDTIME: expected a 24-hour time like "22:30", got {written!r}'
    )


@pytest.mark.parametrize(("written", "time"), CLOCK_TIMES)
def test_a_content_clock_time_is_read_or_refused_naming_its_place(written, time, tmp_path: Path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    rules = content / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert 'default_bedtime: "22:30"' in text
    rules.write_text(text.replace('default_bedtime: "22:30"', f'default_bedtime: "{written}"'))
    catalog, errors = collect_errors(content)
    if time is not None:
        assert errors == [] and catalog is not None
        assert catalog.rules.default_bedtime == time
        return
    assert [str(error) for error in errors] == [
        f'rules.yaml → default_bedtime: expected a 24-hour time like "22:30", got {written!r}'
    ]
