"""Hypothesis strategies for Alexa request envelopes: valid ones of every request type, damaged
ones, and arbitrary JSON. Shared by the envelope-parser, skill and webhook property tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ask_sdk_model import Request
from hypothesis import strategies as st

from tests.support import SKILL_ID, envelope

INTENTS = (
    "StartRoutineIntent",
    "GuideExerciseIntent",
    "CanIDoIntent",
    "TipIntent",
    "SetBedtimeIntent",
    "AMAZON.NextIntent",
    "AMAZON.YesIntent",
    "AMAZON.StopIntent",
)
REQUEST_TYPES = sorted(Request.discriminator_value_class_map)
# Alexa sends these only within a session.
IN_SESSION_ONLY = frozenset(
    {"LaunchRequest", "IntentRequest", "SessionEndedRequest", "CanFulfillIntentRequest"}
)

words = st.text(alphabet=st.characters(codec="utf-8"), max_size=20)
ids = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | words
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 1, 1)))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    style = draw(st.sampled_from(["Z", "fraction", "offset", "naive", "words"]))
    if style == "fraction":
        digits = draw(st.integers(1, 7))
        return f"{text}.{draw(st.from_regex(rf'[0-9]{{{digits}}}', fullmatch=True))}Z"
    if style == "offset":
        return f"{text}+{draw(st.integers(0, 14)):02d}:00"
    if style == "naive":
        return text
    if style == "words":
        return draw(st.sampled_from(["", "yesterday", "2026-02-30T10:00:00Z", "2026-11-17"]))
    return f"{text}Z"


@st.composite
def slots(draw: st.DrawFn) -> dict[str, Any]:
    result = {}
    for name in draw(st.lists(ids, max_size=3, unique=True)):
        slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
        if draw(st.booleans()):
            slot["value"] = draw(words)
        status = draw(st.sampled_from([None, "ER_SUCCESS_MATCH", "ER_SUCCESS_NO_MATCH"]))
        if status:
            authority: dict[str, Any] = {
                "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.X",
                "status": {"code": status},
            }
            if status == "ER_SUCCESS_MATCH":
                authority["values"] = [
                    {"value": {"name": draw(words), "id": draw(ids)}}
                    for _ in range(draw(st.integers(1, 2)))
                ]
            slot["resolutions"] = {"resolutionsPerAuthority": [authority]}
        if draw(st.booleans()):
            slot["slotValue"] = {"type": "Simple", "value": draw(words)}
        result[name] = slot
    return result


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["LaunchRequest", "IntentRequest", "SessionEndedRequest", "System.ExceptionEncountered"]
        )
        | st.sampled_from(REQUEST_TYPES)
    )
    request: dict[str, Any] = {
        "type": kind,
        "requestId": f"amzn1.echo-api.request.{draw(ids)}",
        "timestamp": draw(timestamps()),
        "locale": draw(st.sampled_from(["en-US", "en-GB", "en-IN", "de-DE"])),
    }
    if kind in ("IntentRequest", "CanFulfillIntentRequest"):
        request["dialogState"] = draw(st.sampled_from(["STARTED", "IN_PROGRESS", "COMPLETED"]))
        request["intent"] = {
            "name": draw(st.sampled_from(INTENTS) | ids),
            "confirmationStatus": draw(st.sampled_from(["NONE", "CONFIRMED", "DENIED"])),
            "slots": draw(slots()),
        }
    if kind == "SessionEndedRequest":
        request["reason"] = draw(
            st.sampled_from(["USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS"])
        )
        if draw(st.booleans()):
            request["error"] = {"type": "INVALID_RESPONSE", "message": draw(words)}
    if kind == "System.ExceptionEncountered":
        request["error"] = {"type": "INVALID_RESPONSE", "message": draw(words)}
        request["cause"] = {"requestId": draw(ids)}
    return request


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    body = envelope(
        draw(requests()),
        user_id=f"amzn1.ask.account.{draw(ids)}",
        session_attributes=draw(st.dictionaries(ids, json_values, max_size=3)),
        new_session=draw(st.booleans()),
    )
    system = body["context"]["System"]
    if draw(st.booleans()):
        system["device"]["supportedInterfaces"] = {"Display": {}, "Alexa.Presentation.APL": {}}
    if draw(st.booleans()):
        system["person"] = {"personId": draw(ids)}
    if draw(st.booleans()):
        body["context"]["Viewport"] = {"shape": "RECTANGLE", "pixelWidth": 1024, "dpi": 160}
    if body["request"]["type"] not in IN_SESSION_ONLY and draw(st.booleans()):
        del body["session"]  # events (audio player, skill events…) can arrive out of session
    return body


@st.composite
def graft(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """The envelope with one place anywhere in it (or a new key) replaced by random JSON."""
    node: Any = body
    while isinstance(node, dict) and node and draw(st.booleans()):
        node = node[draw(st.sampled_from(sorted(node)))]
    if isinstance(node, dict):
        key = draw(st.sampled_from([*sorted(node), "extraField", "type", "timestamp"]))
        node[key] = draw(json_values)
    elif isinstance(node, list) and node:
        node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return body
