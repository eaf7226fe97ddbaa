"""What a reminder request says about time and days, read from its words: "every weekday at half
seven in the morning", "on Mondays and Thursdays at 9", "in twenty minutes", "an hour before bed",
"make it 8". The words each reading listens for are content (content/reminder_words.yaml); numbers
come from the coach's number table. Alexa may send a slot normalised ("07:30", "MO", "PT1H") or as
the words said; both are read here, so the in-process resolver, virtual-alexa and a device agree.

Nothing here decides the reminder (which half of the day a bare hour is, the first day it rings):
:mod:`skill.reminders` does that from what is read here, the clock and the bedtime.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from skill.coach.exercise_speech import SPOKEN_NUMBERS

CONTENT = Path(__file__).resolve().parent / "content" / "reminder_words.yaml"
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PARTS = ("morning", "afternoon", "evening", "night")
# AMAZON.TIME sends a part of the day alone as these codes.
PART_CODES = {"MO": "morning", "AF": "afternoon", "EV": "evening", "NI": "night"}
_ISO_DURATION = re.compile(r"\Apt?(?:(\d+)h)?(?:(\d+)m)?(?:\d+s)?\Z")
_CLOCK = re.compile(r"\A(\d{1,2}):(\d{2})(?::\d{2})?\Z")


def _phrases() -> fields.List[str]:
    return fields.List(fields.String(validate=validate.Length(min=1)), required=True)


class _WindDownSchema(Schema):
    class Meta:
        unknown = RAISE

    words = _phrases()
    tip = fields.String(required=True)
    point = fields.Integer(required=True, validate=validate.Range(min=1))


class _WordsSchema(Schema):
    class Meta:
        unknown = RAISE

    meridiem = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("am", "pm"))), values=_phrases()
    )
    parts = fields.Dict(keys=fields.String(validate=validate.OneOf(PARTS)), values=_phrases())
    named_clocks = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"\A\d\d:\d\d\Z")), values=_phrases()
    )
    fractions = fields.Dict(
        keys=fields.String(), values=fields.Integer(validate=validate.Range(1, 59))
    )
    past = _phrases()
    to = _phrases()
    oclock = _phrases()
    relative_lead = _phrases()
    units = fields.Dict(
        keys=fields.String(validate=validate.OneOf(("minutes", "hours"))), values=_phrases()
    )
    one = _phrases()
    half_an_hour = _phrases()
    bed = _phrases()
    before = _phrases()
    before_bed_default_minutes = fields.Integer(required=True, validate=validate.Range(1, 240))
    days = fields.Dict(keys=fields.String(validate=validate.OneOf(DAY_CODES)), values=_phrases())
    every = _phrases()
    daily = _phrases()
    weekdays = _phrases()
    weekends = _phrases()
    every_other_day = _phrases()
    times_a_week = _phrases()
    twice = _phrases()
    once_a_week = _phrases()
    today = _phrases()
    tomorrow = _phrases()
    # Spelled like Schema.only, which mypy sees; marshmallow takes declared fields off the class.
    only = _phrases()  # type: ignore[assignment]
    wind_down = fields.Dict(keys=fields.String(), values=fields.Nested(_WindDownSchema))
    max_reminders = fields.Integer(required=True, validate=validate.Range(1, 100))


class WordsError(ValueError):
    """The reminder words file is not valid; the message names the file and every field."""


def load_vocabulary(path: Path = CONTENT) -> dict[str, Any]:
    """A reminder words file, checked: an unknown key or a wrong value fails loudly, naming the
    file and the field."""
    try:
        return _WordsSchema().load(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        problems = "; ".join(f"{field}: {message}" for field, message in exc.messages_dict.items())
        raise WordsError(f"{path.name}: {problems}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise WordsError(f"{path.name}: cannot be read ({exc})") from None


@functools.cache
def vocabulary() -> dict[str, Any]:
    """content/reminder_words.yaml, loaded once per process (on the first reminder turn, so a
    Lambda that never sets a reminder never reads it); `rls-coach validate` checks it too."""
    return load_vocabulary()


def words_of(text: str) -> list[str]:
    """Lower-case words: "7.30" as "7:30", "a.m." and "7am" as "am", hyphens as spaces."""
    text = str(text).lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d)\.(?=\d\d)", ":", text)
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)
    text = re.sub(r"(\d)([a-z])", r"\1 \2", text)
    text = re.sub(r"[^a-z0-9':]+", " ", text)
    return [word.strip("'") for word in text.split() if word.strip("'")]


# Spoken numbers as words ("twenty five" → 25), from the table the coach counts with.
_NUMBERS = {tuple(words_of(word)): value for value, word in enumerate(SPOKEN_NUMBERS["en"])}


def _split(phrases: Iterable[str]) -> list[tuple[str, ...]]:
    """Phrases as word tuples, longest first (so "every day" wins over "every")."""
    return sorted({tuple(words_of(p)) for p in phrases if words_of(p)}, key=len, reverse=True)


@dataclass(frozen=True)
class Heard:
    """Everything the words said about when. ``meridiem`` is "am" or "pm" when the words said
    which half of the day; ``part`` a part of the day named ("every morning"); ``one_off`` is
    "today", "tomorrow" or a day code; ``times_a_week`` a count of days still to be named."""

    clock: dt.time | None = None
    meridiem: str | None = None
    part: str | None = None
    relative: dt.timedelta | None = None
    before_bed: dt.timedelta | None = None
    repeat: str | None = None  # "daily", "weekdays", "weekly" (on ``days``)
    days: tuple[str, ...] = ()
    interval: int = 1
    times_a_week: int | None = None
    one_off: str | None = None
    wind_down: str | None = None
    leftover: tuple[str, ...] = field(default=(), compare=False)

    @property
    def says_days(self) -> bool:
        return bool(self.repeat or self.one_off or self.times_a_week)

    @property
    def says_time(self) -> bool:
        return bool(self.clock or self.part or self.relative or self.before_bed)

    def clock_as_said(self) -> tuple[dt.time, bool] | None:
        """The clock with its half of the day applied, and whether the words decided it."""
        if self.clock is None:
            return None
        hour = self.clock.hour
        if self.meridiem and 1 <= hour <= 12:
            hour = hour % 12 + (12 if self.meridiem == "pm" else 0)
            return self.clock.replace(hour=hour), True
        return self.clock, not 1 <= hour <= 12


class _Reader:
    """One pass over the words; each reading takes the words it used, so none is read twice."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(words)
        self.used = [False] * len(words)

    def find(self, phrases: Iterable[str], start: int = 0) -> tuple[int, int] | None:
        for at in range(start, len(self.words)):
            for phrase in _split(phrases):
                end = at + len(phrase)
                if tuple(self.words[at:end]) == phrase and not any(self.used[at:end]):
                    return at, end
        return None

    def at(self, position: int, phrases: Iterable[str]) -> int | None:
        """The end of one of ``phrases`` starting at ``position``, if one does."""
        for phrase in _split(phrases):
            end = position + len(phrase)
            if tuple(self.words[position:end]) == phrase and not any(self.used[position:end]):
                return end
        return None

    def take(self, start: int, end: int) -> None:
        for position in range(max(start, 0), min(end, len(self.used))):
            self.used[position] = True

    def number(self, position: int) -> tuple[int, int] | None:
        """A number at ``position`` ("7", "seven", "forty five"): its value and end."""
        if position >= len(self.words) or self.used[position]:
            return None
        word = self.words[position]
        if word.isdigit():
            return int(word), position + 1
        for size in (2, 1):
            value = _NUMBERS.get(tuple(self.words[position : position + size]))
            if value is not None and not any(self.used[position : position + size]):
                return value, position + size
        return None


