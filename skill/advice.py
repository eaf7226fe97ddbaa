""" "Can I swim tonight?": activity × moment × the user's bedtime → a verdict with its reason.

Pure decisions from the catalog: ``activities.yaml`` (allowed, best_times, limit, instead) and
``rules.yaml`` (day parts, the hours before bedtime kept free of exercise). No speech here: the
handlers turn an :class:`Advice` into words from ``speech/en/answers.yaml``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from skill.catalog.model import Activity, Catalog, Rules
from skill.clock import ClockTimeError, hours_before_bedtime, next_bedtime, parse_clock_time


class Verdict(StrEnum):
    YES = "yes"  # a good time, nothing to hold back on
    YES_WITH_LIMITS = "yes_with_limits"  # a good time, within the activity's limit
    EARLIER_IS_BETTER = "earlier_is_better"  # fine now, but it works best at another time of day
    BETTER_ANOTHER_TIME = "better_another_time"  # too close to bedtime, or the middle of the night
    NO = "no"  # the sources advise against it at any time


class Reason(StrEnum):
    NOT_RECOMMENDED = "not_recommended"
    NEAR_BEDTIME = "near_bedtime"
    PAST_BEDTIME = "past_bedtime"
    NIGHT = "night"
    OFF_PEAK = "off_peak"
    BEST_TIME = "best_time"


@dataclass(frozen=True, slots=True)
class Advice:
    activity: Activity
    verdict: Verdict
    reason: Reason
    day_part: str
    hours_to_bedtime: float


def advise(activity: Activity, moment: dt.datetime, bedtime: dt.time, rules: Rules) -> Advice:
    """The verdict for doing ``activity`` at ``moment`` (aware, local) for someone who goes to
    bed at ``bedtime``. Order matters: a "no" holds at any hour; then nothing in the hours before
    bed ("it's best to avoid any kind of exercise before going to bed") or at night; then the
    activity's own best times of day."""
    day_part = rules.day_part(moment.time())
    hours = hours_before_bedtime(moment, bedtime)

    def advice(verdict: Verdict, reason: Reason) -> Advice:
        return Advice(activity, verdict, reason, day_part, hours)

    if not activity.allowed:
        return advice(Verdict.NO, Reason.NOT_RECOMMENDED)
    if hours <= rules.bedtime_buffer_hours:  # is_near_bedtime, without working out hours twice
        reason = Reason.PAST_BEDTIME if hours < 0 else Reason.NEAR_BEDTIME
        return advice(Verdict.BETTER_ANOTHER_TIME, reason)
    if day_part == "night":
        # "It'll produce better results than if you do it at night": even a night owl's hours
        # well before bed are not the time for exercise.
        return advice(Verdict.BETTER_ANOTHER_TIME, Reason.NIGHT)
    if day_part not in activity.best_times:
        return advice(Verdict.EARLIER_IS_BETTER, Reason.OFF_PEAK)
    verdict = Verdict.YES_WITH_LIMITS if activity.limit else Verdict.YES
    return advice(verdict, Reason.BEST_TIME)


# --------------------------------------------------------------------------------------------
# "When": a time phrase ("tonight"), an AMAZON.TIME value ("22:30", "EV"), or nothing (now)
# --------------------------------------------------------------------------------------------

# AMAZON.TIME gives parts of the day as these codes; each means the catalog's time phrase.
TIME_PERIOD_PHRASES = {
    "MO": "this_morning",
    "AF": "this_afternoon",
    "EV": "this_evening",
    "NI": "tonight",
}
# Time phrases that name a part of the day rather than a moment in it: "can I swim this evening"
# is about the whole evening (rules.yaml's day parts), not the moment its clock time stands for.
DAY_PART_PHRASES = {
    "this_morning": "morning",
    "this_afternoon": "afternoon",
    "this_evening": "evening",
}
# A time with its a.m. or p.m. still in words ("5 pm", "6:30 a.m."), as some clients send it.
_SPOKEN_CLOCK = re.compile(r"^(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*([ap])\.?\s*m\.?$", re.IGNORECASE)
_DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Moment:
    """The moment a question is about. ``understood`` is False when words were given for the time
    but could not be read, and "now" was used instead; ``clock`` is set for an explicit time.
    For a part of the day ("this evening"), ``day_part`` names it and ``span`` is its start and
    end; ``at`` stays the phrase's own clock time."""

    at: dt.datetime
    understood: bool = True
    clock: dt.time | None = None
    day_part: str | None = None
    span: tuple[dt.datetime, dt.datetime] | None = None


def parse_clock(value: str | None) -> dt.time | None:
    """An AMAZON.TIME clock value ("22:30", "07:05:00", or "5 pm" with its a.m. or p.m. in words)
    as a time; None for anything else."""
    read = read_clock(value)
    return read[0] if read else None


