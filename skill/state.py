"""What the coach remembers about a user between sessions, and nothing more.

Only deliberate fields are persisted: where they are in a routine, their pace, their bedtime, the
dates they completed routines or guided exercises (dates only: no health data), whether they heard
the disclaimer, and the choices they made about their routines (exercises left out, their own rep
counts, time to get ready). Records carry a version so a later change of shape can read older
ones: version 1 records (before the choices) load with none made.

One marshmallow schema defines a valid record: :func:`state_from_record` reads one through it and
:meth:`UserState.to_record` writes one with it. Unknown fields are ignored, so a record written by
a newer version (or a store's own bookkeeping, such as its revision) never stops a turn.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate

from skill.clock import ClockTimeError, parse_clock_time

logger = logging.getLogger(__name__)

STATE_VERSION = 2
KEEP_COMPLETIONS_DAYS = 62  # enough for "this week" and a monthly summary; older dates are dropped
MAX_INDEX = 100  # no routine has more steps, no exercise more segments
MAX_REMINDER_TOKENS = 20  # far more than anyone sets; a bound on what one record can hold
MAX_TOKEN_CHARS = 200


@dataclass
class Progress:
    """A place in a routine, or in a single guided exercise (``routine_id`` None)."""

    routine_id: str | None
    # The exercise being done: a single guided exercise's own id, or (in a routine) the current
    # step's exercise, so that a routine edited since the save is noticed rather than misread.
    exercise_id: str | None = None
    step: int = 0  # index into the routine's steps
    segment: int = 0  # index into the current exercise's spoken segments
    paused: bool = False
    updated_at: str = ""  # ISO 8601 UTC of the last turn that moved it
    # The flat rep the exercise's plan starts from: past 0 when a pace change cut in mid-side
    # (the reps before it were done at the old pace and are not done again).
    from_rep: int = 0
    # ISO 8601 UTC of the moment the segment's set ends, if it has been spoken; "" if it is
    # still to do. A set whose end has passed is finished and is never replayed.
    spoken_until: str = ""
    # Exercises of the routine not done this time (skipped ahead of time, or kept for later by a
    # short session): the routine's steps are walked without them.
    skipped: list[str] = field(default_factory=list)
    # Exercises a short session kept for later: once it finishes, the place waits at them.
    later: list[str] = field(default_factory=list)
    # In ready mode: the set's set-up has been said and the count waits for "ready".
    prepared: bool = False


@dataclass
class UserState:
    version: int = STATE_VERSION
    progress: Progress | None = None
    # A routine's place, kept aside while a single exercise is guided, so that "resume my
    # stretches" afterwards goes back to it.
    routine_place: Progress | None = None
    pace: str = "normal"
    bedtime: str | None = None  # "HH:MM" local; None means the configured default
    completions: dict[str, list[str]] = field(default_factory=dict)  # routine id → ISO dates
    disclaimer_heard: bool = False
    # The Alexa Reminders API's tokens for the reminders this coach set (nothing else about them),
    # and whether the one-time "shall I remind you?" after a first routine was already asked.
    reminder_tokens: list[str] = field(default_factory=list)
    reminder_offered: bool = False
    # The reminder the coach asked Alexa's permission for (the request's token), until the answer
    # comes: an answer that matches nothing asked for, or comes twice, sets nothing.
    reminder_asked: str | None = None
    # The local date ("YYYY-MM-DD") the user last said something hurt: on that day every start or
    # resume first asks whether they feel fine. A "yes" clears it.
    hurt_on: str | None = None
    # Choices kept from now on: exercises left out of every routine, reps per side by exercise
    # (within the article's range), and whether to wait for "ready" before counting.
    left_out: list[str] = field(default_factory=list)
    reps: dict[str, int] = field(default_factory=dict)
    ready_mode: bool = False
    # Local dates ("YYYY-MM-DD") on which a guided single exercise was finished.
    exercise_days: list[str] = field(default_factory=list)
    # What Alexa last told the skill (a skill event) about the reminders permission: "granted",
    # "revoked", or None when no event has come.
    reminder_consent: str | None = None
    # Sound cues during guided sets ("no sounds" turns them off, "sounds on" back on).
    sounds: bool = True

    def bedtime_time(self) -> dt.time | None:
        if not self.bedtime:
            return None
        try:
            return parse_clock_time(self.bedtime)
        except ClockTimeError:  # "99:99" passes the stored format check but is no time of day
            logger.warning("stored bedtime %r is not a time; using the default", self.bedtime)
            return None

    def record_completion(self, routine_id: str, day: dt.date) -> None:
        dates = set(self.completions.get(routine_id, []))
        dates.add(day.isoformat())
        cutoff = (day - dt.timedelta(days=KEEP_COMPLETIONS_DAYS)).isoformat()
        self.completions[routine_id] = sorted(d for d in dates if d >= cutoff)

    def record_exercise(self, day: dt.date) -> None:
        """A guided single exercise was finished on ``day``."""
        cutoff = (day - dt.timedelta(days=KEEP_COMPLETIONS_DAYS)).isoformat()
        days = {*self.exercise_days, day.isoformat()}
        self.exercise_days = sorted(d for d in days if d >= cutoff)

    def done_on(self, routine_id: str | None, day: dt.date) -> bool:
        """Whether the routine (any routine if None) was completed on ``day``."""
        routines = [routine_id] if routine_id else list(self.completions)
        return any(day.isoformat() in self.completions.get(r, []) for r in routines)

    def active_days(self) -> set[dt.date]:
        """Every day with a finished routine or guided exercise."""
        days = {d for dates in self.completions.values() for d in dates} | set(self.exercise_days)
        return {dt.date.fromisoformat(d) for d in days}

    def days_between(self, first: dt.date, last: dt.date) -> int:
        """Days from ``first`` to ``last`` (both included) with anything finished."""
        return sum(1 for day in self.active_days() if first <= day <= last)

    def days_this_week(self, routine_id: str | None, today: dt.date) -> int:
        """Distinct days since Monday on which the routine was completed; with ``routine_id``
        None, on which anything was (a routine or a guided exercise)."""
        monday = today - dt.timedelta(days=today.weekday())
        if routine_id is None:
            return self.days_between(monday, today)
        dates = self.completions.get(routine_id, [])
        return len({d for d in dates if monday.isoformat() <= d <= today.isoformat()})

    def days_in_a_row(self, today: dt.date) -> int:
        """The run of consecutive active days ending today (or yesterday, if today has none)."""
        days = self.active_days()
        day = today if today in days else today - dt.timedelta(days=1)
        count = 0
        while day in days:
            count += 1
            day -= dt.timedelta(days=1)
        return count

    def reset_choices(self) -> None:
        """Forget every choice kept from now on (progress and history stay)."""
        self.left_out = []
        self.reps = {}
        self.ready_mode = False
        self.pace = "normal"
        self.bedtime = None
        self.sounds = True

    def to_record(self) -> dict[str, Any]:
        """The record to store: every field, as plain JSON types."""
        return _SCHEMA.dump(self)


class UnreadableRecordError(ValueError):
    """A stored record does not pass the schema; the message says which fields, briefly."""


def load_state(record: Any) -> UserState:
    """Read a stored record (``{}`` or None: a new user), or raise UnreadableRecordError. The
    turn then keeps the record aside rather than replace it (``skill.builder``)."""
    if not record:
        return UserState()
    if not isinstance(record, Mapping):
        raise UnreadableRecordError(f"the record is a {type(record).__name__}, not a mapping")
    try:
        return _SCHEMA.load(record)
    except ValidationError as exc:
        raise UnreadableRecordError(_summary(exc.messages)) from None
    except (TypeError, ValueError) as exc:
        raise UnreadableRecordError(f"{type(exc).__name__}: {exc}"[:200]) from None


def state_from_record(record: Any) -> UserState:
    """Read a stored record; an unreadable one gives a fresh state and a warning, never an error
    (for tools and tests that only look; a turn uses :func:`load_state`)."""
    try:
        return load_state(record)
    except UnreadableRecordError as exc:
        logger.warning("stored user state is corrupt (%s); starting fresh", exc)
        return UserState()


_DATE = fields.String(validate=validate.Regexp(r"\A\d{4}-\d{2}-\d{2}\Z"))
_ID = fields.String(validate=validate.Regexp(r"\A[a-z][a-z0-9_]{0,63}\Z"))


def record_problems(record: Mapping[str, Any]) -> str | None:
    """Why ``record`` (from :meth:`UserState.to_record`) could not be read back, or None.

    Values from outside (a reminder token from Alexa's API, a bedtime heard) reach the state
    unchecked; a record that fails the schema would, on the next read, count as unreadable. So a
    turn checks what it is about to save, and saves nothing that it could not read again."""
    errors = _SCHEMA.validate(record)
    return _summary(errors) if errors else None


def _summary(messages: Any) -> str:
    """Which fields failed, e.g. ``reminder_tokens.0: Longer than maximum length 200.``; the
    values themselves are not quoted (they can be long, or the user's)."""
    parts: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and all(isinstance(item, str) for item in node):
            parts.append(f"{path or 'record'}: {' '.join(node)}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{path}.{index}")

    walk(messages, "")
    text = "; ".join(parts[:5]) + ("; …" if len(parts) > 5 else "")
    return text[:300]


class ProgressSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # fields a newer version added are ignored by an older reader

    routine_id = fields.String(allow_none=True, load_default=None)
    exercise_id = fields.String(allow_none=True, load_default=None)
    step = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INDEX))
    segment = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INDEX))
    paused = fields.Boolean(load_default=False)
    updated_at = fields.String(load_default="")
    from_rep = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INDEX))
    spoken_until = fields.String(load_default="")
    skipped = fields.List(_ID, load_default=list, validate=validate.Length(max=MAX_INDEX))
    later = fields.List(_ID, load_default=list, validate=validate.Length(max=MAX_INDEX))
    prepared = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Progress:
        return Progress(**data)


class UserStateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(load_default=STATE_VERSION)
    progress = fields.Nested(ProgressSchema, allow_none=True, load_default=None)
    routine_place = fields.Nested(ProgressSchema, allow_none=True, load_default=None)
    pace = fields.String(load_default="normal")
    bedtime = fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(r"\A\d{2}:\d{2}\Z")
    )
    completions = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(validate=validate.Regexp(r"\A\d{4}-\d{2}-\d{2}\Z"))),
        load_default=dict,
    )
    disclaimer_heard = fields.Boolean(load_default=False)
    reminder_tokens = fields.List(
        fields.String(validate=validate.Length(min=1, max=MAX_TOKEN_CHARS)),
        load_default=list,
        validate=validate.Length(max=MAX_REMINDER_TOKENS),
    )
    reminder_offered = fields.Boolean(load_default=False)
    reminder_asked = fields.String(
        allow_none=True, load_default=None, validate=validate.Length(max=MAX_TOKEN_CHARS * 2)
    )
    hurt_on = fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(r"\A\d{4}-\d{2}-\d{2}\Z")
    )
    left_out = fields.List(_ID, load_default=list, validate=validate.Length(max=MAX_INDEX))
    reps = fields.Dict(
        keys=_ID,
        values=fields.Integer(validate=validate.Range(min=1, max=MAX_INDEX)),
        load_default=dict,
        validate=validate.Length(max=MAX_INDEX),
    )
    ready_mode = fields.Boolean(load_default=False)
    exercise_days = fields.List(
        _DATE, load_default=list, validate=validate.Length(max=KEEP_COMPLETIONS_DAYS + 1)
    )
    reminder_consent = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(("granted", "revoked"))
    )
    sounds = fields.Boolean(load_default=True)  # records from before it had sounds on

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> UserState:
        if data["version"] > STATE_VERSION:
            logger.warning(
                "stored state has newer version %s; reading what is known", data["version"]
            )
        data["version"] = STATE_VERSION
        return UserState(**data)


# One instance for the process: load and dump keep no state on it, so sharing it is safe.
_SCHEMA = UserStateSchema()
