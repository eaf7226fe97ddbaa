"""What Alexa requires of an answer to a given request, for the hardening tests.

``coach_dev.alexa_response.response_problems`` checks the response itself (well-formed SSML inside
``<speak>``, breaks of at most 10 s, at most 8,000 characters, a reprompt when the session is kept
open, at most 24 KB). These tests also know which request was answered, so they add what depends
on it: a launch or an intent must be answered with something to hear, and kept open only with a
reprompt (an absent ``shouldEndSession`` keeps it open too); a SessionEndedRequest must not be
answered with speech.
"""

from __future__ import annotations

from typing import Any

from coach_dev.alexa_response import SSMLError, output_text, response_problems

SPOKEN_REQUESTS = ("LaunchRequest", "IntentRequest")


def violations(request_type: str, answer: Any) -> list[str]:
    """Every way ``answer`` (a parsed response envelope) breaks Alexa's rules; empty if none."""
    if not isinstance(answer, dict) or not isinstance(answer.get("response"), dict):
        return ["not a response envelope"]
    problems = response_problems(answer)
    response = answer["response"]
    speech = response.get("outputSpeech")
    reprompt = (response.get("reprompt") or {}).get("outputSpeech")
    delegated = any(
        str(directive.get("type", "")).startswith("Dialog.")
        for directive in response.get("directives") or []
    )
    if request_type in SPOKEN_REQUESTS and not delegated:
        if speech is None:
            problems.append(f"a {request_type} got no speech")
        elif not _says_something(speech):
            problems.append(f"a {request_type} got speech that says nothing")
        if response.get("shouldEndSession") is None and reprompt is None:
            problems.append("the session stays open (no shouldEndSession) without a reprompt")
    if request_type == "SessionEndedRequest" and (speech is not None or reprompt is not None):
        problems.append("a SessionEndedRequest must not be answered with speech")
    return problems


def _says_something(speech: dict[str, Any]) -> bool:
    try:
        return bool(output_text(speech).strip())
    except SSMLError:
        return True  # response_problems has already said what is wrong with it
