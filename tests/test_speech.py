"""The speech builder is the one place Alexa's speech limits are enforced: test that it does."""

from __future__ import annotations

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
