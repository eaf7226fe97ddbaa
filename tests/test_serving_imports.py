"""What a process serving the coach loads: only what answering needs. Each module below was once
loaded by every serving process and is now loaded only when something rare needs it; these tests
keep it that way (memory and cold start are measured by ``python -m bench``, not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_alexa_api import FakeAlexaApi, make_tls_files
from tests.support import SKILL_ID

# Module → what it would have been loaded for, and why a serving process does without it.
NOT_LOADED_TO_SERVE = {
    "num2words": "spoken numbers come from skill.spoken_numbers' table",
    "yaml": "the catalog comes from its checked snapshot",
    "marshmallow": "current user records are read and written directly",
    "requests": "the Settings API client loads it on its first call, if there is one",
    "urllib3": "the Settings API client loads it on its first call, if there is one",
}

# How a fresh process answers: through the Lambda entry, or through the webhook's Flask app (its
# WSGI callable, without a server). Both with the memory store, so only the skill's own imports
# count (the stores' clients bring their own).
ENTRIES = {
    "lambda": """
from skill.lambda_entry import handler

def answer(body):
    return handler(body, None)
""",
    "webhook": """
from skill.settings import Settings
from webhook.app import create_app

client = create_app({"SETTINGS": Settings.from_env()}).test_client()

def answer(body):
    return client.post("/alexa", json=body).get_json()
""",
}

# From a launch through a whole routine to its end, as one user would.
CONVERSATION = """
import datetime as dt, json, sys, zoneinfo
from ask_sdk_model import ResponseEnvelope
from tests.support import SERIALIZER, Conversation

class Entry:
    def invoke(self, request_envelope, context):
        body = answer(SERIALIZER.serialize(request_envelope))
        return SERIALIZER.deserialize(json.dumps(body), ResponseEnvelope)

now = dt.datetime(2026, 11, 17, 8, 15, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
talk = Conversation(skill=Entry(), now=now)
if len(sys.argv) > 1:  # as Alexa sends it: the skill asks the Settings API for the device's zone
    talk.api_endpoint, talk.api_access_token = sys.argv[1], "token-for-this-test"
texts = [talk.launch().text]
morning = ("morning stretches", "morning_stretches")
texts.append(talk.intent("StartRoutineIntent", routine=morning).text)
for _ in range(40):
    reply = talk.intent("AMAZON.NextIntent")
    texts.append(reply.text)
    if reply.ends_session:
        break
print(json.dumps([texts, sorted(sys.modules)]))
"""


@pytest.fixture(scope="module")
def settings_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeAlexaApi]:
    tls = make_tls_files(Path(tmp_path_factory.mktemp("tls")))
    with FakeAlexaApi(tls, zone="America/New_York") as api:  # morning there: a routine
        yield api


@pytest.mark.parametrize("with_token", [False, True], ids=["no-api-token", "api-token"])
@pytest.mark.parametrize("entry", sorted(ENTRIES))
def test_a_whole_routine_is_coached_without_loading_what_serving_does_not_need(
    entry, with_token, catalog, settings_api
):
    """(``catalog`` has made sure the shipped snapshot matches this checkout.) With an API token,
    as every real Alexa request has, the first turn asks the Settings API for the zone."""
    env = {
        "RLS_COACH_STORE": "memory://",
        "RLS_COACH_SKILL_ID": SKILL_ID,
        "RLS_COACH_VERIFY": "false",
        "RLS_COACH_TIMEZONE": "America/New_York",
        "REQUESTS_CA_BUNDLE": str(settings_api.tls.ca),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    asked_before = len(settings_api.seen)
    completed = subprocess.run(
        [sys.executable, "-c", ENTRIES[entry] + CONVERSATION]
        + ([settings_api.endpoint] if with_token else []),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={**_inherited_env(), **env},
    )
    texts, loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    spoken = " ".join(texts)
    # The user heard a real routine: counted reps, its length, the step count, the week's tally.
    assert "One," in spoken and "Two," in spoken
    assert "exercises" in texts[1] and "minutes" in texts[1]
    assert "this week" in texts[-1]
    # With a token, the first turn asks the Settings API, and the SDK's client brings requests.
    asked = {"requests", "urllib3"} if with_token else set()
    assert sorted((set(NOT_LOADED_TO_SERVE) - asked) & set(loaded)) == []
    assert len(settings_api.seen) - asked_before == (1 if with_token else 0)  # cached after


def _inherited_env() -> dict[str, str]:

    return {k: v for k, v in os.environ.items() if not k.startswith("RLS_COACH_")}
