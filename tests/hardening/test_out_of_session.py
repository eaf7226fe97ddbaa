"""Requests Alexa sends outside any session get a valid empty answer, not an apology.

Found by the webhook fuzzer: a System.ExceptionEncountered request (which carries no session)
made a handler's ``can_handle`` read the session attributes; the SDK raised, the skill's own
exception handler failed the same way, and only the webhook's last-resort handler answered, with
spoken apology the request type does not allow.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from tests.hardening.alexa_rules import violations
from tests.support import envelope, invoke, iso


def out_of_session(request: dict) -> dict:
    body = envelope(request)
    del body["session"]
    return body


@pytest.mark.parametrize(
    "request_fields",
    [
        {
            "type": "System.ExceptionEncountered",
            "error": {"type": "INVALID_RESPONSE", "message": "An exception occurred"},
            "cause": {"requestId": "amzn1.echo-api.request.previous"},
        },
        {"type": "AudioPlayer.PlaybackStopped", "token": "t", "offsetInMilliseconds": 10},
        {"type": "AlexaSkillEvent.SkillEnabled"},
    ],
    ids=lambda fields: fields["type"],
)
def test_a_request_without_a_session_gets_an_empty_answer(skill, morning, caplog, request_fields):
    request = {
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": iso(morning),
        "locale": "en-US",
        **request_fields,
    }
    with caplog.at_level(logging.WARNING):
        answer = invoke(skill, out_of_session(request))
    assert answer["response"] == {}, json.dumps(answer)
    assert not violations(request["type"], answer)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
