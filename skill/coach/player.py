"""The routine player: where a user is in a routine, and where each command takes them.

A pure state machine over (catalog, :class:`~skill.state.Progress`, pace): no I/O and no ask-sdk
types. It answers "where am I" (:meth:`RoutinePlayer.place`) and "where does next / back / start
over / pause / resume take me" by returning a new Progress; handlers speak the result.

A position is (routine step, segment): each exercise is spoken in segments planned by
:func:`skill.coach.exercise_speech.plan_segments` for the user's pace, so "next" walks segment by
segment, then exercise by exercise. A guided single exercise is a Progress with ``routine_id``
None and ``exercise_id`` set: the same moves over one step.

The user's :class:`Choices` shape what a routine is for them: the exercises they left out are not
among its steps, and an exercise is counted with their own number of reps (within the source's
range). Exercises skipped for this time (``Progress.skipped``) are not among its steps either; a
saved place names its exercise, so it is found again when the steps around it change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping

from skill.catalog.model import Catalog, Exercise, Pace, Routine
from skill.coach.exercise_speech import (
    ExerciseVoice,
    Phrase,
    Segment,
    longest_phrases,
    plan_segments,
)
from skill.state import Progress, UserState

logger = logging.getLogger(__name__)

Step = tuple[Exercise, int]  # an exercise and its reps per side


@dataclasses.dataclass(frozen=True, slots=True)
class Choices:
    """What a user chose from now on: exercises left out of every routine, their own reps per
    side by exercise, and whether the count waits for "ready"."""

    left_out: frozenset[str] = frozenset()
    reps: Mapping[str, int] = dataclasses.field(default_factory=dict)
    ready: bool = False

    @classmethod
    def of(cls, state: UserState) -> Choices:
        return cls(frozenset(state.left_out), dict(state.reps), state.ready_mode)


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
    steps: tuple[Step, ...] = ()  # every step of what it is in, as the user does it
    later: tuple[Exercise, ...] = ()  # what a short session keeps for later

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

    def __init__(
        self,
        catalog: Catalog,
        pace: Pace,
        language: str = "en",
        choices: Choices | None = None,
    ) -> None:
        self.catalog = catalog
        self.pace = pace
        self.language = language
        self.choices = choices or Choices()
        # Segments are planned with the longest wording, so they fit whatever a turn says.
        self.longest = longest_phrases(catalog, language)

    @classmethod
    def for_pace_id(
        cls, catalog: Catalog, pace_id: str, language: str = "en", choices: Choices | None = None
    ) -> RoutinePlayer:
        """The player for a pace a user's state names (the normal pace for one the catalog
        does not know)."""
        return cls(catalog, catalog.rules.pace(pace_id), language, choices)

    # ---- what the user is doing --------------------------------------------------------------

    def voice(self, exercise: Exercise, reps: int, phrase: Phrase) -> ExerciseVoice:
        """What ``exercise`` says at this pace, in the words ``phrase`` gives."""
        return ExerciseVoice(
            exercise, reps, self.pace.factor, phrase, self.language, rate=self.pace.rate
        )

    def reps_for(self, exercise: Exercise, step_reps: int | None = None) -> int:
        """Reps per side: the user's own count (kept within the source's range), else the
        routine step's, else the exercise's."""
        chosen = self.choices.reps.get(exercise.id)
        if chosen is None:
            return step_reps or exercise.reps.guided
        return min(max(chosen, exercise.reps.lowest), exercise.reps.max)

    def routine_steps(self, routine: Routine, skipped: tuple[str, ...] = ()) -> list[Step]:
        """The routine as this user does it: without what they left out (and ``skipped``)."""
        out = []
        for step in routine.steps:
            if step.exercise in self.choices.left_out or step.exercise in skipped:
                continue
            exercise = self.catalog.exercises[step.exercise]
            out.append((exercise, self.reps_for(exercise, step.reps)))
        return out

    def left_out_of(self, routine: Routine) -> list[Exercise]:
        """The routine's exercises this user left out, in its order."""
        ids = dict.fromkeys(
            s.exercise for s in routine.steps if s.exercise in self.choices.left_out
        )
        return [self.catalog.exercises[e] for e in ids]

    def segments(self, exercise: Exercise, reps: int) -> tuple[Segment, ...]:
        """How the exercise is cut into sets: one per side, at every pace."""
        return plan_segments(self.voice(exercise, reps, self.longest))

    def steps(self, progress: Progress) -> list[tuple[Exercise, int]] | None:
        """(exercise, reps per side) for each step of what ``progress`` is in; None if the
        catalog no longer has it (content changed, or a corrupt record)."""
        if progress.routine_id is None:
            exercise = self.catalog.exercises.get(progress.exercise_id or "")
            return [(exercise, self.reps_for(exercise))] if exercise else None
        routine = self.catalog.routines.get(progress.routine_id)
        if routine is None:
            return None
        return self.routine_steps(routine, tuple(progress.skipped))

    @staticmethod
    def _step_of(progress: Progress, steps: list[Step]) -> int:
        """The step ``progress`` is at: its exercise's, when the steps around it changed (an
        exercise left out or skipped since it was saved)."""
        ids = [exercise.id for exercise, _ in steps]
        if progress.exercise_id is None or progress.exercise_id not in ids:
            return progress.step
        if progress.step < len(ids) and ids[progress.step] == progress.exercise_id:
            return progress.step
        return ids.index(progress.exercise_id)

    def place(self, progress: Progress | None) -> Place | None:
        """Where ``progress`` points, or None if it points nowhere that exists."""
        if progress is None:
            return None
        steps = self.steps(progress)
        step = self._step_of(progress, steps or [])
        if not steps or not 0 <= step < len(steps):
            logger.warning("progress %s points at nothing in the catalog", progress)
            return None
        exercise, reps = steps[step]
        if progress.routine_id is not None and progress.exercise_id not in (None, exercise.id):
            # The routine was edited since this was saved: that step is another exercise now.
            logger.warning("routine %s changed under saved progress", progress.routine_id)
            return None
        segments = from_rep(self.segments(exercise, reps), progress.from_rep)
        if not segments:
            logger.warning("progress %s starts past the exercise's last rep", progress)
            return None
        next_step = step + 1
        return Place(
            routine=self.catalog.routines.get(progress.routine_id or ""),
            exercise=exercise,
            step=step,
            step_count=len(steps),
            reps=reps,
            segments=segments,
            # A plan can shrink if the content changed; the last segment is the nearest place.
            segment_index=min(progress.segment, len(segments) - 1),
            next_exercise=steps[next_step][0] if next_step < len(steps) else None,
            steps=tuple(steps),
            later=tuple(
                self.catalog.exercises[e] for e in progress.later if e in self.catalog.exercises
            ),
        )

    def remaining_seconds(self, place: Place) -> float:
        """About how long the rest of the routine (or exercise) runs from ``place``'s set on."""
        voice = self.voice(place.exercise, place.reps, self.longest)
        total = sum(voice.seconds(s) for s in place.segments[place.segment_index :])
        return total + self.steps_seconds(list(place.steps[place.step + 1 :]))

    def estimated_seconds(self, routine: Routine, skipped: tuple[str, ...] = ()) -> float:
        """About how long the routine's speech runs at this pace, every set of every step."""
        return self.steps_seconds(self.routine_steps(routine, skipped))

    def steps_seconds(self, steps: list[Step]) -> float:
        """About how long ``steps`` run at this pace, every set of each."""
        return sum(self.step_seconds(exercise, reps) for exercise, reps in steps)

    def step_seconds(self, exercise: Exercise, reps: int) -> float:
        voice = self.voice(exercise, reps, self.longest)
        return sum(voice.seconds(segment) for segment in self.segments(exercise, reps))

    # ---- moves -------------------------------------------------------------------------------

    def start_routine(
        self, routine_id: str, now: dt.datetime, skipped: tuple[str, ...] = ()
    ) -> Progress | None:
        """The routine from its first step, without ``skipped``; None if nothing is left of it."""
        steps = self.routine_steps(self.catalog.routines[routine_id], skipped)
        if not steps:
            return None
        return Progress(
            routine_id=routine_id,
            exercise_id=steps[0][0].id,
            updated_at=stamp(now),
            skipped=list(skipped),
        )

    def without(self, progress: Progress, exercise_id: str, now: dt.datetime) -> Progress | None:
        """``progress`` with ``exercise_id`` skipped this time: at the start of the next exercise
        if it was the one at hand (None if it was the last), else where it was."""
        if progress.routine_id is None:
            return None if progress.exercise_id == exercise_id else progress
        skipped = list(dict.fromkeys([*progress.skipped, exercise_id]))
        return self.rebased(dataclasses.replace(progress, skipped=skipped), now)

    def rebased(self, progress: Progress, now: dt.datetime) -> Progress | None:
        """``progress`` after the routine's steps changed for this user (something left out or
        skipped): at the same exercise if it is still there, else at the start of the next one
        still there in the routine's order; None if none is."""
        routine = self.catalog.routines.get(progress.routine_id or "")
        if routine is None:
            return progress
        ids = [e.id for e, _ in self.routine_steps(routine, tuple(progress.skipped))]
        if progress.exercise_id in ids:
            return dataclasses.replace(progress, step=ids.index(progress.exercise_id))
        order = [s.exercise for s in routine.steps]
        start = order.index(progress.exercise_id) + 1 if progress.exercise_id in order else 0
        following = next((e for e in order[start:] if e in ids), None)
        if following is None:
            return None
        return dataclasses.replace(
            progress,
            exercise_id=following,
            step=ids.index(following),
            segment=0,
            from_rep=0,
            spoken_until="",
            prepared=False,
            updated_at=stamp(now),
        )

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
        """Going on after a break: a set prepared before it is prepared again."""
        return dataclasses.replace(progress, paused=False, prepared=False, updated_at=stamp(now))

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
            from_rep=progress.from_rep if step == self._step_of(progress, steps) else 0,
            skipped=list(progress.skipped),
            later=list(progress.later),
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
