"""The routine player (pure state machine) and how an exercise is spoken and cut into segments."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from num2words import num2words

from skill.coach.compose import OPENINGS, Composer
from skill.coach.exercise_speech import (
    ExerciseVoice,
    Segment,
    estimated_minutes,
    longest_phrases,
    plan_segments,
)
from skill.coach.player import Choices, RoutinePlayer, faster, slower, stamp
from skill.speech import MAX_SSML_CHARS
from skill.state import Progress

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
COUNT_WORDS = {num2words(n).capitalize(): n for n in range(1, 51)}


def spoken_counts(text: str) -> list[int]:
    """The rep numbers in speech, in order: "One, lift your heel … Two, …" → [1, 2, …]."""
    return [
        COUNT_WORDS[w]
        for w in re.findall(r"\b([A-Z][a-z]+(?:-[a-z]+)?),", text)
        if w in COUNT_WORDS
    ]


@pytest.fixture
def normal(catalog) -> RoutinePlayer:
    return RoutinePlayer(catalog, catalog.rules.normal_pace)


def walk(player: RoutinePlayer, progress: Progress) -> list[Progress]:
    places = [progress]
    while (progress := player.advance(progress, NOW)) is not None:
        places.append(progress)
    return places


# ---- walking a routine -------------------------------------------------------------------------


def test_next_walks_every_segment_of_every_exercise_in_order_then_stops(catalog, normal):
    routine = catalog.routines["morning_stretches"]
    progresses = walk(normal, normal.start_routine(routine.id, NOW))
    places = [normal.place(p) for p in progresses]
    assert [p.exercise.id for p in places if p.segment_index == 0] == [
        s.exercise for s in routine.steps
    ]
    assert places[-1].is_last
    assert not any(p.is_last for p in places[:-1])
    # every rep of every side is in exactly one segment, in order
    for step, routine_step in enumerate(routine.steps):
        exercise = catalog.exercises[routine_step.exercise]
        reps = [
            r for p in places if p.step == step for r in range(p.segment.first, p.segment.last + 1)
        ]
        assert reps == list(range(exercise.reps.guided * len(exercise.sides.order)))


def test_the_routine_step_overrides_the_exercise_reps(catalog, normal):
    place = normal.place(Progress(routine_id="gentle_strength", exercise_id="bridge"))
    assert place.reps == 10  # the routine says ten, though the article allows up to twenty
    single = normal.place(normal.start_exercise("calf_stretch", NOW))
    assert single.reps == 5 and single.routine is None and single.is_last is False


def test_a_guided_bridge_counts_what_the_routine_counts(catalog, normal):
    # One rule: the exercise's `count` (ten of the article's "up to twenty"), wherever guided.
    single = normal.place(normal.start_exercise("bridge", NOW))
    in_routine = normal.place(Progress(routine_id="gentle_strength", exercise_id="bridge"))
    assert single.reps == in_routine.reps == catalog.exercises["bridge"].reps.count == 10


def test_back_goes_to_the_previous_segment_then_the_previous_exercise_start(normal):
    start = normal.start_routine("morning_stretches", NOW)
    assert normal.back(start, NOW) == (dataclasses.replace(start), False)
    second_segment = normal.advance(start, NOW)
    back, moved = normal.back(second_segment, NOW)
    assert moved and (back.step, back.segment) == (0, 0)
    lunge = normal.advance(second_segment, NOW)
    assert (lunge.step, lunge.segment, lunge.exercise_id) == (1, 0, "lunge_and_stretch")
    lunge_right = normal.advance(lunge, NOW)
    back, moved = normal.back(lunge_right, NOW)
    assert moved and (back.step, back.segment) == (1, 0)
    back, moved = normal.back(lunge, NOW)
    assert moved and (back.step, back.segment, back.exercise_id) == (0, 0, "calf_stretch")


def test_start_over_pause_and_resume(normal):
    later = normal.advance(normal.advance(normal.start_routine("morning_stretches", NOW), NOW), NOW)
    assert (normal.start_over(later, NOW).step, normal.start_over(later, NOW).segment) == (0, 0)
    paused = normal.pause(later, NOW + dt.timedelta(minutes=5))
    assert paused.paused and paused.step == later.step
    assert paused.updated_at == stamp(NOW + dt.timedelta(minutes=5))
    resumed = normal.resume(paused, NOW)
    assert not resumed.paused and (resumed.step, resumed.segment) == (later.step, later.segment)


@pytest.mark.parametrize(
    ("hours", "stale"), [(0.5, False), (11.9, False), (12.1, True), (30, True)]
)
def test_saved_progress_goes_stale_after_the_resume_window(normal, hours, stale):
    progress = normal.start_routine("morning_stretches", NOW)
    assert normal.is_stale(progress, NOW + dt.timedelta(hours=hours)) is stale


def test_progress_with_an_unreadable_time_counts_as_stale(normal):
    progress = Progress(routine_id="morning_stretches", updated_at="yesterday-ish")
    assert normal.is_stale(progress, NOW)


@pytest.mark.parametrize(
    "progress",
    [
        Progress(routine_id="evening_yoga"),
        Progress(routine_id="morning_stretches", step=9),
        Progress(routine_id="morning_stretches", step=1, exercise_id="bridge"),
        Progress(routine_id=None, exercise_id="burpee"),
        Progress(routine_id=None, exercise_id=None),
    ],
    ids=["unknown routine", "step past the end", "routine edited", "unknown exercise", "empty"],
)
def test_progress_that_points_at_nothing_has_no_place(normal, progress):
    assert normal.place(progress) is None
    assert normal.advance(progress, NOW) is None


def test_a_segment_past_the_plan_is_read_as_the_last_segment(normal):
    place = normal.place(Progress(routine_id="morning_stretches", step=0, segment=40))
    assert place.segment_index == len(place.segments) - 1


def test_changing_pace_keeps_the_rep_the_user_was_on(catalog, normal):
    slowest = RoutinePlayer(catalog, catalog.rules.pace("slowest"))
    lunge_right = Progress(routine_id="morning_stretches", exercise_id="lunge_and_stretch", step=1)
    lunge_right = dataclasses.replace(lunge_right, segment=1)
    first_rep = normal.place(lunge_right).segment.first
    moved = slowest.repace(lunge_right, normal, NOW)
    segment = slowest.place(moved).segment
    assert segment.first <= first_rep <= segment.last
    assert slowest.place(moved).segments == normal.place(lunge_right).segments  # sides, not time


def test_paces_step_one_at_a_time_and_stop_at_the_ends(catalog):
    paces = catalog.rules.paces
    normal = catalog.rules.normal_pace
    assert slower(paces, normal).factor > normal.factor
    assert faster(paces, normal).factor < normal.factor
    assert slower(paces, paces[0]) is None
    assert faster(paces, paces[-1]) is None


# ---- speaking an exercise ------------------------------------------------------------------------


def plain_phrase(catalog):
    def phrase(key, **values):
        return catalog.phrases(key)[0].format(**values)

    return phrase


@pytest.mark.parametrize(
    ("exercise_id", "per_side"),
    [
        ("calf_stretch", 5),
        ("lunge_and_stretch", 5),
        ("standing_quad_stretch", 5),
        ("inner_thigh_stretch", 10),
        ("bridge", 10),
        ("gentle_squat", 3),
    ],
)
def test_the_counts_match_the_catalog(catalog, exercise_id, per_side):
    exercise = catalog.exercises[exercise_id]
    voice = ExerciseVoice(exercise, exercise.reps.guided, 1.0, plain_phrase(catalog))
    text = voice.body(Segment(0, voice.total - 1)).plain()
    expected = list(range(1, per_side + 1)) * len(exercise.sides.order)
    assert spoken_counts(text) == expected


def test_sides_are_filled_in_and_switched(catalog):
    exercise = catalog.exercises["calf_stretch"]
    voice = ExerciseVoice(exercise, 5, 1.0, plain_phrase(catalog))
    text = voice.body(Segment(0, 9)).plain()
    assert "Stand with your left leg forward and your right leg just behind you." in text
    switch = text.index("Now switch to your right leg.")
    assert "Stand with your right leg forward and your left leg just behind you." in text[switch:]
    assert "{" not in text


def test_the_hold_the_coach_says_is_the_hold_it_gives_at_every_pace(catalog):
    """The movement says "hold for three seconds": three it is, at every pace."""
    exercise = catalog.exercises["lunge_and_stretch"]
    for pace in catalog.rules.paces:
        voice = ExerciseVoice(exercise, 5, pace.factor, plain_phrase(catalog))
        text = voice.body(Segment(0, 4)).plain()
        assert "hold for three seconds" in text
        assert text.count("rock back, and hold (3 s)") == 5
        assert text.count("rock forward, and hold (3 s)") == 5
        assert text.count("and release") == 1  # once, at the end of the set


def test_the_card_lists_setup_movement_reps_and_holds(catalog):
    exercise = catalog.exercises["lunge_and_stretch"]
    card = ExerciseVoice(exercise, 5, 1.0, plain_phrase(catalog)).card_text("right")
    assert "right leg forward and your left shin down" in card
    assert "5 times with each leg" in card
    assert "gently rock back, and hold (3 seconds)" in card


# ---- segments ------------------------------------------------------------------------------------


@pytest.mark.parametrize("pace", ["slowest", "slower", "normal", "faster"])
@pytest.mark.parametrize(
    "routine_id", ["morning_stretches", "afternoon_stretches", "gentle_strength"]
)
def test_every_set_composed_every_way_with_the_longest_words_fits_alexas_limit(
    catalog, pace, routine_id
):
    player = RoutinePlayer(catalog, catalog.rules.pace(pace))
    composer = Composer(catalog, player, longest_phrases(catalog))
    for progress in walk(player, player.start_routine(routine_id, NOW)):
        place = player.place(progress)
        variants = list(composer.set_variants(place))
        # Each opening a turn can say before the set (a first start also after the disclaimer),
        # and each way the last one finishes.
        first = place.step == 0 and place.segment_index == 0
        finishes = 3 if place.is_last else 1
        assert len(variants) == (1 + len(OPENINGS) + first) * finishes
        body = player.voice(place.exercise, place.reps, composer.phrase).body(place.segment)
        for composed in variants:
            assert composed.speech.characters > body.characters  # the set, and words around it
            assert composed.speech.characters <= MAX_SSML_CHARS


@pytest.mark.parametrize("pace", ["slowest", "slower", "normal", "faster"])
def test_the_estimated_length_is_within_a_few_seconds_of_every_word_and_pause(catalog, pace):
    player = RoutinePlayer(catalog, catalog.rules.pace(pace))
    phrase = longest_phrases(catalog)
    for routine in catalog.routines.values():
        exact = 0.0
        for step in routine.steps:
            exercise = catalog.exercises[step.exercise]
            voice = player.voice(exercise, step.reps or exercise.reps.guided, phrase)
            for segment in player.segments(exercise, voice.reps):
                exact += voice.body(segment).seconds
                # A set's estimate misses only the extra words of longer counts.
                assert abs(voice.seconds(segment) - voice.body(segment).seconds) < 2
        estimate = player.estimated_seconds(routine)
        assert abs(estimate - exact) <= 0.02 * exact, (routine.id, estimate, exact)
        assert estimated_minutes(estimate) == estimated_minutes(exact)


@pytest.mark.parametrize("pace", ["slowest", "slower", "normal", "faster"])
def test_each_side_is_one_segment_and_an_exercise_done_once_is_one(catalog, pace):
    player = RoutinePlayer(catalog, catalog.rules.pace(pace))
    lunge = player.place(player.start_exercise("lunge_and_stretch", NOW))
    assert lunge.segments == (Segment(0, 4), Segment(5, 9))
    for exercise_id in ("bridge", "gentle_squat"):
        place = player.place(player.start_exercise(exercise_id, NOW))
        assert place.segments == (Segment(0, place.reps - 1),)


# No deadline: these check what the code does, never how fast (speed is for benchmarks).
@settings(deadline=None)
@given(reps=st.integers(1, 30), factor=st.sampled_from([0.75, 1.0, 1.5, 2.0]))
def test_a_plan_partitions_the_reps_into_whole_sides(catalog, reps, factor):
    exercise = catalog.exercises["inner_thigh_stretch"]
    voice = ExerciseVoice(exercise, reps, factor, longest_phrases(catalog))
    plan = plan_segments(voice)
    assert [r for s in plan for r in range(s.first, s.last + 1)] == list(range(2 * reps))
    assert [(s.first, s.count) for s in plan] == [(0, reps), (reps, reps)]


# ---- finished sets and pace changes between sets -----------------------------------------------


def test_a_set_is_finished_only_once_its_speech_has_run(normal):
    spoken = normal.spoken(normal.start_routine("morning_stretches", NOW), NOW, 40)
    assert not normal.is_finished(spoken, NOW + dt.timedelta(seconds=10))
    assert normal.to_do(spoken, NOW + dt.timedelta(seconds=10)) == spoken
    assert normal.interrupted(spoken, NOW + dt.timedelta(seconds=10)).spoken_until == ""
    later = NOW + dt.timedelta(minutes=1)
    assert normal.is_finished(spoken, later)
    assert normal.to_do(spoken, later) == normal.advance(spoken, later)
    assert normal.interrupted(spoken, later) == spoken


@pytest.mark.parametrize("old_pace", ["slowest", "slower", "normal", "faster"])
@pytest.mark.parametrize("new_pace", ["slowest", "normal", "fastest"])
def test_a_pace_change_after_a_finished_set_gives_each_side_its_reps_once(
    catalog, old_pace, new_pace
):
    old = RoutinePlayer(catalog, catalog.rules.pace(old_pace))
    new = RoutinePlayer(catalog, catalog.rules.pace(new_pace))
    for exercise_id in ("bridge", "inner_thigh_stretch", "lunge_and_stretch"):
        progress = old.start_exercise(exercise_id, NOW)
        done: list[int] = []
        while True:
            place = old.place(progress)
            done += range(place.segment.first, place.segment.last + 1)
            following = new.repace_after(progress, old, NOW)
            if following is None:
                break
            # finish at the new pace, one set at a time
            rest = [following]
            while (step := new.advance(rest[-1], NOW)) is not None:
                rest.append(step)
            reps = [
                r
                for p in rest
                for r in range(new.place(p).segment.first, new.place(p).segment.last + 1)
            ]
            assert done + reps == list(range(place.reps * len(place.exercise.sides.order)))
            progress = old.advance(progress, NOW)
            if progress is None:
                break


# ---- the user's choices ------------------------------------------------------------------------


def _player(catalog, **choices) -> RoutinePlayer:
    return RoutinePlayer(catalog, catalog.rules.normal_pace, choices=Choices(**choices))


def test_a_routine_is_walked_without_what_the_user_left_out(catalog):
    player = _player(catalog, left_out=frozenset({"lunge_and_stretch"}))
    places = [player.place(p) for p in walk(player, player.start_routine("morning_stretches", NOW))]
    assert [p.exercise.id for p in places if p.segment_index == 0] == [
        "calf_stretch",
        "standing_quad_stretch",
        "inner_thigh_stretch",
    ]
    assert {p.step_count for p in places} == {3}


def test_a_routine_with_everything_left_out_cannot_start(catalog):
    player = _player(catalog, left_out=frozenset({"bridge", "gentle_squat"}))
    assert player.start_routine("gentle_strength", NOW) is None


def test_a_saved_place_is_found_again_when_an_earlier_exercise_is_left_out(catalog, normal):
    at_quad = normal.step_start(normal.start_routine("morning_stretches", NOW), 2, NOW)
    assert normal.place(at_quad).exercise.id == "standing_quad_stretch"
    player = _player(catalog, left_out=frozenset({"calf_stretch"}))
    place = player.place(at_quad)
    assert place.exercise.id == "standing_quad_stretch" and place.step == 1


def test_leaving_out_the_exercise_at_hand_moves_the_place_to_the_next(catalog, normal):
    at_lunge = normal.step_start(normal.start_routine("morning_stretches", NOW), 1, NOW)
    player = _player(catalog, left_out=frozenset({"lunge_and_stretch"}))
    moved = player.rebased(at_lunge, NOW)
    assert player.place(moved).exercise.id == "standing_quad_stretch"


@pytest.mark.parametrize(("asked", "counted"), [(8, 8), (12, 8), (1, 5)])
def test_a_users_reps_stay_within_the_sources_range(catalog, asked, counted):
    player = _player(catalog, reps={"lunge_and_stretch": asked})
    assert player.reps_for(catalog.exercises["lunge_and_stretch"]) == counted