def read(*texts: str | None) -> Heard:
    """What ``texts`` (slot values or free words, in order) say about when."""
    words = [w for text in texts if text for w in words_of(_iso_duration(text))]
    vocab = vocabulary()
    reader = _Reader(words)
    found: dict[str, Any] = {}
    found["wind_down"] = _wind_down(reader, vocab)
    found["relative"] = _relative(reader, vocab)
    found["before_bed"] = _before_bed(reader, vocab)
    found.update(_repeat(reader, vocab))
    clock, meridiem = _clock(reader, vocab)
    part = _part(reader, vocab)
    for code, name in PART_CODES.items():  # AMAZON.TIME's own part-of-day values
        if code.lower() in reader.words and part is None and clock is None:
            part = name
    if found.get("one_off") is None:
        found["one_off"] = _one_off(reader, vocab)
    leftover = tuple(w for w, used in zip(reader.words, reader.used, strict=True) if not used)
    return Heard(clock=clock, meridiem=meridiem, part=part, leftover=leftover, **found)


def _iso_duration(text: str) -> str:
    """AMAZON.DURATION's "PT1H30M" as words ("in 1 hours 30 minutes" reads as 90 minutes)."""
    match = _ISO_DURATION.match(text.strip().lower())
    if not match or not text.strip().lower().startswith("pt") or not (match[1] or match[2]):
        return text
    return f"in {int(match[1] or 0) * 60 + int(match[2] or 0)} minutes"


