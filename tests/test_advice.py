"""Advice verdicts as a table: every activity in the catalog × time of day × the user's bedtime.

The rows are written out by hand from the sources' rules, not computed: extreme forms are never
advised; nothing in the three hours before bed (or after it) nor at night; aerobic exercise is
best early in the day; the stretches in the morning and after work. A new activity in the catalog
without a row here fails the test until someone decides what the coach should say about it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from skill.advice import Reason, Verdict, advise, likely_bedtime, read_clock, resolve_moment
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from tests.support import Conversation

ZONE = ZoneInfo("America/New_York")
DAY = dt.date(2026, 11, 17)

# The columns: a morning, an afternoon, after work, three evening hours, late, and the small hours.
WINDOWS = ("08:00", "14:00", "17:30", "18:30", "19:30", "21:30", "23:30", "03:00")
CODES = {
    "Y": Verdict.YES,
    "L": Verdict.YES_WITH_LIMITS,
    "E": Verdict.EARLIER_IS_BETTER,
    "B": Verdict.BETTER_ANOTHER_TIME,
    "N": Verdict.NO,
}
NEVER = "N N N N N N N N"

# One row of verdicts (in the order of WINDOWS) per bedtime, in the order of BEDTIMES: 22:30 is
# the default; 00:30 a night owl (19:30 is then five hours before bed); 21:00 an early sleeper
# (18:30 is then inside the three hours).
BEDTIMES = ("22:30", "00:30", "21:00")
EXPECTED: dict[str, tuple[str, str, str]] = {
    # aerobic: best early in the day, at a moderate pace (every one has a limit)
    "swimming": ("L E E E B B B B", "L E E E E B B B", "L E E B B B B B"),
    "cycling": ("L E E E B B B B", "L E E E E B B B", "L E E B B B B B"),
    "walking": ("L E E E B B B B", "L E E E E B B B", "L E E B B B B B"),
    "running": ("L E E E B B B B", "L E E E E B B B", "L E E B B B B B"),
    # gentle mind-body and strength: morning or afternoon, within their limits
    "yoga": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    "pilates": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    "squats": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    "bridges": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    # exercise in general: earlier in the day, thirty minutes building up to an hour
    "exercise": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    # the stretches: morning, and again in the afternoon after work
    "stretching": ("Y Y Y Y B B B B", "Y Y Y Y Y B B B", "Y Y Y B B B B B"),
    # extreme forms: never
    "marathon": (NEVER, NEVER, NEVER),
    "hot_yoga": (NEVER, NEVER, NEVER),
    "extreme_exercise": (NEVER, NEVER, NEVER),
}
# Everyday activities the articles don't name (everyday_activities.yaml) follow their intensity
# band: light ones morning or afternoon, moderate ones the morning, vigorous ones never.
BAND_ROWS: dict[str, tuple[str, str, str]] = {
    "light": ("L L E E B B B B", "L L E E E B B B", "L L E B B B B B"),
    "moderate": ("L E E E B B B B", "L E E E E B B B", "L E E B B B B B"),
    "vigorous": (NEVER, NEVER, NEVER),
}


def expected_rows(catalog: Catalog, activity_id: str) -> tuple[str, str, str] | None:
    activity = catalog.activities[activity_id]
    if activity.met is not None:
        return BAND_ROWS[activity.intensity]
    return EXPECTED.get(activity_id)


def clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def at(text: str) -> dt.datetime:
    return dt.datetime.combine(DAY, clock(text), tzinfo=ZONE)


def test_every_activity_in_the_catalog_has_a_row(catalog: Catalog):
    named = {key for key, activity in catalog.activities.items() if activity.met is None}
    assert set(EXPECTED) == named
    for activity_id, rows in (*EXPECTED.items(), *BAND_ROWS.items()):
        for row in rows:
            assert len(row.split()) == len(WINDOWS), activity_id


@pytest.mark.parametrize("bedtime", BEDTIMES)
@pytest.mark.parametrize("activity_id", sorted(default_catalog().activities))
def test_verdict_table(catalog: Catalog, activity_id: str, bedtime: str):
    rows = expected_rows(catalog, activity_id)
    if rows is None:
        pytest.fail(f"activity '{activity_id}' has no row in the verdict table")
    row = rows[BEDTIMES.index(bedtime)]
    expected = [CODES[code] for code in row.split()]
    activity = catalog.activities[activity_id]
    got = [advise(activity, at(w), clock(bedtime), catalog.rules).verdict for w in WINDOWS]
    assert dict(zip(WINDOWS, got, strict=True)) == dict(zip(WINDOWS, expected, strict=True))


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ("19:30", Reason.NEAR_BEDTIME),  # exactly three hours before a 22:30 bedtime
        ("22:00", Reason.NEAR_BEDTIME),
        ("23:30", Reason.PAST_BEDTIME),
        ("02:00", Reason.PAST_BEDTIME),
        ("03:00", Reason.NIGHT),
        ("10:00", Reason.BEST_TIME),
        ("15:00", Reason.OFF_PEAK),
    ],
)
def test_the_reason_behind_a_swimming_verdict(catalog: Catalog, window: str, reason: Reason):
    advice = advise(catalog.activities["swimming"], at(window), dt.time(22, 30), catalog.rules)
    assert advice.reason is reason


def test_a_no_is_a_no_at_any_hour_and_names_a_gentler_alternative(catalog: Catalog):
    marathon = catalog.activities["marathon"]
    for hour in range(24):
        advice = advise(marathon, at(f"{hour}:00"), dt.time(22, 30), catalog.rules)
        assert advice.verdict is Verdict.NO and advice.reason is Reason.NOT_RECOMMENDED
    assert "{mph:10}" in marathon.instead


# ---- when a question is about -----------------------------------------------------------------


NOW = at("08:15")
BED = dt.time(22, 30)


@pytest.mark.parametrize(
    ("phrase_id", "expected"),
    [
        ("now", NOW),
        ("this_morning", at("08:00")),
        ("after_work", at("17:30")),
        ("this_evening", at("19:30")),
        ("tonight", at("21:30")),
        ("before_bed", at("22:00")),  # thirty minutes before the user's bedtime
    ],
)
def test_time_phrases_resolve_on_the_request_day(catalog: Catalog, phrase_id, expected):
    moment = resolve_moment(catalog, NOW, BED, phrase_id=phrase_id, phrase_words="words")
    assert moment.understood and moment.at == expected


@pytest.mark.parametrize(
    ("value", "expected", "clock_given"),
    [
        ("22:30", at("22:30"), True),
        ("07:05:00", at("19:05"), True),  # asked at 08:15: the next 7:05 is this evening
        ("10:00", at("10:00"), True),
        ("5 pm", at("17:00"), True),
        ("7:05 am", at("07:05") + dt.timedelta(days=1), True),  # said as a.m., and past: tomorrow
        ("MO", at("08:00"), False),
        ("AF", at("14:00"), False),
        ("EV", at("19:30"), False),
        ("NI", at("21:30"), False),
    ],
)
def test_amazon_time_values(catalog: Catalog, value, expected, clock_given):
    moment = resolve_moment(catalog, NOW, BED, time_value=value)
    assert moment.understood and moment.at == expected
    assert (moment.clock is not None) is clock_given


@pytest.mark.parametrize("value", ["XX", "25:00", "13", "2026-11-17T10:00", "PM", " "])
def test_an_unreadable_time_means_now_and_says_so(catalog: Catalog, value):
    moment = resolve_moment(catalog, NOW, BED, time_value=value)
    assert moment.at == NOW
    assert moment.understood is (not value.strip())


def test_unresolved_time_words_mean_now_and_say_so(catalog: Catalog):
    moment = resolve_moment(catalog, NOW, BED, phrase_words="next blue moon")
    assert moment.at == NOW and not moment.understood


def test_no_time_at_all_means_now(catalog: Catalog):
    moment = resolve_moment(catalog, NOW, BED)
    assert moment.at == NOW and moment.understood and moment.clock is None


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("10:30", "22:30"),  # "ten thirty": a bedtime, so the evening
        ("05:00", "17:00"),
        ("11:59", "23:59"),
        ("12:30", "00:30"),  # "twelve thirty": just past midnight
        ("00:00", "00:00"),
        ("01:15", "01:15"),  # the small hours stay as said
        ("04:59", "04:59"),
        ("23:00", "23:00"),  # an explicit evening time stays
        ("6 am", "06:00"),  # a night-shift bedtime said with "am" stays as said
        ("9 pm", "21:00"),
        ("21:45", "21:45"),
    ],
)
def test_a_spoken_bedtime_is_read_as_the_likely_clock_time(said: str, stored: str):
    parsed = read_clock(said)
    assert parsed is not None
    assert likely_bedtime(parsed[0], meridiem_said=parsed[1]).strftime("%H:%M") == stored


# ---- a part of the day with no clock time ------------------------------------------------------


def test_this_evening_is_answered_as_a_range_up_to_the_bedtime_buffer(skill):
    morning = dt.datetime(2026, 11, 17, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    talk = Conversation(skill=skill, now=morning)
    heard = talk.intent(
        "CanIDoIntent", activity=("swim", "swimming"), when=("this evening", "this_evening")
    ).text
    # Bedtime 10:30 PM, three hours kept free: fine earlier, close to bedtime from 7:30.
    assert "Earlier in the evening is fine; from about 7:30 PM" in heard
    assert not heard.startswith("I'd save that for another time")


def test_an_evening_wholly_before_the_buffer_is_no_range(skill):
    morning = dt.datetime(2026, 11, 17, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    talk = Conversation(skill=skill, now=morning)
    talk.intent("SetBedtimeIntent", bedtime="01:00")
    heard = talk.intent(
        "CanIDoIntent", activity=("swim", "swimming"), when=("this evening", "this_evening")
    ).text
    assert "from about" not in heard and "close to your bedtime" not in heard


def test_an_evening_already_past_the_edge_is_close_to_bedtime(skill):
    late = dt.datetime(2026, 11, 17, 20, 15, tzinfo=ZoneInfo("America/New_York"))
    talk = Conversation(skill=skill, now=late)
    heard = talk.intent(
        "CanIDoIntent", activity=("swim", "swimming"), when=("this evening", "this_evening")
    ).text
    assert "close to your bedtime" in heard and "Earlier in the evening is fine" not in heard
