"""The speech builder is the one place Alexa's speech limits are enforced: test that it does."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.speech import MAX_SSML_CHARS, Speech, SpeechError, escape


def breaks_ms(ssml: str) -> list[int]:
    return [int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', ssml)]


def test_a_long_hold_is_chained_breaks_of_at_most_ten_seconds():
    ssml = Speech().say("hold").pause(25).say("and release").ssml()
    assert breaks_ms(ssml) == [10000, 10000, 5000]
    assert sum(breaks_ms(ssml)) == 25000


def test_a_pause_of_exactly_ten_seconds_is_one_break():
    assert breaks_ms(Speech().pause(10).ssml()) == [10000]


def test_fractional_pauses_keep_their_milliseconds():
    assert breaks_ms(Speech().pause(2.25).pause(12.5).ssml()) == [2250, 10000, 2500]


@pytest.mark.parametrize("seconds", [-1, math.nan])
def test_a_pause_cannot_be_negative_or_not_a_number(seconds):
    with pytest.raises(SpeechError, match="pause"):
        Speech().pause(seconds)


def test_text_is_escaped_so_the_ssml_stays_well_formed():
    ssml = Speech().say('Tom & Jerry <b>bold</b> "quoted"').pause(1).ssml()
    root = ET.fromstring(ssml)
    assert root.tag == "speak"
    assert "Tom & Jerry <b>bold</b>" in "".join(root.itertext())


def test_speech_over_eight_thousand_characters_is_refused():
    speech = Speech()
    for _ in range(MAX_SSML_CHARS // 20):
        speech.say("twenty characters ok").pause(1)
    with pytest.raises(SpeechError, match="8000"):
        speech.ssml()


def test_speech_just_under_the_limit_is_sent():
    text = "a" * (MAX_SSML_CHARS - len("<speak></speak>"))
    assert len(Speech().say(text).ssml()) == MAX_SSML_CHARS


@pytest.mark.parametrize("text", ["We'll do {count}.", "Now your {side} leg"])
def test_leftover_template_markers_are_refused(text):
    with pytest.raises(SpeechError, match="template marker"):
        Speech().say(text)


def test_seconds_estimate_counts_words_and_pauses():
    # ten words at 2.5 words a second, plus 3 s of pauses
    speech = Speech().say("one two three four five").pause(3).say("six seven eight nine ten")
    assert speech.seconds == pytest.approx(4 + 3)


def test_plain_text_shows_pauses_for_cards_and_the_terminal():
    assert Speech().say("hold").pause(3).say("release").plain() == "hold (3 s) release"


@given(st.text() | st.text(alphabet="&<>;amplgt#x \"'"))
def test_text_is_escaped_exactly_as_the_standard_library_escapes_it(text):
    from xml.sax.saxutils import escape as standard_escape

    assert escape(text) == standard_escape(text)


sentences = (
    st.text()
    | st.text(alphabet=" \t\n\x00\x0b\ufffe{}_abc&<>")
    | st.sampled_from(
        ["", "   ", "Now your {side} leg", "Tom & Jerry", "\x00{count}\x01", "a\u00a0 b"]
    )
)


def xml_allowed(character: str) -> bool:
    """XML 1.0's characters: tab, newline, carriage return, and the rest from space up, but no
    surrogates and neither U+FFFE nor U+FFFF."""
    if character in "\t\n\r":
        return True
    return (
        character >= " "
        and not "\ud800" <= character <= "\udfff"
        and character not in "\ufffe\uffff"
    )


@given(sentences)
def test_a_sentence_is_spoken_cleaned_and_escaped_or_refused(sentence):
    """Characters XML cannot carry go, whitespace collapses, an empty sentence says nothing, a
    leftover {marker} is refused, and what is said is escaped."""
    cleaned = " ".join("".join(filter(xml_allowed, sentence)).split())
    try:
        ssml = Speech().say(sentence).ssml()
    except SpeechError as exc:
        assert "template marker" in str(exc)
        assert re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", cleaned)
        return
    assert ssml == f"<speak>{escape(cleaned)}</speak>"


# ---- what a set says, at every pace (through the public exercise-speech and player functions) ----

PACES = ["slowest", "slower", "normal", "faster"]


def _set_text(catalog, exercise_id: str, pace: str, side: int = 0) -> str:
    from skill.coach.exercise_speech import ExerciseVoice, plan_segments

    exercise = catalog.exercises[exercise_id]

    def phrase(key, **values):
        return catalog.phrases(key)[0].format(**values)

    factor = catalog.rules.pace(pace).factor
    voice = ExerciseVoice(exercise, exercise.reps.guided, factor, phrase)
    return voice.body(plan_segments(voice)[side]).plain()


@pytest.mark.parametrize("pace", PACES)
def test_no_pace_changes_the_lunge_hold_or_a_count(catalog, pace):
    for side in (0, 1):
        text = _set_text(catalog, "lunge_and_stretch", pace, side)
        hold = "(3 s)"  # the article's three seconds, at every pace
        assert text.count(f"rock back, and hold {hold}") == 5
        assert text.count(f"rock forward, and hold {hold}") == 5
        assert re.findall(r"\b(One|Two|Three|Four|Five|Six),", text) == [
            "One", "Two", "Three", "Four", "Five"
        ]  # fmt: skip


def test_faster_trims_the_pauses_between_movements_only(catalog):
    normal = _set_text(catalog, "calf_stretch", "normal")
    faster = _set_text(catalog, "calf_stretch", "faster")
    assert "lift your heel (2 s) and lower (2 s)" in normal
    assert "lift your heel (1.5 s) and lower (1.5 s)" in faster
    assert "Get ready. (2 s) One," in faster  # the time to get into position stays


@pytest.mark.parametrize("pace", PACES)
@pytest.mark.parametrize("exercise_id", ["lunge_and_stretch", "inner_thigh_stretch", "bridge"])
def test_a_floor_exercise_leaves_time_to_get_into_position(catalog, pace, exercise_id):
    factor = catalog.rules.pace(pace).factor
    for side in range(len(catalog.exercises[exercise_id].sides.order)):
        text = _set_text(catalog, exercise_id, pace, side)
        silence = float(re.search(r"Get ready\. \(([\d.]+) s\) One,", text)[1])
        assert silence >= 5 and silence == 5 * max(1.0, factor)


@pytest.mark.parametrize(
    ("exercise_id", "side", "spoken"),
    [
        ("bridge", 0, "Lift your bottom until there is a straight line from your knees to your "
         "shoulders"),
        ("calf_stretch", 0, "lift your left heel"),
        ("calf_stretch", 1, "lift your right heel"),
        ("inner_thigh_stretch", 0, "forward over your straight left leg, stretching toward your "
         "toes"),
        ("gentle_squat", 0, "back and arms straight until your thighs are parallel with the floor"),
    ],
)  # fmt: skip
def test_the_movement_is_spoken_before_every_count(catalog, exercise_id, side, spoken):
    text = _set_text(catalog, exercise_id, "normal", side)
    assert spoken in text
    assert text.index(spoken) < text.index("One,")


def test_the_switch_names_the_body_part_and_how_to_change_position(catalog):
    text = _set_text(catalog, "lunge_and_stretch", "normal", 1)
    assert text.startswith("Now switch to your right leg. Get into a lunge with your right leg")
    assert "We'll do five with your right leg. Get ready. (5 s) One," in text


@pytest.mark.parametrize("pace", PACES)
def test_the_longest_side_at_any_pace_is_one_response_within_alexas_limits(catalog, pace):
    from skill.coach.budget import fit_problems
    from skill.coach.compose import Composer
    from skill.coach.exercise_speech import longest_phrases
    from skill.coach.player import RoutinePlayer

    assert fit_problems(catalog) == []
    player = RoutinePlayer(catalog, catalog.rules.pace(pace))
    composer = Composer(catalog, player, longest_phrases(catalog))
    for exercise in catalog.exercises.values():
        start = player.start_exercise(exercise.id, dt.datetime(2026, 11, 17, tzinfo=dt.UTC))
        place = player.place(start)
        assert len(place.segments) == len(exercise.sides.order)  # one per side
        while place is not None:
            for composed in composer.set_variants(place):
                assert composed.speech.characters <= MAX_SSML_CHARS
                assert all(ms <= 10_000 for ms in breaks_ms(composed.speech.ssml()))
            start = player.advance(start, dt.datetime(2026, 11, 17, tzinfo=dt.UTC))
            place = player.place(start) if start is not None else None


@pytest.mark.parametrize("old", PACES)
@pytest.mark.parametrize("new", PACES)
def test_a_changed_pace_retakes_the_whole_side(catalog, old, new):
    """Both sides always get the same count: a pace change mid-set takes that side again."""
    from skill.coach.player import RoutinePlayer
    from skill.state import Progress

    before = RoutinePlayer(catalog, catalog.rules.pace(old))
    after = RoutinePlayer(catalog, catalog.rules.pace(new))
    now = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
    for segment in (0, 1):
        progress = Progress(
            routine_id="morning_stretches", exercise_id="lunge_and_stretch", step=1, segment=segment
        )
        moved = after.place(after.repace(progress, before, now))
        assert moved.segment == before.place(progress).segment
        assert moved.segment.count == moved.reps == 5


def test_routine_intros_agree_with_the_routine_name(catalog):
    from skill.coach.exercise_speech import routine_intro_key

    singular = catalog.routines["gentle_strength"]
    plural = catalog.routines["morning_stretches"]
    assert not singular.plural and plural.plural
    assert "Here's your {routine}." in " ".join(catalog.phrases(routine_intro_key(singular)))
    assert "Here are your {routine}." in " ".join(catalog.phrases(routine_intro_key(plural)))
