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

from skill.catalog.model import Catalog, Exercise, Pace, Routine
from skill.coach.exercise_speech import (
    ExerciseVoice,
    Phrase,
    Segment,
    longest_phrases,
    plan_segments,
)
from skill.state import Progress

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class Place:
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
    """Moves through routines at one pace. Every move returns a new Progress."""

    def __init__(self, catalog: Catalog, pace: Pace, language: str = "en") -> None:
        self.catalog = catalog
        self.pace = pace
        self.language = language
        # Segments are planned with the longest wording, so they fit whatever a turn says.
        self.longest = longest_phrases(catalog, language)

    @classmethod
    def for_pace_id(cls, catalog: Catalog, pace_id: str, language: str = "en") -> RoutinePlayer:
        """The player for a pace a user's state names (the normal pace for one the catalog
        does not know)."""
        return cls(catalog, catalog.rules.pace(pace_id), language)

    # ---- what the user is doing --------------------------------------------------------------

    def voice(self, exercise: Exercise, reps: int, phrase: Phrase) -> ExerciseVoice:
        """What ``exercise`` says at this pace, in the words ``phrase`` gives."""
        return ExerciseVoice(exercise, reps, self.pace.factor, phrase, self.language)

    def segments(self, exercise: Exercise, reps: int) -> tuple[Segment, ...]:
        """How the exercise is cut into sets: one per side, at every pace."""
        return plan_segments(self.voice(exercise, reps, self.longest))

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
        steps = self.steps(progress)
        if not steps or not 0 <= progress.step < len(steps):
            logger.warning("progress %s points at nothing in the catalog", progress)
            return None
        exercise, reps = steps[progress.step]
        if progress.routine_id is not None and progress.exercise_id not in (None, exercise.id):
            # The routine was edited since this was saved: that step is another exercise now.
            logger.warning("routine %s changed under saved progress", progress.routine_id)
            return None
        segments = from_rep(self.segments(exercise, reps), progress.from_rep)
        if not segments:
            logger.warning("progress %s starts past the exercise's last rep", progress)
            return None
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

    def remaining_seconds(self, place: Place) -> float:
        """About how long the rest of the routine (or exercise) runs from ``place``'s set on."""
        voice = self.voice(place.exercise, place.reps, self.longest)
        total = sum(voice.seconds(s) for s in place.segments[place.segment_index :])
        routine = place.routine
        if routine is None:
            return total
        return total + self._steps_seconds(routine, place.step + 1)

    def estimated_seconds(self, routine: Routine) -> float:
        """About how long the routine's speech runs at this pace, every set of every step."""
        return self._steps_seconds(routine, 0)

    def _steps_seconds(self, routine: Routine, first_step: int) -> float:
        total = 0.0
        for step in routine.steps[first_step:]:
            exercise = self.catalog.exercises[step.exercise]
            reps = step.reps or exercise.reps.guided
            voice = self.voice(exercise, reps, self.longest)
            total += sum(voice.seconds(segment) for segment in self.segments(exercise, reps))
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

    def spoken(self, progress: Progress, now: dt.datetime, seconds: float) -> Progress:
        """``progress`` with its set spoken from ``now``, for ``seconds``."""
        ends = now + dt.timedelta(seconds=seconds)
        return dataclasses.replace(progress, updated_at=stamp(now), spoken_until=stamp(ends))

    def spoken_again(self, progress: Progress, now: dt.datetime) -> Progress:
        """The same set spoken once more from ``now`` ("repeat"): it finishes only at the end."""
        started, ends = _moment(progress.updated_at), _moment(progress.spoken_until)
        if started is None or ends is None:
            return progress
        return self.spoken(progress, now, max((ends - started).total_seconds(), 0.0))

    def is_finished(self, progress: Progress, now: dt.datetime) -> bool:
        """The set at ``progress`` was spoken and its end has passed by ``now`` (a request that
        comes earlier interrupted it)."""
        ends = _moment(progress.spoken_until)
        return ends is not None and now >= ends

    def interrupted(self, progress: Progress, now: dt.datetime) -> Progress:
        """``progress`` after a request at ``now``: a set still being spoken was cut off, so it
        is to do again (from its start); a finished set stays finished."""
        if progress.spoken_until and not self.is_finished(progress, now):
            return dataclasses.replace(progress, spoken_until="")
        return progress

    def to_do(self, progress: Progress, now: dt.datetime) -> Progress | None:
        """The first set not yet finished: ``progress`` itself, or the one after it if its set
        is finished (None if that was the very last)."""
        if self.is_finished(progress, now):
            return self.advance(progress, now)
        return progress

    def back(self, progress: Progress, now: dt.datetime) -> tuple[Progress, bool]:
        """The previous segment; from an exercise's first segment, the previous exercise's start.
        The flag is False when already at the very start (the place stays)."""
        place = self.place(progress)
        if place is None:
            return progress, False
        if place.segment_index > 0:
            return self._at(progress, place.step, place.segment_index - 1, now), True
        if progress.from_rep > 0:
            # The plan was cut at a pace change: go back to the whole plan's segment before it.
            whole = self.place(dataclasses.replace(progress, from_rep=0, segment=0))
            assert whole is not None
            index = _holding(whole.segments, progress.from_rep - 1)
            return self._at(progress, place.step, index, now), True
        if place.step > 0:
            return self._at(progress, place.step - 1, 0, now), True
        return self._at(progress, 0, 0, now), False

    def step_start(self, progress: Progress, step: int, now: dt.datetime) -> Progress:
        """The start of step ``step`` (skipping to an exercise), still to do."""
        return self._at(dataclasses.replace(progress, from_rep=0), step, 0, now)

    def start_over(self, progress: Progress, now: dt.datetime) -> Progress:
        return self._at(dataclasses.replace(progress, from_rep=0), 0, 0, now)

    def pause(self, progress: Progress, now: dt.datetime) -> Progress:
        return dataclasses.replace(progress, paused=True, updated_at=stamp(now))

    def resume(self, progress: Progress, now: dt.datetime) -> Progress:
        return dataclasses.replace(progress, paused=False, updated_at=stamp(now))

    def repace(self, progress: Progress, old: RoutinePlayer, now: dt.datetime) -> Progress:
        """The same set under this player's pace, to be taken again from the rep the old pace's
        segment started with, and no earlier (segments are cut differently at different paces,
        and a side must never get more reps than the other)."""
        old_place = old.place(progress)
        if old_place is None:
            return progress
        return self._at_rep(progress, old_place.segment.first, now)

    def repace_after(
        self, progress: Progress, old: RoutinePlayer, now: dt.datetime
    ) -> Progress | None:
        """The set after a finished one, still to do, cut at this player's pace (None if the
        finished set was the very last)."""
        old_place = old.place(progress)
        if old_place is None:
            return None
        following = old_place.segment.last + 1
        if following < old_place.segments[-1].last + 1:
            return self._at_rep(progress, following, now)
        if old_place.next_exercise is None:
            return None
        return self._at(progress, old_place.step + 1, 0, now)

    def is_stale(self, progress: Progress, now: dt.datetime) -> bool:
        """Saved longer ago than ``rules.resume_within_hours``: offer a fresh start instead."""
        saved = _moment(progress.updated_at)
        if saved is None:
            return True
        hours = (now - saved).total_seconds() / 3600
        return hours > self.catalog.rules.resume_within_hours

    def _at(self, progress: Progress, step: int, segment: int, now: dt.datetime) -> Progress:
        """Segment ``segment`` of step ``step``, still to do. Within the same step the plan's
        starting rep is kept; another step starts its plan from its first rep."""
        steps = self.steps(progress) or []
        exercise_id = steps[step][0].id if step < len(steps) else progress.exercise_id
        return Progress(
            routine_id=progress.routine_id,
            exercise_id=exercise_id,
            step=step,
            segment=segment,
            updated_at=stamp(now),
            from_rep=progress.from_rep if step == progress.step else 0,
        )

    def _at_rep(self, progress: Progress, rep: int, now: dt.datetime) -> Progress:
        """This step's set starting at flat rep ``rep``, still to do: the segment that starts
        there, or the plan cut at that rep if none does."""
        whole = self.place(dataclasses.replace(progress, from_rep=0, segment=0))
        if whole is None:
            return progress
        starts = [s.first for s in whole.segments]
        moved = dataclasses.replace(progress, from_rep=0)
        if rep in starts:
            return self._at(moved, progress.step, starts.index(rep), now)
        return self._at(dataclasses.replace(moved, from_rep=rep), progress.step, 0, now)


def from_rep(segments: tuple[Segment, ...], rep: int) -> tuple[Segment, ...]:
    """The plan from flat rep ``rep`` on: earlier segments dropped, the one holding it cut."""
    if rep <= 0:
        return segments
    out = [s for s in segments if s.first >= rep]
    cut = [Segment(rep, s.last) for s in segments if s.first < rep <= s.last]
    return tuple(cut + out)


def _holding(segments: tuple[Segment, ...], rep: int) -> int:
    return next((i for i, s in enumerate(segments) if s.first <= rep <= s.last), 0)


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def slower(paces: tuple[Pace, ...], current: Pace) -> Pace | None:
    """The next slower pace, or None at the slowest (paces run slowest → fastest)."""
    index = _index(paces, current)
    return paces[index - 1] if index > 0 else None


def faster(paces: tuple[Pace, ...], current: Pace) -> Pace | None:
    index = _index(paces, current)
    return paces[index + 1] if index + 1 < len(paces) else None


def _index(paces: tuple[Pace, ...], current: Pace) -> int:
    return next(i for i, p in enumerate(paces) if p.id == current.id)
