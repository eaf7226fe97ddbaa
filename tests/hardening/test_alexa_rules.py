"""The request-aware checks the hardening tests add to coach_dev.alexa_response flag bad answers."""

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
        ("LaunchRequest", answer(None, shouldEndSession=True), "got no speech"),
        ("IntentRequest", answer("<speak> </speak>", shouldEndSession=True), "says nothing"),
        ("LaunchRequest", answer(), "no shouldEndSession"),
        ("SessionEndedRequest", answer(), "must not be answered with speech"),
        ("IntentRequest", {"version": "1.0"}, "not a response envelope"),
        # and what coach_dev.alexa_response already checks comes through
        ("IntentRequest", answer("<speak>Hi", shouldEndSession=True), "not well-formed"),
    ],
)
def test_each_broken_rule_is_reported(request_type, body, expected):
    problems = violations(request_type, body)
    assert any(expected in problem for problem in problems), problems


def test_a_delegated_dialog_needs_no_speech():
    body = answer(None, directives=[{"type": "Dialog.Delegate"}])
    assert violations("IntentRequest", body) == []
