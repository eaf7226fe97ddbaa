"""Remembered routine planning gives exactly what planning afresh gives.

The coach re-plans every routine turn (segments, their speech, the routine's length); the
planning caches in skill.exercise_speech must never change a plan, a duration or a word.
"""

from __future__ import annotations

import pytest

from skill.coach import RoutinePlayer
from skill.exercise_speech import (
    ExerciseVoice,
    _frame_seconds,
    _plan_segments,
    frame_seconds,
    longest_phrases,
    plan_segments,
)


def test_the_same_catalog_gives_the_same_planning_phrases(catalog):
    assert longest_phrases(catalog) is longest_phrases(catalog)
    assert longest_phrases(catalog, "en")("routine.release") == longest_phrases(catalog)(
        "routine.release"
    )


@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("last", [False, True])
def test_remembered_frames_match_fresh_ones(catalog, first, last):
    phrase = longest_phrases(catalog)
    expected = _frame_seconds(phrase, first=first, last=last)
    assert frame_seconds(phrase, first=first, last=last) == expected
    assert frame_seconds(phrase, first=first, last=last) == expected  # and again, from memory


def test_remembered_plans_and_speech_match_fresh_ones_for_every_exercise_and_pace(catalog):
    phrase = longest_phrases(catalog)
    budgets = (5.0, 30.0, 60.0, catalog.rules.max_segment_seconds)
    for pace in catalog.rules.paces:
        for exercise in catalog.exercises.values():
            for reps in sorted({1, 3, exercise.reps.guided}):
                voice = ExerciseVoice(exercise, reps, pace.factor, phrase)
                for budget in budgets:
                    fresh = _plan_segments(voice, budget)
                    assert plan_segments(voice, budget) == fresh
                    assert plan_segments(voice, budget) == fresh
                    for segment in fresh:
                        expected = voice._body(segment)
                        remembered = voice.body(segment)
                        assert remembered == expected
                        assert remembered.ssml() == expected.ssml()
                        remembered.say("changed")  # a caller's change must not reach the cache
                        assert voice.body(segment) == expected


def test_a_routine_is_timed_the_same_from_memory(catalog):
    for pace in catalog.rules.paces:
        player = RoutinePlayer(catalog, pace)
        for routine in catalog.routines.values():
            assert player.estimated_seconds(routine) == player.estimated_seconds(routine)
            fresh = 0.0
            last = len(routine.steps) - 1
            for index, step in enumerate(routine.steps):
                exercise = catalog.exercises[step.exercise]
                voice = ExerciseVoice(
                    exercise, step.reps or exercise.reps.guided, pace.factor, player._phrase
                )
                budget = catalog.rules.max_segment_seconds - _frame_seconds(
                    player._phrase, first=index == 0, last=index == last
                )
                fresh += sum(voice._body(s).seconds for s in _plan_segments(voice, budget))
            assert player.estimated_seconds(routine) == pytest.approx(fresh, abs=1e-9)
            # A later turn's player (a new one every turn) gets the very same figure.
            again = RoutinePlayer(catalog, pace).estimated_seconds(routine)
            assert again == player._sum_segment_seconds(routine)