def _wind_down(reader: _Reader, vocab: dict[str, Any]) -> str | None:
    for name, entry in vocab["wind_down"].items():
        span = reader.find(entry["words"])
        if span:
            reader.take(*span)
            return name
    return None


def _amount(
    reader: _Reader, position: int, vocab: dict[str, Any]
) -> tuple[dt.timedelta, int] | None:
    """ "an hour", "twenty minutes", "half an hour", "2 hours" at ``position``; and its end."""
    end = reader.at(position, vocab["half_an_hour"])
    if end is not None:
        return dt.timedelta(minutes=30), end
    end = reader.at(position, vocab["one"])
    count = (1, end) if end is not None else reader.number(position)
    if count is None:
        return None
    for unit, names in vocab["units"].items():
        after = reader.at(count[1], names)
        if after is not None:
            return dt.timedelta(**{unit: count[0]}), after
    return None


def _relative(reader: _Reader, vocab: dict[str, Any]) -> dt.timedelta | None:
    for position in range(len(reader.words)):
        if reader.at(position, vocab["relative_lead"]) == position + 1:
            amount = _amount(reader, position + 1, vocab)
            if amount is not None and reader.at(amount[1], vocab["before"]) is None:
                reader.take(position, amount[1])
                return amount[0]
    # AMAZON.DURATION sent as the words alone ("an hour", "twenty minutes").
    amount = _amount(reader, 0, vocab) if reader.words else None
    if amount is not None and amount[1] == len(reader.words):
        reader.take(0, amount[1])
        return amount[0]
    return None


def _before_bed(reader: _Reader, vocab: dict[str, Any]) -> dt.timedelta | None:
    for position in range(len(reader.words)):
        before = reader.at(position, vocab["before"])
        if before is None or reader.at(before, vocab["bed"]) is None:
            continue
        end = reader.at(before, vocab["bed"]) or before
        for start in range(max(0, position - 4), position):
            amount = _amount(reader, start, vocab)
            if amount is not None and amount[1] == position:
                reader.take(start, end)
                return amount[0]
        reader.take(position, end)
        return dt.timedelta(minutes=vocab["before_bed_default_minutes"])
    return None


def _repeat(reader: _Reader, vocab: dict[str, Any]) -> dict[str, Any]:
    if span := reader.find(vocab["every_other_day"]):
        reader.take(*span)
        return {"repeat": "daily", "interval": 2}
    if span := reader.find(vocab["times_a_week"]):
        count = reader.number(span[0] - 1) if span[0] else None
        reader.take(span[0] - (1 if count else 0), span[1])
        if count and count[1] == span[0] and 1 <= count[0] <= 7:
            return {"times_a_week": count[0]}
    if span := reader.find(vocab["twice"]):
        reader.take(*span)
        return {"times_a_week": 2}
    if span := reader.find(vocab["weekdays"]):
        reader.take(*span)
        return {"repeat": "weekdays"}
    if span := reader.find(vocab["weekends"]):
        reader.take(*span)
        return {"repeat": "weekly", "days": ("SA", "SU")}
    named: set[str] = set()
    repeating = False
    single = {phrase[0] for phrase in _split(vocab["every"]) if len(phrase) == 1}
    for code, names in vocab["days"].items():
        while span := reader.find(names):
            word = reader.words[span[0]]
            every = span[0] > 0 and reader.words[span[0] - 1] in single
            repeating = repeating or every or (word.endswith("s") and not word.endswith("ss"))
            reader.take(span[0] - (1 if every else 0), span[1])
            named.add(code)
    if named and (repeating or len(named) > 1):
        if named == set(DAY_CODES):
            return {"repeat": "daily"}
        return {"repeat": "weekly", "days": tuple(c for c in DAY_CODES if c in named)}
    if named:
        return {"one_off": next(iter(named))}
    if span := reader.find(vocab["daily"]):
        # "every morning" is daily and says the morning: the part is read from the same words.
        return {"repeat": "daily"}
    if span := reader.find(vocab["once_a_week"]):
        reader.take(*span)
        return {"times_a_week": 1}
    return {}


