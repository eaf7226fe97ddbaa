"""Random conversations against the real skill: it never fails and always answers within Alexa's
rules, whatever intents, slot values, pauses and session endings it is given.

Each example is a list of turns a user could produce (intents from the contract and unknown ones,
slots filled with catalog names, synonyms, stale ids, junk or nothing; sessions ending, resuming
hours later, system errors). Every answer is checked against Alexa's rules; no handler may fail
(the skill would apologise and log an error); the stored record must stay readable.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest
from ask_sdk_model import Context, RequestEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User
from hypothesis import given
from hypothesis import strategies as st

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.settings import Settings
from skill.state import state_from_record
from skill.stores import MemoryAdapter
from tests.hardening.alexa_rules import violations
from tests.hardening.scale import fuzz_settings
from tests.support import Conversation, iso

CATALOG = default_catalog()
SETTINGS = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")
START = dt.datetime(2026, 11, 17, 8, 15, tzinfo=dt.UTC)
TIME_VALUES = ("22:30", "07:05", "00:00", "23:59", "MO", "AF", "EV", "NI", "25:99", "noon", "")

junk = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


def slot_values(slot_type: str) -> st.SearchStrategy[Any]:
    """What Alexa could put in a slot of this type: a resolved catalog entry, unresolved words
    (a synonym, or anything), a stale id the catalog no longer has, or nothing."""
    entries = list(CATALOG.slot_values(slot_type).values())
    options: list[st.SearchStrategy[Any]] = [st.none(), junk]
    if entries:
        options += [
            st.sampled_from(entries).map(lambda e: (e.name, e.id)),
            st.sampled_from(entries).flatmap(lambda e: st.sampled_from([e.name, *e.synonyms])),
            st.tuples(junk, st.sampled_from(["calf_strech", "retired_routine", "x"])),
        ]
    if slot_type == "AMAZON.TIME":
        options.append(st.sampled_from(TIME_VALUES))
    return st.one_of(options)


@st.composite
def intents(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    contract = CATALOG.phrasings.intents
    name = draw(
        st.sampled_from(sorted(contract))
        | st.sampled_from(CATALOG.phrasings.builtin_intents)
        | st.sampled_from(["AMAZON.ScrollDownIntent", "RetiredIntent"])
    )
    slot_types = dict(contract[name].slots) if name in contract else {}
    if draw(st.booleans()):
        slot_types["stray"] = "EXERCISE"  # a slot the contract does not declare
    slots = {slot: draw(slot_values(kind)) for slot, kind in slot_types.items()}
    return name, slots


actions = st.one_of(
    st.just(("launch",)),
    intents().map(lambda intent: ("intent", *intent)),
    intents().map(lambda intent: ("one_shot", *intent)),
    st.just(("end",)),
    st.just(("system_error",)),
    st.floats(min_value=0.01, max_value=60).map(lambda hours: ("wait", hours)),
)


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def recorder():
    handler = Recorder()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def system_error(now: dt.datetime) -> dict[str, Any]:
    return {
        "type": "System.ExceptionEncountered",
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": iso(now),
        "locale": "en-US",
        "error": {"type": "INVALID_RESPONSE", "message": "bad"},
        "cause": {"requestId": "amzn1.echo-api.request.previous"},
    }


def play(talk: Conversation, action: tuple[Any, ...]) -> str | None:
    """Perform one action; return the request type it sent, if it sent one."""
    kind = action[0]
    if kind == "launch":
        talk.launch()
        return "LaunchRequest"
    if kind in ("intent", "one_shot"):
        _, name, slots = action
        (talk.intent if kind == "intent" else talk.one_shot)(name, **slots)
        return "IntentRequest"
    if kind == "end":
        was_open = talk.in_session
        talk.end_session()
        return "SessionEndedRequest" if was_open else None
    if kind == "system_error":
        talk._send(system_error(talk.now))
        return "System.ExceptionEncountered"
    talk.wait(hours=action[1])
    return None


@fuzz_settings(quick=150, stress=3000)
@given(st.lists(actions, min_size=1, max_size=14))
def test_random_conversations_never_fail_and_keep_alexas_rules(recorder, script):
    store = MemoryAdapter()
    talk = Conversation(skill=build_skill(CATALOG, store, SETTINGS), now=START)
    recorder.records.clear()
    for step, action in enumerate(script):
        request_type = play(talk, action)
        if request_type is None:
            continue
        assert talk.last is not None
        problems = violations(request_type, talk.last.body)
        assert not problems, f"step {step} {action}: {problems}\n{talk.last.body}"
        failures = [r for r in recorder.records if r.levelno >= logging.ERROR]
        assert not failures, f"step {step} {action}: {failures[0].getMessage()}"
        corrupt = [r for r in recorder.records if "corrupt" in r.getMessage()]
        assert not corrupt, f"step {step} {action}: {corrupt[0].getMessage()}"
    stored = store.get_attributes(for_user(talk.user_id))
    if stored:
        assert state_from_record(stored).to_record() == stored  # readable, nothing dropped


def for_user(user_id: str) -> RequestEnvelope:
    return RequestEnvelope(context=Context(system=SystemState(user=User(user_id=user_id))))
