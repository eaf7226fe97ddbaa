"""What the coach remembers about a user between sessions, and nothing more.

Only deliberate fields are persisted: where they are in a routine, their pace, their bedtime, the
dates they completed routines (dates only: no health data) and whether they heard the disclaimer.
Records carry a version so a later change of shape can read older ones.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

STATE_VERSION = 1
KEEP_COMPLETIONS_DAYS = 62  # enough for "this week" and a monthly summary; older dates are dropped


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


@dataclass
class UserState:
    version: int = STATE_VERSION
    progress: Progress | None = None
    pace: str = "normal"
    bedtime: str | None = None  # "HH:MM" local; None means the configured default
    completions: dict[str, list[str]] = field(default_factory=dict)  # routine id → ISO dates
    disclaimer_heard: bool = False

    def bedtime_time(self) -> dt.time | None:
        if not self.bedtime:
            return None
        try:
            hours, minutes = (int(part) for part in self.bedtime.split(":"))
            return dt.time(hours, minutes)
        except ValueError:  # "99:99" passes the stored format check but is no time of day
            logger.warning("stored bedtime %r is not a time; using the default", self.bedtime)
            return None

    def record_completion(self, routine_id: str, day: dt.date) -> None:
        dates = set(self.completions.get(routine_id, []))
        dates.add(day.isoformat())
        cutoff = (day - dt.timedelta(days=KEEP_COMPLETIONS_DAYS)).isoformat()
        self.completions[routine_id] = sorted(d for d in dates if d >= cutoff)

    def days_this_week(self, routine_id: str | None, today: dt.date) -> int:
        """Distinct days since Monday on which the routine (any routine if None) was completed."""
        monday = today - dt.timedelta(days=today.weekday())
        routines = [routine_id] if routine_id else list(self.completions)
        days = {
            d
            for r in routines
            for d in self.completions.get(r, [])
            if monday.isoformat() <= d <= today.isoformat()
        }
        return len(days)

    def to_record(self) -> dict[str, Any]:
        record = _fast_record(self)
        if record is None:  # a field holds a type the state never should: let marshmallow say
            record = _schema().dump(self)
        return record


def state_from_record(record: Any) -> UserState:
    """Read a stored record; an unreadable one gives a fresh state and a warning, never an error."""
    if not record:
        return UserState()
    state = _fast_state(record)
    return state if state is not None else _schema_state(record)


def loaded_state(record: Any) -> tuple[UserState, dict[str, Any]]:
    """The state in a stored ``record``, and ``state.to_record()`` as it is now: what a turn
    compares with at the end to tell whether there is anything to save.

    A complete current record (every field, as this code writes it) is its own ``to_record()``:
    it is returned as it is rather than written again (~2 µs of every turn in a real visit).
    tests/test_state_fast_path.py checks that with Hypothesis."""
    if not record:
        state = UserState()
        return state, state.to_record()
    state = _fast_state(record)
    if state is None:
        state = _schema_state(record)
        return state, state.to_record()
    progress = record.get("progress")
    if len(record) == len(_STATE_KEYS) and (
        progress is None or len(progress) == len(_PROGRESS_KEYS)
    ):
        return state, record
    return state, state.to_record()


def _schema_state(record: Any) -> UserState:
    """The state the schema reads from ``record``; a fresh one (and a warning) if it refuses."""
    from marshmallow import ValidationError  # noqa: PLC0415 - only off the fast path

    try:
        if not isinstance(record, dict):
            raise ValidationError("not a mapping")
        if int(record.get("version", STATE_VERSION)) > STATE_VERSION:
            logger.warning(
                "stored state has newer version %s; reading what is known", record["version"]
            )
        return _schema().load(_plain(record))
    except (ValidationError, TypeError, ValueError) as exc:
        logger.warning("stored user state is corrupt (%s); starting fresh", exc)
        return UserState()


# ---- the fast path ----------------------------------------------------------------------------
# The marshmallow schema (skill.state_schema) is the definition of a valid record, but validating
# with it costs ~60 µs a turn (load once, dump twice) and importing marshmallow ~50 ms of a cold
# start. Nearly every record is one this code wrote itself: the current version, exact JSON types.
# Such records are read and written directly here; anything else (an older or newer version, an
# unknown field, a Decimal, a str where an int belongs, a value out of range) goes to the schema.
# tests/test_state_fast_path.py proves with Hypothesis that both give the same result.

_STATE_KEYS = frozenset(
    ("version", "progress", "pace", "bedtime", "completions", "disclaimer_heard")
)
_PROGRESS_KEYS = frozenset(("routine_id", "exercise_id", "step", "segment", "paused", "updated_at"))
# The schema's patterns, matched as marshmallow's Regexp does (re.match).
BEDTIME_PATTERN = re.compile(r"^\d{2}:\d{2}$")
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_INDEX = 100  # the schema's range for step and segment


def _fast_state(record: Any) -> UserState | None:
    """The state in ``record`` if it is plainly a current record; None to ask the schema."""
    if type(record) is not dict or not _STATE_KEYS.issuperset(record):
        return None
    version = record.get("version", STATE_VERSION)
    pace = record.get("pace", "normal")
    bedtime = record.get("bedtime")
    heard = record.get("disclaimer_heard", False)
    if (
        type(version) is not int
        or version != STATE_VERSION
        or type(pace) is not str
        or not (bedtime is None or (type(bedtime) is str and BEDTIME_PATTERN.match(bedtime)))
        or type(heard) is not bool
    ):
        return None
    completions = _fast_completions(record.get("completions", {}))
    if completions is None:
        return None
    progress: Progress | None = None
    if record.get("progress") is not None:
        progress = _fast_progress(record["progress"])
        if progress is None:
            return None
    return UserState(
        version=STATE_VERSION,
        progress=progress,
        pace=pace,
        bedtime=bedtime,
        completions=completions,
        disclaimer_heard=heard,
    )


def _fast_completions(value: Any) -> dict[str, list[str]] | None:
    if type(value) is not dict:
        return None
    completions: dict[str, list[str]] = {}
    for routine_id, dates in value.items():
        if type(routine_id) is not str or type(dates) is not list:
            return None
        for day in dates:
            if type(day) is not str or not DATE_PATTERN.match(day):
                return None
        completions[routine_id] = list(dates)  # a copy: the state is changed in place
    return completions


def _fast_progress(value: Any) -> Progress | None:
    if type(value) is not dict or not _PROGRESS_KEYS.issuperset(value):
        return None
    routine_id = value.get("routine_id")
    exercise_id = value.get("exercise_id")
    step = value.get("step", 0)
    segment = value.get("segment", 0)
    paused = value.get("paused", False)
    updated_at = value.get("updated_at", "")
    if (
        not (routine_id is None or type(routine_id) is str)
        or not (exercise_id is None or type(exercise_id) is str)
        or type(step) is not int
        or not 0 <= step <= MAX_INDEX
        or type(segment) is not int
        or not 0 <= segment <= MAX_INDEX
        or type(paused) is not bool
        or type(updated_at) is not str
    ):
        return None
    return Progress(routine_id, exercise_id, step, segment, paused, updated_at)


def _fast_record(state: UserState) -> dict[str, Any] | None:
    """What the schema's dump gives for a state of plain types; None to ask the schema."""
    progress = state.progress
    progress_record: dict[str, Any] | None = None
    if progress is not None:
        if not (
            type(progress) is Progress
            and (progress.routine_id is None or type(progress.routine_id) is str)
            and (progress.exercise_id is None or type(progress.exercise_id) is str)
            and type(progress.step) is int
            and type(progress.segment) is int
            and type(progress.paused) is bool
            and type(progress.updated_at) is str
        ):
            return None
        progress_record = {
            "routine_id": progress.routine_id,
            "exercise_id": progress.exercise_id,
            "step": progress.step,
            "segment": progress.segment,
            "paused": progress.paused,
            "updated_at": progress.updated_at,
        }
    completions = state.completions
    if not (
        type(state.version) is int
        and type(state.pace) is str
        and (state.bedtime is None or type(state.bedtime) is str)
        and type(state.disclaimer_heard) is bool
        and type(completions) is dict
        and all(
            type(routine_id) is str
            and type(dates) is list
            and all(type(day) is str for day in dates)
            for routine_id, dates in completions.items()
        )
    ):
        return None
    return {
        "version": state.version,
        "progress": progress_record,
        "pace": state.pace,
        "bedtime": state.bedtime,
        "completions": {routine_id: list(dates) for routine_id, dates in completions.items()},
        "disclaimer_heard": state.disclaimer_heard,
    }


def _schema() -> Any:
    from skill.state_schema import SCHEMA  # noqa: PLC0415 - imports marshmallow

    return SCHEMA


def _plain(value: Any) -> Any:
    """DynamoDB hands numbers back as Decimal; turn them into ints so the schema accepts them."""
    from decimal import Decimal  # noqa: PLC0415 - tiny, only needed for non-JSON stores

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
