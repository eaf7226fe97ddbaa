"""The indexed request mapper picks exactly the handler the SDK's own mapper picks: for every
request type the SDK knows (and one it does not), every intent of the interaction model (and junk),
in and out of a session, and in every conversation state that routing looks at."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Request, RequestEnvelope
from ask_sdk_runtime.dispatch_components.request_components import GenericRequestMapper
from hypothesis import example, given
from hypothesis import strategies as st

from skill.builder import TurnInterceptor, skill_builder
from skill.catalog.loader import default_catalog
from skill.handlers import answers, common, routine
from skill.routing import ANYTHING, IndexedRequestMapper, Takes, intents, requests, takes
from skill.settings import Settings
from skill.stores import MemoryAdapter
from tests.hardening.scale import fuzz_settings
from tests.support import SERIALIZER, envelope, iso, store_record

PROPERTY = fuzz_settings(quick=400, stress=8000)
ROOT = Path(__file__).resolve().parent.parent
MODEL_INTENTS = sorted(
    intent["name"]
    for intent in json.loads((ROOT / "interaction_models" / "en-US.json").read_text())[
        "interactionModel"
    ]["languageModel"]["intents"]
)
DECLARED_INTENTS = sorted(
    {
        name
        for handler in (*routine.HANDLERS, *answers.HANDLERS, *common.HANDLERS)
        for name in takes(handler).intent_names or ()
    }
)
REQUEST_TYPES = sorted(Request.discriminator_value_class_map)
NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
SETTINGS = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")

# (request type, intent name): every intent the model or a handler names, every request type the
# SDK knows and one it does not, and intents nobody names.
KNOWN_REQUESTS = [
    *(("IntentRequest", name) for name in sorted({*MODEL_INTENTS, *DECLARED_INTENTS})),
    *((request_type, "") for request_type in REQUEST_TYPES if request_type != "IntentRequest"),
    ("Junk.Unknown", ""),
]
requests_made = st.sampled_from(KNOWN_REQUESTS) | st.tuples(st.just("IntentRequest"), st.text())
OFFER_KINDS = ["resume", "start_fresh", "guide_exercise", "tip", "junk"]
offer_kinds = st.sampled_from(OFFER_KINDS)
offers = st.none() | st.builds(lambda kind: {"kind": kind}, offer_kinds) | st.just("not a dict")
session_attributes = st.fixed_dictionaries(
    {},
    optional={
        "guiding": st.sampled_from([True, False, None, 1, "yes"]),
        "offer": offers,
        "pending_start": st.sampled_from(["routine:morning_stretches", "resume", "junk"]),
    },
)
progress = st.none() | st.fixed_dictionaries(
    {
        "routine_id": st.sampled_from([None, "morning_stretches", "gone_routine"]),
        "exercise_id": st.sampled_from([None, "calf_stretch", "gone_exercise"]),
        "step": st.integers(0, 12),
        "segment": st.integers(0, 4),
        "paused": st.booleans(),
        "updated_at": st.sampled_from([iso(NOW), "2020-01-01T00:00:00+00:00", "junk"]),
    }
)
NEW_USER: dict[str, Any] = {"progress": None, "disclaimer_heard": False}
GUIDING: dict[str, Any] = {
    "progress": {
        "routine_id": "morning_stretches",
        "exercise_id": "calf_stretch",
        "step": 0,
        "segment": 1,
        "paused": False,
        "updated_at": iso(NOW),
    },
    "disclaimer_heard": True,
}
records = st.fixed_dictionaries(
    {"progress": progress, "disclaimer_heard": st.booleans()},
    optional={"pace": st.sampled_from(["slow", "normal", "fast"])},
)


def request_json(request_type: str, intent_name: str) -> dict[str, Any]:
    request: dict[str, Any] = {
        "type": request_type,
        "requestId": "amzn1.echo-api.request.routing",
        "timestamp": iso(NOW),
        "locale": "en-US",
    }
    if request_type == "IntentRequest":
        request["intent"] = {"name": intent_name, "confirmationStatus": "NONE", "slots": {}}
    return request


def handler_input(
    request_type: str, intent_name: str, in_session: bool, attributes: dict, record: dict
) -> HandlerInput:
    """What the handlers see: a deserialized envelope, the stored record, the turn's state."""
    body = envelope(request_json(request_type, intent_name), session_attributes=attributes)
    if not in_session:
        del body["session"]
    if request_type in Request.discriminator_value_class_map:
        request_envelope = SERIALIZER.deserialize(json.dumps(body), RequestEnvelope)
    else:  # a type the SDK does not know cannot be deserialized; build it as a bare Request
        body["request"] = None
        request_envelope = SERIALIZER.deserialize(json.dumps(body), RequestEnvelope)
        request_envelope.request = Request(
            object_type=request_type, request_id="amzn1.echo-api.request.routing", timestamp=NOW
        )
    store = MemoryAdapter()
    store_record(store, record)
    made = HandlerInput(
        request_envelope=request_envelope,
        attributes_manager=AttributesManager(request_envelope, persistence_adapter=store),
    )
    TurnInterceptor(CATALOG, SETTINGS).process(made)
    return made


def choice(mapper: Any, made: HandlerInput) -> Any:
    """The handler the mapper picks (or the exception it raises) for ``made``."""
    try:
        chain = mapper.get_request_handler_chain(made)
    except Exception as exc:  # the kind of failure is what is compared
        return type(exc)
    return chain.request_handler if chain is not None else None


