"""The routine player: where a user is in a routine, and where each command takes them.

A pure state machine over (catalog, :class:`~skill.state.Progress`, pace): no I/O and no ask-sdk
types. It answers "where am I" (:meth:`RoutinePlayer.place`) and "where does next / back / start
over / pause / resume take me" by returning a new Progress; handlers speak the result.

A position is (routine step, segment): each exercise is spoken in segments planned by
:func:`skill.coach.exercise_speech.plan_segments` for the user's pace, so "next" walks segment by
segment, then exercise by exercise. A guided single exercise is a Progress with ``routine_id``
None and ``exercise_id`` set: the same moves over one step.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Any

from skill.catalog.model import Catalog, Exercise, Pace, Routine
from skill.coach.exercise_speech import (
    ExerciseSpeaker,
    ExerciseVoice,
    Segment,
    frame_seconds,
    longest_phrases,
    plan_segments,
    remember,
)
from skill.records import Record
from skill.state import Progress

logger = logging.getLogger(__name__)


class Place(Record):
    """A Progress resolved against the catalog: everything needed to speak where the user is."""

    routine: Routine | None
    exercise: Exercise
    step: int
    step_count: int
    reps: int  # per side
    segments: tuple[Segment, ...]
    segment_index: int
    next_exercise: Exercise | None  # the routine's next exercise, if any

    @property
    def segment(self) -> Segment:
        return self.segments[self.segment_index]

    @property
    def next_segment(self) -> Segment | None:
        """The next segment of this exercise, or None at its last."""
        index = self.segment_index + 1
        return self.segments[index] if index < len(self.segments) else None

    @property
    def is_last(self) -> bool:
        """Speaking this segment finishes the routine (or the single exercise)."""
        return self.next_segment is None and self.next_exercise is None


def stamp(now: dt.datetime) -> str:
    """The ``updated_at`` of a Progress: ISO 8601 in UTC, to the second."""
    return now.astimezone(dt.UTC).isoformat(timespec="seconds")


class RoutinePlayer:
    """Moves through routines for one user's pace. Every move returns a new Progress.

    A player holds nothing of a user or a turn: it is a pure function of (catalog, pace, language),
    so :func:`player_for` keeps one per pace, and each remembers the places it has resolved."""

    def __init__(self, catalog: Catalog, pace: Pace, language: str = "en") -> None:
        self.catalog = catalog
        self.pace = pace
        self.language = language
        # (routine id, exercise id, step, segment) → the Place: a routine turn resolves the
        # user's progress two or three times (~5 µs each), and a place is all catalog data.
        self._places: dict[tuple[Any, ...], Place] = {}
        # (routine id, or the exercise id of a guided exercise) → each step's exercise id.
        self._step_ids: dict[tuple[str | None, str | None], tuple[str, ...]] = {}
        # Routine id → its estimated seconds at this pace (see estimated_seconds).
        self._routine_seconds: dict[str, float] = {}
        # What the exercises say at this pace, remembered across turns.
        self.speaker = ExerciseSpeaker(catalog, language, pace.factor)
        self._phrase = longest_phrases(catalog, language)
        limit = catalog.rules.max_segment_seconds
        # The budget for a segment's own speech: what the opening and close around it leave.
        # The first and last exercises carry the routine's introduction and its finish.
        self._budgets = {
            (first, last): limit - frame_seconds(self._phrase, first=first, last=last)
            for first in (False, True)
            for last in (False, True)
        }

    # ---- what the user is doing --------------------------------------------------------------

    def voice_for_plan(self, exercise: Exercise, reps: int) -> ExerciseVoice:
        return ExerciseVoice(exercise, reps, self.pace.factor, self._phrase, self.language)

    def segments(
        self, exercise: Exercise, reps: int, *, first: bool, last: bool
    ) -> tuple[Segment, ...]:
        """How the exercise is cut at this pace, as the first and/or last step of its routine."""
        budget = self._budgets[(first, last)]
        return plan_segments(self.voice_for_plan(exercise, reps), budget)

    def steps(self, progress: Progress) -> list[tuple[Exercise, int]] | None:
        """(exercise, reps per side) for each step of what ``progress`` is in; None if the
        catalog no longer has it (content changed, or a corrupt record)."""
        if progress.routine_id is None:
            exercise = self.catalog.exercises.get(progress.exercise_id or "")
            return [(exercise, exercise.reps.guided)] if exercise else None
        routine = self.catalog.routines.get(progress.routine_id)
        if routine is None:
            return None
        out = []
        for step in routine.steps:
            exercise = self.catalog.exercises[step.exercise]
            out.append((exercise, step.reps or exercise.reps.guided))
        return out

    def place(self, progress: Progress | None) -> Place | None:
        """Where ``progress`` points, or None if it points nowhere that exists."""
        if progress is None:
            return None
        # Only these fields locate a place (not ``paused`` or ``updated_at``).
        key = (progress.routine_id, progress.exercise_id, progress.step, progress.segment)
        place = self._places.get(key)
        if place is None:
            place = self.find_place(progress)
            if place is not None:  # a place that is not there is looked for (and logged) again
                remember(self._places, key, place)
        return place

    def find_place(self, progress: Progress) -> Place | None:
        """:meth:`place`, worked out afresh."""
        steps = self.steps(progress)
        if not steps or not 0 <= progress.step < len(steps):
            logger.warning("progress %s points at nothing in the catalog", progress)
            return None
        exercise, reps = steps[progress.step]
        if progress.routine_id is not None and progress.exercise_id not in (None, exercise.id):
            # The routine was edited since this was saved: that step is another exercise now.
            logger.warning("routine %s changed under saved progress", progress.routine_id)
            return None
        last_step = len(steps) - 1
        segments = self.segments(
            exercise, reps, first=progress.step == 0, last=progress.step == last_step
        )
        next_step = progress.step + 1
        return Place(
            routine=self.catalog.routines.get(progress.routine_id or ""),
            exercise=exercise,
            step=progress.step,
            step_count=len(steps),
            reps=reps,
            segments=segments,
            # A plan can shrink if the content changed; the last segment is the nearest place.
            segment_index=min(progress.segment, len(segments) - 1),
            next_exercise=steps[next_step][0] if next_step < len(steps) else None,
        )

    def estimated_seconds(self, routine: Routine) -> float:
        """How long the routine's speech runs at this pace, counting every segment."""
        # Every routine start says "about N minutes": summing every segment of every exercise
        # took longer than the rest of the turn. It is pure (catalog, language and pace are the
        # player's), so it is worked out once per routine, found by id (hashing the frozen
        # routine itself cost ~2 µs a start).
        seconds = self._routine_seconds.get(routine.id)
        if seconds is None:
            seconds = self._sum_segment_seconds(routine)
            self._routine_seconds[routine.id] = seconds  # one per routine of the catalog
        return seconds

    def _sum_segment_seconds(self, routine: Routine) -> float:
        total = 0.0
        last_step = len(routine.steps) - 1
        for index, step in enumerate(routine.steps):
            exercise = self.catalog.exercises[step.exercise]
            voice = self.voice_for_plan(exercise, step.reps or exercise.reps.guided)
            budget = self._budgets[(index == 0, index == last_step)]
            for segment in plan_segments(voice, budget):
                total += voice.body(segment).seconds
        return total

    # ---- moves -------------------------------------------------------------------------------

    def start_routine(self, routine_id: str, now: dt.datetime) -> Progress:
        routine = self.catalog.routines[routine_id]
        first = routine.steps[0].exercise
        return Progress(routine_id=routine_id, exercise_id=first, updated_at=stamp(now))

    def start_exercise(self, exercise_id: str, now: dt.datetime) -> Progress:
        if exercise_id not in self.catalog.exercises:
            raise KeyError(f"unknown exercise '{exercise_id}'")
        return Progress(routine_id=None, exercise_id=exercise_id, updated_at=stamp(now))

    def advance(self, progress: Progress, now: dt.datetime) -> Progress | None:
        """The next segment, or the next exercise's first; None when nothing is left."""
        place = self.place(progress)
        if place is None or place.is_last:
            return None
        if place.next_segment is not None:
            return self._at(progress, place.step, place.segment_index + 1, now)
        return self._at(progress, place.step + 1, 0, now)

    def back(self, progress: Progress, now: dt.datetime) -> tuple[Progress, bool]:
        """The previous segment; from an exercise's first segment, the previous exercise's start.
        The flag is False when already at the very start (the place stays)."""
        place = self.place(progress)
        if place is None:
            return progress, False
        if place.segment_index > 0:
            return self._at(progress, place.step, place.segment_index - 1, now), True
        if place.step > 0:
            return self._at(progress, place.step - 1, 0, now), True
        return self._at(progress, 0, 0, now), False

    def start_over(self, progress: Progress, now: dt.datetime) -> Progress:
        return self._at(progress, 0, 0, now)

    def pause(self, progress: Progress, now: dt.datetime) -> Progress:
        return dataclasses.replace(progress, paused=True, updated_at=stamp(now))

    def resume(self, progress: Progress, now: dt.datetime) -> Progress:
        return dataclasses.replace(progress, paused=False, updated_at=stamp(now))

    def repace(self, progress: Progress, old: RoutinePlayer, now: dt.datetime) -> Progress:
        """The same place under this player's pace: the segment holding the rep the old pace's
        segment started with (segments are cut differently at different paces)."""
        old_place = old.place(progress)
        new_place = self.place(progress)
        if old_place is None or new_place is None:
            return progress
        first_rep = old_place.segment.first
        index = next(
            (i for i, s in enumerate(new_place.segments) if s.first <= first_rep <= s.last), 0
        )
        return self._at(progress, progress.step, index, now)

    def is_stale(self, progress: Progress, now: dt.datetime) -> bool:
        """Saved longer ago than ``rules.resume_within_hours``: offer a fresh start instead."""
        try:
            saved = dt.datetime.fromisoformat(progress.updated_at)
        except ValueError:
            return True
        if saved.tzinfo is None:
            saved = saved.replace(tzinfo=dt.UTC)
        hours = (now - saved).total_seconds() / 3600
        return hours > self.catalog.rules.resume_within_hours

    def _at(self, progress: Progress, step: int, segment: int, now: dt.datetime) -> Progress:
        # Every move lands here: the steps are looked up once per routine (not rebuilt each
        # move), and the Progress is made directly (dataclasses.replace costs ~1.5 µs more).
        steps = self._steps_of(progress)
        exercise_id = steps[step] if step < len(steps) else progress.exercise_id
        return Progress(progress.routine_id, exercise_id, step, segment, False, stamp(now))

    def _steps_of(self, progress: Progress) -> tuple[str, ...]:
        """The exercise id of each step of what ``progress`` is in (none if it is gone)."""
        key = (progress.routine_id, progress.exercise_id if progress.routine_id is None else None)
        ids = self._step_ids.get(key)
        if ids is None:
            ids = tuple(exercise.id for exercise, _ in self.steps(progress) or ())
            remember(self._step_ids, key, ids)
        return ids


