"""Reading responses as a person hears them, and catching responses Alexa would refuse."""

from __future__ import annotations

import pytest

from coach_dev.alexa_response import SSMLError, response_problems, spoken_seconds, spoken_text
from skill.speech import Speech


def envelope(ssml: str | None, *, reprompt: str | None = None, end: bool | None = False) -> dict:
    response: dict = {}
    if ssml is not None:
        response["outputSpeech"] = {"type": "SSML", "ssml": ssml}
    if reprompt is not None:
        response["reprompt"] = {"outputSpeech": {"type": "SSML", "ssml": reprompt}}
    if end is not None:
        response["shouldEndSession"] = end
    return {"version": "1.0", "response": response}


def test_chained_breaks_read_as_one_pause_like_the_speech_builder_meant():
    speech = Speech().say("Hold it there.").pause(25).say("And release.").pause(1.5).say("Good.")
    assert spoken_text(speech.ssml()) == "Hold it there. (25 s) And release. (1.5 s) Good."
    assert spoken_text(speech.ssml()) == speech.plain()


def test_entities_nesting_and_amazon_tags_read_as_words():
    ssml = (
        "<speak><p>Feet &amp; hips.</p><s>Slowly<break time='2s'/>now</s>"
        '<amazon:effect name="whispered">rest</amazon:effect>'
        '<sub alias="ten">10</sub></speak>'
    )
    assert spoken_text(ssml) == "Feet & hips. Slowly (2 s) now rest ten"


def test_the_spoken_length_is_the_pauses_plus_the_words_at_the_skills_own_rate():
    speech = Speech().say("Hold it there.").pause(25).say("And now release it slowly.")
    assert spoken_seconds({"type": "SSML", "ssml": speech.ssml()}) == pytest.approx(speech.seconds)
    assert spoken_seconds({"type": "SSML", "ssml": speech.ssml()}) == pytest.approx(25 + 8 / 2.5)
    assert spoken_seconds({"type": "PlainText", "text": "one two three four five"}) == 2.0
    assert spoken_seconds(None) == 0.0


@pytest.mark.parametrize(
    ("ssml", "message"),
    [
        ("Hello", "single <speak>"),
        ("<speak>Hi</speak><speak>again</speak>", "single <speak>"),
        ("<speak>Feet & hips</speak>", "not well-formed"),
        ("<speak>open <break time='1s'></speak>", "not well-formed"),
        ("<p>Hi</p>", "single <speak>"),
    ],
)
def test_unreadable_ssml_is_named(ssml, message):
    with pytest.raises(SSMLError, match=message):
        spoken_text(ssml)
    assert any(message in problem for problem in response_problems(envelope(ssml, end=True)))


def test_a_well_formed_open_response_breaks_no_rule():
    ssml = Speech().say("Lift your heel.").pause(12).ssml()
    assert response_problems(envelope(ssml, reprompt="<speak>Say next.</speak>")) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (envelope("<speak>Hold.<break time='12s'/></speak>", end=True), "a <break> of 12 s"),
        (envelope("<speak>Hold.<break time='10500ms'/></speak>", end=True), "10.5 s"),
        (envelope("<speak><break time='long'/></speak>", end=True), "'long' is not a duration"),
        (envelope("<speak>" + "word " * 1700 + "</speak>", end=True), "Alexa allows 8000"),
        (envelope("<speak>What next?</speak>", end=False), "no reprompt"),
        (envelope("<speak>Hi {name}</speak>", end=True), "unfilled template marker(s) {name}"),
        ({"version": "1.0"}, "no response object"),
        (
            envelope("<speak>ok</speak>", reprompt="<speak>a<break time='11s'/></speak>"),
            "reprompt: a <break> of 11 s",
        ),
    ],
)
def test_each_alexa_rule_is_checked(body, problem):
    problems = response_problems(body)
    assert any(problem in p for p in problems), problems


def test_an_oversized_response_is_reported():
    body = envelope("<speak>ok</speak>", end=True)
    body["sessionAttributes"] = {"filler": "x" * 30_000}
    assert any("bytes; Alexa allows 24576" in p for p in response_problems(body))


def test_a_response_with_nothing_to_say_is_valid():
    """What the skill answers to SessionEndedRequest."""
    assert response_problems({"version": "1.0", "response": {}}) == []