CATALOG = default_catalog()
# The skill's own handler chains, in its order, as the SDK's mapper and the indexed one get them.
CHAINS = skill_builder(
    CATALOG, MemoryAdapter(), SETTINGS
).runtime_configuration_builder.request_handler_chains
SDK_MAPPER = GenericRequestMapper(CHAINS)
INDEXED = IndexedRequestMapper(CHAINS)


def with_examples(test: Any) -> Any:
    """The property over random requests and states, plus the turns the benchmark times."""
    for args in (
        (("LaunchRequest", ""), True, {}, GUIDING),
        (("IntentRequest", "StartRoutineIntent"), True, {}, GUIDING),
        (("IntentRequest", "AMAZON.NextIntent"), True, {"guiding": True}, GUIDING),
        (("IntentRequest", "CanIDoIntent"), True, {"guiding": True}, GUIDING),
        (("IntentRequest", "TipIntent"), True, {"guiding": True}, GUIDING),
        (("IntentRequest", "AMAZON.YesIntent"), True, {"offer": {"kind": "tip"}}, NEW_USER),
        (("Junk.Unknown", ""), False, {}, NEW_USER),
    ):
        test = example(*args)(test)
    return PROPERTY(given(requests_made, st.booleans(), session_attributes, records)(test))


@with_examples
def test_the_indexed_choice_is_the_sdks(request, in_session, attributes, record):
    made = handler_input(*request, in_session, attributes, record)
    assert choice(INDEXED, made) == choice(SDK_MAPPER, made)


@with_examples
def test_no_handler_says_yes_outside_what_it_declares(request, in_session, attributes, record):
    request_type, intent_name = request
    made = handler_input(request_type, intent_name, in_session, attributes, record)
    for chain in CHAINS:
        handler = chain.request_handler
        if handler.can_handle(made):
            assert takes(handler).admits(request_type, intent_name), type(handler).__name__


PAUSED = {**GUIDING, "progress": {**GUIDING["progress"], "paused": True}}
STALE = {**GUIDING, "progress": {**GUIDING["progress"], "updated_at": "2020-01-01T00:00:00+00:00"}}
LOST = {**GUIDING, "progress": {**GUIDING["progress"], "routine_id": "gone_routine"}}
SESSIONS = [{}, {"guiding": True}, *({"offer": {"kind": kind}} for kind in OFFER_KINDS)]
SESSIONS += [{**session, "guiding": True} for session in SESSIONS[2:]]


def test_the_indexed_choice_is_the_sdks_for_every_request_in_every_state():
    """Every known request, in and out of a session, with and without progress (guiding,
    paused, stale, pointing nowhere) and with each kind of pending offer."""
    chosen = set()
    for request in KNOWN_REQUESTS:
        for record in (NEW_USER, GUIDING, PAUSED, STALE, LOST):
            for in_session, attributes in [(False, {}), *((True, a) for a in SESSIONS)]:
                made = handler_input(*request, in_session, attributes, record)
                picked = choice(INDEXED, made)
                assert picked == choice(SDK_MAPPER, made), (request, in_session, attributes, record)
                chosen.add(picked)
    # The grid reaches every handler, so each one's declaration was put to the test. (Some
    # out-of-session requests fail in a handler's can_handle, as they did before: alike.)
    assert {chain.request_handler for chain in CHAINS} <= chosen


def test_every_handler_declares_what_it_takes():
    """Only the last catch-all takes anything; a handler that declared nothing would be asked
    about every request (correct, but the declaration is the point)."""
    for handler in (*routine.HANDLERS, *answers.HANDLERS, *common.HANDLERS):
        assert isinstance(type(handler).__dict__.get("takes"), Takes), type(handler).__name__
    assert takes(common.HANDLERS[-1]) is ANYTHING


def test_declarations_admit_what_they_name():
    assert intents("AMAZON.YesIntent").admits("IntentRequest", "AMAZON.YesIntent")
    assert not intents("AMAZON.YesIntent").admits("IntentRequest", "AMAZON.NoIntent")
    assert not intents("AMAZON.YesIntent").admits("LaunchRequest", None)
    assert requests("IntentRequest").admits("IntentRequest", "anything at all")
    assert not requests("LaunchRequest").admits("SessionEndedRequest", None)
    assert ANYTHING.admits("Junk.Unknown", None)


def test_a_handler_without_a_declaration_is_asked_about_everything():
    class Undeclared:
        def can_handle(self, handler_input: Any) -> bool:
            return True

    assert takes(Undeclared()) is ANYTHING


@pytest.mark.parametrize("made_by", ["create", "skill_configuration"])
def test_the_skill_routes_with_the_indexed_mapper(made_by):
    """``create()`` and ``lambda_handler()`` (which reads ``skill_configuration``) alike."""
    builder = skill_builder(CATALOG, MemoryAdapter(), SETTINGS)
    if made_by == "create":
        mappers = builder.create().request_dispatcher.request_mappers
    else:
        mappers = builder.skill_configuration.request_mappers
    assert [type(mapper) for mapper in mappers] == [IndexedRequestMapper]
    assert [chain.request_handler for chain in mappers[0].request_handler_chains] == [
        *routine.HANDLERS,
        *answers.HANDLERS,
        *common.HANDLERS,
    ]
