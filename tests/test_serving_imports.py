"""What a process serving the coach loads: only what answering needs. Each module below was once
loaded by every serving process and is now loaded only when something rare needs it; these tests
keep it that way (memory and cold start are measured by ``python -m bench``, not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import SKILL_ID

# Module → what it would have been loaded for, and why a serving process does without it.
NOT_LOADED_TO_SERVE = {
    "num2words": "spoken numbers come from skill.spoken_numbers' table",
    "yaml": "the catalog comes from its checked snapshot",
    "marshmallow": "current user records are read and written directly",
    "requests": "the Settings API client loads it on its first call",
}

# A fresh process answering through the Lambda entry (the memory store: the DynamoDB store's
# boto3 would bring more modules of its own), from a launch through a whole routine to its end.
PROBE = """
import datetime as dt, json, sys, zoneinfo
from ask_sdk_model import ResponseEnvelope
from skill.lambda_entry import handler
from tests.support import SERIALIZER, Conversation

class LambdaSkill:
    def invoke(self, request_envelope, context):
        answer = handler(SERIALIZER.serialize(request_envelope), None)
        return SERIALIZER.deserialize(json.dumps(answer), ResponseEnvelope)

now = dt.datetime(2026, 11, 17, 8, 15, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
talk = Conversation(skill=LambdaSkill(), now=now)
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


def test_a_whole_routine_is_coached_without_loading_what_serving_does_not_need(catalog):
    """(``catalog`` has made sure the shipped snapshot matches this checkout.)"""
    env = {"RLS_COACH_STORE": "memory://", "RLS_COACH_SKILL_ID": SKILL_ID}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE],
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
    assert sorted(set(NOT_LOADED_TO_SERVE) & set(loaded)) == []


def _inherited_env() -> dict[str, str]:

    return {k: v for k, v in os.environ.items() if not k.startswith("RLS_COACH_")}