def read_clock(value: str | None) -> tuple[dt.time, bool] | None:
    """The time, and whether the words themselves said a.m. or p.m. AMAZON.TIME sends "five" as
    "05:00", so a normalised morning hour may have meant the evening."""
    text = (value or "").strip()
    with contextlib.suppress(ClockTimeError):
        return parse_clock_time(text, seconds=True), False
    if text.isdigit() and 1 <= int(text) <= 12:  # "5", as a client that does not normalise sends
        return dt.time(int(text) % 12 + (12 if int(text) == 12 else 0), 0), False
    if match := _SPOKEN_CLOCK.match(text):
        hour = int(match[1]) % 12 + (12 if match[3].lower() == "p" else 0)
        return dt.time(hour, int(match[2] or 0)), True
    return None


def next_such_time(now: dt.datetime, clock: dt.time, *, meridiem_said: bool) -> dt.datetime:
    """ "Can I swim at 5?" asked at 9 AM means 5 PM: the next time the clock shows what was said.
    A morning hour whose evening twin is still ahead today is taken as that evening (unless a.m.
    was said); a time already past today means tomorrow."""
    today = _on_day(now, clock)
    if today >= now:
        return today
    if not meridiem_said and 1 <= clock.hour <= 11:
        evening = today + dt.timedelta(hours=12)
        if evening >= now:
            return evening
    return today + _DAY


def resolve_moment(
    catalog: Catalog,
    now: dt.datetime,
    bedtime: dt.time,
    *,
    phrase_id: str | None = None,
    phrase_words: str | None = None,
    time_value: str | None = None,
) -> Moment:
    """The moment a question is about, on the request's own local date. A clock time given with
    AMAZON.TIME wins over a time phrase; words that cannot be read mean "now", said as such."""
    time_value = (time_value or "").strip()
    if time_value:
        read = read_clock(time_value)
        if read is not None:
            at = next_such_time(now, read[0], meridiem_said=read[1])
            return Moment(at, clock=at.time().replace(second=0, microsecond=0))
        period = TIME_PERIOD_PHRASES.get(time_value.upper())
        if period in catalog.time_phrases:
            phrase_id = period
        elif not phrase_id:
            return Moment(now, understood=False)
    if phrase_id is not None and phrase_id in catalog.time_phrases:
        phrase = catalog.time_phrases[phrase_id]
        if phrase.at is not None:
            part = DAY_PART_PHRASES.get(phrase.id)
            span = _day_part_span(catalog.rules, now, part) if part else None
            return Moment(_on_day(now, phrase.at), day_part=part if span else None, span=span)
        if phrase.before_bed_minutes is not None:
            bed = next_bedtime(now, bedtime)
            return Moment(bed - dt.timedelta(minutes=phrase.before_bed_minutes))
        return Moment(now)
    if phrase_id or phrase_words:
        return Moment(now, understood=False)
    return Moment(now)


def _day_part_span(
    rules: Rules, now: dt.datetime, part: str
) -> tuple[dt.datetime, dt.datetime] | None:
    """Today's start and end of the day part ``part`` (the next part's start); None if the
    rules have no such part or it is the last."""
    parts = list(rules.day_parts)
    at = next((i for i, p in enumerate(parts) if p.id == part), None)
    if at is None or at + 1 >= len(parts):
        return None
    return _on_day(now, parts[at].starts), _on_day(now, parts[at + 1].starts)


def bedtime_edge(
    moment: Moment, now: dt.datetime, bedtime: dt.time, rules: Rules
) -> dt.datetime | None:
    """For a part of the day still to come, the moment inside it from which it is close to
    bedtime (the bedtime buffer begins): earlier is fine, later is not. None when the whole
    part is on one side of that moment, or the question named no part of the day."""
    if moment.span is None:
        return None
    start, end = max(moment.span[0], now), moment.span[1]
    if start >= end:
        return None
    edge = next_bedtime(start, bedtime) - dt.timedelta(hours=float(rules.bedtime_buffer_hours))
    return edge if start < edge < end else None


def _on_day(now: dt.datetime, clock: dt.time) -> dt.datetime:
    return now.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)


# --------------------------------------------------------------------------------------------
# Bedtime as people say it
# --------------------------------------------------------------------------------------------


def likely_bedtime(clock: dt.time, *, meridiem_said: bool = False) -> dt.time:
    """AMAZON.TIME gives "ten thirty" as 10:30 with no a.m. or p.m. Bedtimes from 5 to 11:59 are
    taken as evening (10:30 → 22:30), 12 as just past midnight (12:30 → 00:30); the rest of the
    clock (the small hours, or an explicit 23:00) stays as said, and so does a time whose a.m. or
    p.m. was said in words (a night-shift "6 am"). The skill confirms it back."""
    if meridiem_said:
        return clock
    if 5 <= clock.hour <= 11:
        return clock.replace(hour=clock.hour + 12)
    if clock.hour == 12:
        return clock.replace(hour=0)
    return clock
