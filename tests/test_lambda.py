"""``skill.lambda_entry.handler`` as AWS Lambda runs it: real request envelopes into a process that
imported the handler once (a warm container), DynamoDB (moto) on loopback as the store, and a new
process standing for a new container."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal

import pytest

from tests.lambda_support import (
    ROOT,
    ContainerError,
    LambdaContainer,
    closed_port_url,
    lambda_environment,
    stored_items,
)
from tests.support import (
    Conversation,
    Reply,
    envelope,
    intent_request,
    launch_request,
    session_ended_request,
)

DISCLAIMER = "not medical advice"
APOLOGY = "something went wrong on my side"
STORE_ERROR = "couldn't reach your saved progress"
MORNING = ("morning stretches", "morning_stretches")
OTHER_SKILL = "amzn1.ask.skill.11111111-1111-4111-8111-111111111111"

pytestmark = pytest.mark.slow  # every test runs the function in a child process


@pytest.fixture
def env(endpoint, table) -> dict[str, str]:
    """A Lambda's environment."""
    return lambda_environment(endpoint, table)


def test_a_new_container_remembers_what_the_last_one_stored(env, endpoint, table, morning):
    with LambdaContainer(env) as container:
        first = Conversation(skill=container, now=morning)
        assert DISCLAIMER in first.launch().text
        first.end_session()
        again = first.launch()  # same warm container, new session
        assert DISCLAIMER not in again.text
    assert "skill amzn1.ask.skill." in container.log and "ready" in container.log

    with LambdaContainer(env) as cold:
        reply = Conversation(skill=cold, now=morning + dt.timedelta(days=1)).launch()
    assert DISCLAIMER not in reply.text
    assert not reply.ends_session and reply.reprompt
    [item] = stored_items(endpoint, table)
    assert item["attributes"]["disclaimer_heard"] is True


def test_a_routine_stopped_in_one_container_resumes_in_the_next(env, endpoint, table, morning):
    """Start the morning stretches, move on to the second side, walk away; later, on a cold
    container, "resume" picks up at that side, and "next" carries on from there."""
    with LambdaContainer(env) as container:
        talk = Conversation(skill=container, now=morning)
        started = talk.one_shot("StartRoutineIntent", routine=MORNING)
        assert "morning stretches" in started.text and card_title(started) == "Calf stretch"
        switched = talk.intent("AMAZON.NextIntent")
        assert "switch to your right leg" in switched.text
        talk.end_session("EXCEEDED_MAX_REPROMPTS")

    [item] = stored_items(endpoint, table)
    progress = item["attributes"]["progress"]
    assert (progress["routine_id"], progress["exercise_id"]) == (
        "morning_stretches",
        "calf_stretch",
    )
    assert (progress["step"], progress["segment"]) == (Decimal(0), Decimal(1))

    with LambdaContainer(env) as cold:
        talk = Conversation(skill=cold, now=morning + dt.timedelta(hours=2))
        resumed = talk.one_shot("ResumeRoutineIntent")
        assert "where you left off" in resumed.text
        # The right leg was finished before the microphone closed: it is not taken again.
        assert card_title(resumed) == "Lunge and stretch" and "left leg" in resumed.text
        assert not resumed.ends_session
        assert "right leg" in talk.intent("AMAZON.NextIntent").text


def card_title(reply: Reply) -> str | None:
    return (reply.card or {}).get("title")


