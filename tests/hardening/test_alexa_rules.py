"""The Alexa-rules checker the hardening tests rely on flags each kind of bad answer."""

from __future__ import annotations

import pytest

from tests.hardening.alexa_rules import violations


def answer(ssml: str | None = "<speak>Hello.</speak>", **response: object) -> dict:
    body: dict = {"version": "1.0", "response": dict(response)}
    if ssml is not None:
        body["response"]["outputSpeech"] = {"type": "SSML", "ssml": ssml}
    return body


REPROMPT = {"outputSpeech": {"type": "SSML", "ssml": "<speak>Ready?</speak>"}}


def test_a_good_open_answer_passes():
    assert violations("IntentRequest", answer(shouldEndSession=False, reprompt=REPROMPT)) == []


@pytest.mark.parametrize(
    ("request_type", "body", "expected"),
    [
        ("IntentRequest", answer("<speak>Hi", shouldEndSession=True), "not well-formed"),
        ("IntentRequest", answer("<p>Hi</p>", shouldEndSession=True), "not <speak>"),
        (
            "IntentRequest",
            answer('<speak>Hold <break time="11s"/></speak>', shouldEndSession=True),
            "11000 ms break",
        ),
        (
            "IntentRequest",
            answer("<speak>" + "a" * 8000 + "</speak>", shouldEndSession=True),
            "characters",
        ),
        ("IntentRequest", answer("<speak>Do {reps} reps</speak>", shouldEndSession=True), "marker"),
        ("LaunchRequest", answer(shouldEndSession=False), "without a reprompt"),
        ("LaunchRequest", answer(None, shouldEndSession=True), "got no speech"),
        ("SessionEndedRequest", answer(), "must not be answered with speech"),
        ("IntentRequest", {"version": "1.0"}, "not a response envelope"),
    ],
)
def test_each_broken_rule_is_reported(request_type, body, expected):
    problems = violations(request_type, body)
    assert any(expected in problem for problem in problems), problems