# Players are kept per catalog, pace and language: a process loads one catalog (tests a few).
PLAYERS_LIMIT = 64
_players: dict[tuple[int, str, str], tuple[Catalog, RoutinePlayer]] = {}


def player_for(catalog: Catalog, pace: Pace, language: str = "en") -> RoutinePlayer:
    """The player for this catalog, pace and language: the same one every turn (making one costs
    ~2 µs, and a new one would remember no places)."""
    # Keyed by the pace's id, not the pace: hashing a catalog object hashes all of its fields.
    key = (id(catalog), pace.id, language)
    cached = _players.get(key)
    if cached is not None and cached[0] is catalog and cached[1].pace == pace:
        return cached[1]
    player = RoutinePlayer(catalog, pace, language)
    # Catalogs are loaded once per process (tests load a few), so few players are ever made.
    remember(_players, key, (catalog, player), limit=PLAYERS_LIMIT)
    return player


_players_by_pace_id: dict[tuple[int, str, str], tuple[Catalog, RoutinePlayer]] = {}


def player_for_pace_id(catalog: Catalog, pace_id: str, language: str = "en") -> RoutinePlayer:
    """:func:`player_for` the pace ``catalog.rules.pace(pace_id)`` gives (the normal pace for an
    id the catalog does not know), found by the id a user's state holds: every routine turn asks
    two or three times, and finding the pace and checking the cached player's pace cost ~1 µs."""
    # The pace follows from the catalog and the id alone (the catalog is frozen), so holding the
    # catalog is check enough. Bounded: the id comes from a stored record and could be anything.
    key = (id(catalog), pace_id, language)
    cached = _players_by_pace_id.get(key)
    if cached is not None and cached[0] is catalog:
        return cached[1]
    player = player_for(catalog, catalog.rules.pace(pace_id), language)
    remember(_players_by_pace_id, key, (catalog, player), limit=PLAYERS_LIMIT)
    return player


def slower(paces: tuple[Pace, ...], current: Pace) -> Pace | None:
    """The next slower pace, or None at the slowest (paces run slowest → fastest)."""
    index = _index(paces, current)
    return paces[index - 1] if index > 0 else None


def faster(paces: tuple[Pace, ...], current: Pace) -> Pace | None:
    index = _index(paces, current)
    return paces[index + 1] if index + 1 < len(paces) else None


def _index(paces: tuple[Pace, ...], current: Pace) -> int:
    return next(i for i, p in enumerate(paces) if p.id == current.id)