def _clock(reader: _Reader, vocab: dict[str, Any]) -> tuple[dt.time | None, str | None]:
    for position in range(len(reader.words)):
        read = _clock_at(reader, position, vocab)
        if read is None:
            continue
        clock, end = read
        named = _named_clock(reader, position, vocab) is not None
        reader.take(position, end)
        meridiem = ("am" if clock.hour == 0 else "pm") if named else None
        for which, phrases in vocab["meridiem"].items():
            after = reader.at(end, phrases)
            if after is not None:
                meridiem = which
                reader.take(end, after)
                break
        return clock, meridiem
    return None, None


def _clock_at(reader: _Reader, position: int, vocab: dict[str, Any]) -> tuple[dt.time, int] | None:
    if reader.used[position]:
        return None
    word = reader.words[position]
    if named := _named_clock(reader, position, vocab):
        return named
    if match := _CLOCK.match(word):
        hh, mm = int(match[1]), int(match[2])
        return (dt.time(hh, mm), position + 1) if hh <= 23 and mm <= 59 else None
    minutes = _minutes(reader, position, vocab)
    if minutes is not None:  # "half past seven", "quarter to eight", "twenty past six"
        value, end = minutes
        for joint, sign in (("past", 1), ("to", -1)):
            after = reader.at(end, vocab[joint])
            hour = _hour(reader, after) if after is not None else None
            if hour is not None:
                moment = dt.datetime(2000, 1, 2, hour[0]) + dt.timedelta(minutes=sign * value)
                return moment.time(), hour[1]
        if reader.words[position] == "half" and (hour := _hour(reader, end)):
            return dt.time(hour[0], 30), hour[1]  # "half seven": half past seven
    hour = _hour(reader, position)
    if hour is None:
        return None
    end = hour[1]
    if (after := reader.at(end, vocab["oclock"])) is not None:
        return dt.time(hour[0]), after
    minute = _clock_minutes(reader, end)
    if minute is not None:
        return dt.time(hour[0], minute[0]), minute[1]
    return dt.time(hour[0]), end


def _named_clock(
    reader: _Reader, position: int, vocab: dict[str, Any]
) -> tuple[dt.time, int] | None:
    """ "noon", "midnight": a time that says its half of the day."""
    for clock, phrases in vocab["named_clocks"].items():
        end = reader.at(position, phrases)
        if end is not None:
            return dt.time.fromisoformat(clock), end
    return None


def _minutes(reader: _Reader, position: int, vocab: dict[str, Any]) -> tuple[int, int] | None:
    end = reader.at(position, list(vocab["fractions"]))
    if end is not None:
        return vocab["fractions"][reader.words[position]], end
    number = reader.number(position)
    if number is None or not 1 <= number[0] <= 30:
        return None
    after = reader.at(number[1], vocab["units"]["minutes"])
    return number[0], after if after is not None else number[1]


def _hour(reader: _Reader, position: int) -> tuple[int, int] | None:
    number = reader.number(position)
    return number if number is not None and 0 <= number[0] <= 23 else None


def _clock_minutes(reader: _Reader, position: int) -> tuple[int, int] | None:
    """ "thirty", "forty five", "oh five", "30" after an hour ("seven thirty")."""
    if (
        position < len(reader.words)
        and reader.words[position] in ("oh", "o")
        and not reader.used[position]
    ):
        unit = reader.number(position + 1)
        return (unit[0], unit[1]) if unit is not None and unit[0] <= 9 else None
    number = reader.number(position)
    if number is None or not 0 <= number[0] <= 59:
        return None
    if (
        position < len(reader.words)
        and reader.words[position].isdigit()
        and len(reader.words[position]) < 2
    ):
        return None
    return number


def _part(reader: _Reader, vocab: dict[str, Any]) -> str | None:
    for part, phrases in vocab["parts"].items():
        for phrase in _split(phrases):
            size = len(phrase)
            for at in range(len(reader.words) - size + 1):
                if tuple(reader.words[at : at + size]) == phrase and not any(
                    reader.used[at : at + size]
                ):
                    return part
    for which, phrases in vocab["meridiem"].items():  # "at night", "pm" said on their own
        if reader.find(phrases):
            return "morning" if which == "am" else None
    return None


def _one_off(reader: _Reader, vocab: dict[str, Any]) -> str | None:
    for name in ("tomorrow", "today"):
        if any(
            tuple(reader.words[i : i + len(p)]) == p
            for p in _split(vocab[name])
            for i in range(len(reader.words))
        ):
            return name
    return None


def read_clock_words(*texts: str | None) -> tuple[dt.time, bool] | None:
    """A spoken clock time ("half ten", "8 am", "22:30", "quarter past eleven at night"), from
    one or more slot values in order: the time and whether the words said which half of the day.
    None when no time is said."""
    return read(*texts).clock_as_said()
