"""Remembered routine planning gives exactly what planning afresh gives.

The coach re-plans every routine turn (segments, their speech, the routine's length); the
planning caches in skill.coach.exercise_speech must never change a plan, a duration or a word.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import string
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill import records
from skill.catalog.loader import default_catalog
from skill.coach.exercise_speech import (
    VOICE_KEYS,
    ChosenVariants,
    ExerciseVoice,
    Segment,
    _frame_seconds,
    _plan_segments,
    frame_seconds,
    locate,
    longest_phrases,
    plan_segments,
)
from skill.coach.player import RoutinePlayer, player_for, player_for_pace_id
from skill.handlers.routine import (
    ROUTINE_INTRO_KEYS,
    _close,
    _routine_intro,
    spoken_routine_intro,
)
from skill.state import Progress, UserState
from skill.turn import Turn
from tests.hardening.scale import fuzz_settings
from tests.support import variant_turn


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


def _turn(catalog, request_id: str) -> Turn:
    return variant_turn(catalog, request_id, "AMAZON.NextIntent")


def _every_segment(player: RoutinePlayer, exercise, reps: int) -> set[Segment]:
    segments = {Segment(0, reps * len(exercise.sides.order) - 1)}
    for first in (False, True):
        for last in (False, True):
            segments.update(player.segments(exercise, reps, first=first, last=last))
    return segments


def test_remembered_exercise_speech_is_the_turns_own_for_every_exercise_segment_and_pace(catalog):
    # Enough request ids that every two-variant string is said both ways.
    turns = [_turn(catalog, f"amzn1.echo-api.request.{n}") for n in range(8)]
    choices_seen = set()
    for pace in catalog.rules.paces:
        player = RoutinePlayer(catalog, pace)
        speaker = player.speaker
        for exercise in catalog.exercises.values():
            for reps in sorted({1, 3, exercise.reps.guided}):
                for turn in turns:
                    own = ExerciseVoice(exercise, reps, pace.factor, turn.phrase)
                    choices = speaker.choices(turn.variant)
                    choices_seen.add(choices)
                    for side in (*exercise.sides.order, None):
                        for _ in range(2):  # made, then remembered
                            assert speaker.card_text(exercise, reps, side, choices) == (
                                own.card_text(side)
                            )
                    for segment in _every_segment(player, exercise, reps):
                        expected = own.body(segment)
                        for _ in range(2):  # made, then remembered
                            body = speaker.body(exercise, reps, segment, choices)
                            assert body == expected
                            assert body.ssml() == expected.ssml()
                            assert body.plain() == expected.plain()
                            assert body.seconds == expected.seconds
                            body.say("changed")  # a caller's change must not reach the memory
    assert len(choices_seen) > 1


def test_a_turns_choices_are_its_choices_of_the_strings_with_variants(catalog):
    speaker = RoutinePlayer(catalog, catalog.rules.normal_pace).speaker
    assert {key for key, _ in speaker.varied} == {
        key for key in VOICE_KEYS if len(catalog.phrases(key)) > 1
    }
    turn = _turn(catalog, "amzn1.echo-api.request.choices")
    chosen = ChosenVariants(catalog, "en", turn.variant)
    assert speaker.phrase(speaker.choices(turn.variant)) == chosen
    assert speaker.phrase(speaker.choices(turn.variant)).choices == chosen.choices


def test_exercise_speech_says_only_strings_whose_variant_is_chosen_up_front(catalog):
    asked: set[str] = set()
    plain = ChosenVariants(catalog, "en", lambda key, count: 0)

    def recording(key, **values):
        asked.add(key)
        return plain(key, **values)

    for exercise in catalog.exercises.values():
        voice = ExerciseVoice(exercise, exercise.reps.guided, 1.0, recording)
        voice.body(Segment(0, voice.total - 1))
        voice.body(Segment(1, voice.total - 1))
        for side in (*exercise.sides.order, None):
            voice.card_text(side)
    assert asked <= set(VOICE_KEYS)
    assert {"routine.switch_side", "routine.rep_start", "routine.card_step"} <= asked


def test_a_string_with_variants_but_no_choice_is_refused(catalog):
    chosen = ChosenVariants(catalog, "en", lambda key, count: 0)
    with pytest.raises(KeyError, match="VOICE_KEYS"):
        chosen("routine.close_more")


def test_a_pace_has_one_player_per_catalog_and_language(catalog):
    normal, slow = catalog.rules.normal_pace, catalog.rules.pace("slower")
    assert player_for(catalog, normal) is player_for(catalog, normal, "en")
    assert player_for(catalog, normal) is not player_for(catalog, slow)
    assert player_for(catalog, slow).pace == slow
    other = records.replace(catalog)  # an equal catalog, but not this one
    assert player_for(other, normal) is not player_for(catalog, normal)
    assert player_for(other, normal).catalog is other


def test_a_pace_id_finds_the_player_of_the_pace_the_catalog_names_by_it(catalog):
    for pace in catalog.rules.paces:
        for language in sorted(catalog.speech):
            expected = player_for(catalog, pace, language)
            assert player_for_pace_id(catalog, pace.id, language) is expected
            assert player_for_pace_id(catalog, pace.id, language) is expected  # from memory
    # An id the catalog does not know: the normal pace, as ``rules.pace`` says.
    assert player_for_pace_id(catalog, "sideways") is player_for(catalog, catalog.rules.normal_pace)
    other = records.replace(catalog)
    assert player_for_pace_id(other, "normal").catalog is other


def every_player_and_routine(catalog):
    """(language, pace, that pace's player in that language, routine), for all of them."""
    for language in sorted(catalog.speech):
        for pace in catalog.rules.paces:
            player = player_for(catalog, pace, language)
            for routine in catalog.routines.values():
                yield language, pace, player, routine


def test_a_remembered_routine_intro_is_the_turns_own_for_every_routine_pace_and_language(catalog):
    # Enough request ids that every string with variants is said each way.
    requests = [f"amzn1.echo-api.request.intro-{n}" for n in range(12)]
    intros_seen = set()
    for language, _, player, routine in every_player_and_routine(catalog):
        place = player.place(Progress(routine.id, routine.steps[0].exercise))
        assert place is not None
        for request in requests:
            turn = dataclasses.replace(_turn(catalog, request), language=language)
            expected = spoken_routine_intro(turn, player, routine)
            intros_seen.add(expected)
            for _ in range(2):  # made (or remembered by an earlier turn), then remembered
                assert _routine_intro(turn, player, place) == expected
    assert len(intros_seen) > len(catalog.routines)


def test_a_routine_intro_says_only_the_intro_strings(catalog):
    asked: set[str] = set()
    turn = _turn(catalog, "amzn1.echo-api.request.intro")
    own = turn.phrase

    def recording(key, **values):
        asked.add(key)
        return own(key, **values)

    turn.phrase = recording  # type: ignore[method-assign]
    for pace in catalog.rules.paces:
        for routine in catalog.routines.values():
            spoken_routine_intro(turn, player_for(catalog, pace), routine)
    assert asked <= set(ROUTINE_INTRO_KEYS)
    assert "routine.routine_intro" in asked


CATALOG = default_catalog()
routine_ids = st.sampled_from([None, *CATALOG.routines, "gone_routine"])
exercise_ids = st.sampled_from([None, *CATALOG.exercises, "gone_exercise"])
progresses = st.builds(
    Progress,
    routine_id=routine_ids,
    exercise_id=exercise_ids,
    step=st.integers(0, 12),
    segment=st.integers(0, 100),
    paused=st.booleans(),
    updated_at=st.sampled_from(["", "2026-11-17T13:15:00+00:00"]),
)


@fuzz_settings(quick=300, stress=5000)
@given(progresses, st.sampled_from(CATALOG.rules.paces))
def test_a_remembered_place_is_the_place_worked_out_afresh(progress, pace):
    player = player_for(CATALOG, pace)
    fresh = RoutinePlayer(CATALOG, pace).find_place(progress)
    assert player.place(progress) == fresh
    assert player.place(progress) == fresh  # and again, from memory
    # Pausing or a later stamp does not move the place.
    moved = dataclasses.replace(progress, paused=not progress.paused, updated_at="later")
    assert player.place(moved) == fresh


routine_places = st.sampled_from(
    [
        (routine.id, step.exercise, index)
        for routine in CATALOG.routines.values()
        for index, step in enumerate(routine.steps)
    ]
)


@fuzz_settings(quick=200, stress=3000)
@given(
    routine_places,
    st.integers(0, 12),
    st.sampled_from(CATALOG.rules.paces),
    st.sampled_from(sorted(CATALOG.speech)),
    st.text(min_size=1, max_size=40),
)
def test_the_speech_of_a_routine_place_is_the_turns_own(where, segment, pace, language, request):
    routine_id, exercise_id, step = where
    player = player_for(CATALOG, pace, language)
    place = player.place(Progress(routine_id, exercise_id, step, segment))
    assert place is not None
    turn = dataclasses.replace(_turn(CATALOG, request), language=language)
    own = ExerciseVoice(place.exercise, place.reps, pace.factor, turn.phrase, language)
    choices = player.speaker.choices(turn.variant)
    for _ in range(2):  # made (or remembered by an earlier example), then remembered
        body = player.speaker.body(place.exercise, place.reps, place.segment, choices)
        assert body.ssml() == own.body(place.segment).ssml()
        side = own.side(place.segment.first)
        assert player.speaker.card_text(place.exercise, place.reps, side, choices) == (
            own.card_text(side)
        )


@given(st.sampled_from(sorted(CATALOG.speech["en"])), st.text(min_size=1, max_size=40))
def test_a_turn_says_the_variant_its_request_chooses_of_every_string(key, request):
    turn = _turn(CATALOG, request)
    variants = CATALOG.phrases(key)
    fields = {name for v in variants for _, name, _, _ in string.Formatter().parse(v) if name}
    values = {name: f"<{name}>" for name in fields}
    chosen = variants[zlib.crc32(f"{request}:{key}".encode()) % len(variants)]
    assert turn.phrase(key, **values) == chosen.format(**values)


@fuzz_settings(quick=300, stress=5000)
@given(progresses, st.integers(0, 12), st.integers(0, 100), st.sampled_from(CATALOG.rules.paces))
def test_a_move_lands_where_the_steps_worked_out_afresh_say(progress, step, segment, pace):
    now = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
    steps = RoutinePlayer(CATALOG, pace).steps(progress) or []
    expected = dataclasses.replace(
        progress,
        step=step,
        segment=segment,
        exercise_id=steps[step][0].id if step < len(steps) else progress.exercise_id,
        paused=False,
        updated_at="2026-11-17T13:15:00+00:00",
    )
    player = player_for(CATALOG, pace)
    assert player._at(progress, step, segment, now) == expected
    assert player._at(progress, step, segment, now) == expected  # and again, from memory


def _close_as_first_written(turn: Turn, place) -> tuple[str, str]:
    """A routine turn's closing words, chosen and filled in on every turn."""
    following = place.next_segment
    if following is None:
        name = place.next_exercise.name
        return (
            turn.phrase("routine.close_next_exercise", exercise=name),
            turn.phrase("routine.close_next_exercise_reprompt", exercise=name),
        )
    side_index, rep = locate(following.first, place.reps)
    if rep == 1 and side_index > 0:
        side = place.exercise.sides.order[side_index]
        return (
            turn.phrase("routine.close_other_side", side=side),
            turn.phrase("routine.close_other_side_reprompt", side=side),
        )
    return turn.phrase("routine.close_more"), turn.phrase("routine.close_more_reprompt")


def test_a_remembered_close_is_the_turns_own_for_every_place_pace_and_language(catalog):
    # Enough request ids that every string with variants is said each way.
    requests = [f"amzn1.echo-api.request.close-{n}" for n in range(12)]
    closes_seen = set()
    for language, pace, player, routine in every_player_and_routine(catalog):
        for step, routine_step in enumerate(routine.steps):
            for segment in range(12):
                place = player.place(Progress(routine.id, routine_step.exercise, step, segment))
                if place is None or place.is_last or place.segment_index != segment:
                    continue
                for request in requests:
                    turn = dataclasses.replace(
                        _turn(catalog, request), language=language, state=UserState(pace=pace.id)
                    )
                    expected = _close_as_first_written(turn, place)
                    closes_seen.add(expected)
                    for _ in range(2):  # made (or remembered earlier), then remembered
                        assert _close(turn, place) == expected
    # Every kind of close was said, each string in more than one way where it has variants.
    assert len(closes_seen) > 6
