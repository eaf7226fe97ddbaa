"""The speech builder is the one place Alexa's speech limits are enforced: test that it does."""

from __future__ import annotations

import dataclasses
import math
import pickle
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill import records
from skill.speech import (
    MAX_SSML_CHARS,
    Speech,
    SpeechError,
    _Pause,
    _rendered_pause,
    _sentence_part,
    _Text,
    escape,
)


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


def _part_or_error(sentence: str) -> object:
    try:
        return _sentence_part(sentence)
    except SpeechError as exc:
        return ("refused", str(exc))


def _said_or_error(sentence: str) -> object:
    try:
        parts = Speech().say(sentence).parts
    except SpeechError as exc:
        return ("refused", str(exc))
    assert len(parts) <= 1
    return parts[0] if parts else None


sentences = (
    st.text()
    | st.text(alphabet=" \t\n\x00\x0b\ufffe{}_abc&<>")
    | st.sampled_from(
        ["", "   ", "Now your {side} leg", "Tom & Jerry", "\x00{count}\x01", "a\u00a0 b"]
    )
)


@given(sentences)
def test_a_remembered_sentence_is_the_sentence_worked_out_afresh(sentence):
    fresh = _part_or_error(sentence)
    for _ in range(2):  # said, then remembered (or refused both times: refusals are not kept)
        said = _said_or_error(sentence)
        assert said == fresh
        if fresh is not None and not isinstance(fresh, tuple):
            assert said.rendered == fresh.rendered
            assert Speech().say(sentence).ssml() == f"<speak>{fresh.rendered}</speak>"


# The speech parts were frozen dataclasses with ``rendered`` declared init=False, repr=False,
# compare=False; as records they must behave as those did.
@dataclasses.dataclass(frozen=True)
class TextTwin:
    text: str
    rendered: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rendered", escape(self.text))


@dataclasses.dataclass(frozen=True)
class PauseTwin:
    seconds: float
    rendered: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rendered", _rendered_pause(self.seconds))


@given(
    st.sampled_from([(_Text, TextTwin), (_Pause, PauseTwin)]),
    st.data(),
)
def test_speech_parts_behave_as_the_dataclasses_they_were(classes, data):
    part_class, twin_class = classes
    values = (
        st.text(max_size=8) if part_class is _Text else st.floats(0, 30).map(lambda s: round(s, 2))
    )
    value, other = data.draw(values), data.draw(values)
    part, twin = part_class(value), twin_class(value)
    assert part.rendered == twin.rendered
    assert repr(part).replace("_Text", "TextTwin").replace("_Pause", "PauseTwin") == repr(twin)
    assert (part == part_class(other)) == (twin == twin_class(other))
    assert hash(part) == hash(part_class(value))
    assert pickle.loads(pickle.dumps(part)).rendered == part.rendered
    name = "text" if part_class is _Text else "seconds"
    changed = records.replace(part, **{name: other})
    assert changed.rendered == dataclasses.replace(twin, **{name: other}).rendered
    with pytest.raises(dataclasses.FrozenInstanceError):
        part.rendered = "x"