@pytest.mark.parametrize(
    ("change", "logged"),
    [
        ({"RLS_COACH_SKILL_ID": None}, "RLS_COACH_SKILL_ID is not set"),
        ({"RLS_COACH_SKILL_ID": "my-skill"}, "RLS_COACH_SKILL_ID: 'my-skill' is not a skill id"),
        ({"RLS_COACH_STORE": "redis://cache/0"}, "unknown store URL 'redis://cache/0'"),
        ({"AWS_REGION": None, "AWS_DEFAULT_REGION": None}, "no AWS region; set AWS_REGION"),
        ({"RLS_COACH_TIMEZONE": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ],
    ids=["no-skill-id", "bad-skill-id", "unknown-store", "no-region", "bad-timezone"],
)
def test_a_bad_configuration_is_logged_and_the_user_hears_an_apology(env, morning, change, logged):
    env = {key: value for key, value in {**env, **change}.items() if value is not None}
    with LambdaContainer(env) as container:
        reply = Conversation(skill=container, now=morning).launch()
        ended = container.handle(envelope(session_ended_request(morning)))
    assert APOLOGY in reply.text
    assert reply.ends_session
    assert ended == {"version": "1.0", "response": {}}
    prefix = "ERROR skill.lambda_entry configuration error, answering with an apology: "
    lines = [line for line in container.log.splitlines() if line.startswith(prefix)]
    assert lines and all(logged in line for line in lines), container.log
    assert "Traceback" not in container.log


def test_the_store_being_unreachable_is_apologised_for(table, morning):
    env = lambda_environment(closed_port_url(), table)
    with LambdaContainer(env) as container:
        reply = Conversation(skill=container, now=morning).launch()
    assert STORE_ERROR in reply.text
    assert "cannot reach DynamoDB" in container.log


def test_requests_for_another_skill_are_refused_and_change_nothing(env, endpoint, table, morning):
    with LambdaContainer(env) as container:
        event = envelope(launch_request(morning), skill_id=OTHER_SKILL)
        with pytest.raises(ContainerError) as refused:
            container.handle(event)
    assert refused.value.kind == "RequestRejectedError"
    assert refused.value.message == (
        f"refused a request for skill {OTHER_SKILL}: this function answers only "
        "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
    )
    assert stored_items(endpoint, table) == []


NOT_AN_ENVELOPE = "refused an event that is not an Alexa request envelope"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            {},
            "missing request.type, request.timestamp, context.System.application.applicationId, "
            "context.System.user.userId",
        ),
        (
            {"request": {"type": "LaunchRequest", "timestamp": "2026-11-17T13:15:00Z"}},
            "missing context.System.application.applicationId, context.System.user.userId",
        ),
        (["not", "a", "map"], "it is not a JSON object"),
    ],
)
def test_events_that_are_not_alexa_requests_are_refused_saying_what_is_missing(env, event, reason):
    with LambdaContainer(env) as container, pytest.raises(ContainerError) as refused:
        container.handle(event)
    assert refused.value.message == f"{NOT_AN_ENVELOPE}: {reason}"


@pytest.mark.parametrize(
    ("damage", "part"),
    [
        (lambda body: body.update(session=5), "session"),
        (lambda body: body["context"]["System"].update(device=[1, 2]), "context.System.device"),
        (lambda body: body["request"].update(intent="TipIntent please"), "request.intent"),
    ],
    ids=["session", "device", "intent"],
)
def test_a_malformed_envelope_is_refused_naming_the_malformed_part(
    endpoint, table, morning, damage, part
):
    """Not "answers only <its own id>": the request is for this skill, its shape is wrong."""
    body = envelope(intent_request("TipIntent", morning))
    damage(body)
    container = LambdaContainer(lambda_environment(endpoint, table))
    with container, pytest.raises(ContainerError) as refused:
        container.handle(body)
    assert refused.value.kind == "RequestRejectedError"
    assert refused.value.message == (
        f"refused a malformed Alexa request envelope: {part} has the wrong shape"
    )
    assert stored_items(endpoint, table) == []


def test_an_unknown_request_type_is_refused_by_name(endpoint, table, morning):
    body = envelope(launch_request(morning))
    body["request"]["type"] = "Alexa.Presentation.NEW.Thing\nforged line"
    container = LambdaContainer(lambda_environment(endpoint, table))
    with container, pytest.raises(ContainerError) as refused:
        container.handle(body)
    assert refused.value.message == (
        "refused a request of unknown type Alexa.Presentation.NEW.Thing\\nforged line"
    )
    assert "\nforged line" not in container.log


def test_a_session_ended_with_an_error_type_newer_than_the_sdk_is_logged_and_answered(env, morning):
    body = envelope(session_ended_request(morning, reason="ERROR"))
    body["request"]["error"] = {"type": "SOME_FUTURE_ERROR", "message": "the speaker moved"}
    with LambdaContainer(env) as container:
        answer = container.handle(body)
    assert answer["response"] == {}
    assert "SOME_FUTURE_ERROR (the speaker moved)" in container.log


# A container process that builds the event itself: a 10,000-deep event cannot travel as JSON
# (the standard library's parser gives up first), but a runtime may still hand one over.
_DEEP_EVENT = r"""
import json, sys
sys.path[:0] = [sys.argv[1]]
event = json.loads(sys.argv[2])
deep = {}
node = deep
for _ in range(10_000):
    node["more"] = {}
    node = node["more"]
event["session"]["attributes"] = deep
from skill.lambda_entry import handler
try:
    handler(event, None)
    print("answered")
except Exception as exc:
    print(type(exc).__name__, str(exc))
"""


def test_a_ten_thousand_deep_event_is_refused_cleanly_not_with_a_recursion_error(env, morning):
    event = envelope(launch_request(morning))
    outcome = subprocess.run(
        [sys.executable, "-c", _DEEP_EVENT, str(ROOT), json.dumps(event)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert outcome.stdout.strip() == (
        "RequestRejectedError refused an event that is not an Alexa request envelope: "
        "it is nested too deeply to be an Alexa request"
    ), outcome.stderr
