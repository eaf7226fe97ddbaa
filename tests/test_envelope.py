"""The fast envelope parser builds exactly what ask-sdk's serializer builds, or fails alike.

Property tests: random valid envelopes of every request type, and the same envelopes with random
JSON grafted anywhere, go through both ``EnvelopeSerializer`` and the SDK's ``DefaultSerializer``.
The objects must be equal (ask-sdk models compare every attribute), print the same (which also
compares time zones, not just instants) and dump to the same dict; or both must raise
``SerializationException`` with the same message. Random response envelopes, and random Python
values, must serialize to the same JSON, key order included.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from enum import Enum
from http import HTTPStatus
from typing import Any

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_model.slu.entityresolution import StatusCode
from hypothesis import example, given
from hypothesis import strategies as st

from bench.turns import LOAD_VISIT, Session
from skill.builder import skill_builder
from skill.envelope import EnvelopeSerializer, lambda_handler
from skill.stores import MemoryAdapter
from tests.hardening.scale import fuzz_settings
from tests.hardening.strategies import envelopes, graft, ids, json_scalars, json_values, words
from tests.support import envelope

SDK = DefaultSerializer()
FAST = EnvelopeSerializer()
PROPERTY = fuzz_settings(quick=300, stress=5000)


def outcome(serializer: DefaultSerializer, raw: str) -> tuple[str, Any]:
    try:
        parsed = serializer.deserialize(raw, RequestEnvelope)
    except SerializationException as exc:
        return "error", str(exc)
    return "ok", parsed


def assert_same(raw: str) -> None:
    expected, actual = outcome(SDK, raw), outcome(FAST, raw)
    assert actual[0] == expected[0], (expected, actual)
    if expected[0] == "error":
        assert actual[1] == expected[1]
        return
    assert actual[1] == expected[1]
    assert described(actual[1]) == described(expected[1])
    assert_same_fields(actual[1], expected[1])
    # And back: the fast serialize gives what the SDK's gives (or fails as it does: an unknown
    # JSON key named "attribute_map" even breaks the SDK's own serialize).
    assert serialized(FAST, actual[1]) == serialized(SDK, expected[1])


def assert_same_fields(actual: Any, expected: Any, path: str = "envelope") -> None:
    """The same objects all the way down: types, every attribute in the same order, time zones
    of the same class holding the same readings, the same fold; so that the SDK and the
    handlers cannot tell which serializer made them."""
    assert type(actual) is type(expected), path
    if isinstance(expected, list):
        assert len(actual) == len(expected), path
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_same_fields(left, right, f"{path}[{index}]")
    elif isinstance(expected, dict):
        assert list(actual) == list(expected), path
        for key in expected:
            assert_same_fields(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, dt.datetime):
        assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), path
        assert actual.fold == expected.fold, path
        assert type(actual.tzinfo) is type(expected.tzinfo), path
        zones = getattr(actual.tzinfo, "__dict__", None), getattr(expected.tzinfo, "__dict__", None)
        assert zones[0] == zones[1], path
    elif isinstance(expected, Enum):
        assert actual is expected, path
    elif hasattr(expected, "__dict__"):
        assert list(vars(actual)) == list(vars(expected)), path
        for name, value in vars(expected).items():
            assert_same_fields(vars(actual)[name], value, f"{path}.{name}")
    else:
        assert actual == expected or repr(actual) == repr(expected), path  # NaN: itself


def described(value: Any) -> tuple[str, str]:
    """``repr(value)``, or the error it raises: a JSON key such as "__dict__" replaces the model's
    attributes (in the SDK's objects as in ours), and the model's repr then fails."""
    try:
        return "ok", repr(value)
    except Exception as exc:
        return type(exc).__name__, str(exc)


def serialized(serializer: DefaultSerializer, value: Any) -> tuple[str, Any]:
    try:
        return "ok", json.dumps(serializer.serialize(value), default=repr)
    except Exception as exc:
        return type(exc).__name__, str(exc)


@PROPERTY
@given(envelopes())
def test_valid_envelopes_parse_to_the_same_objects(body):
    assert_same(json.dumps(body))


@PROPERTY
@given(st.data(), envelopes())
def test_damaged_envelopes_parse_or_fail_alike(data, body):
    assert_same(json.dumps(data.draw(graft(body))))


@PROPERTY
@given(json_values)
@example("not json at all")
@example(b'{"version": "1.0", "request": {"type": "Nope"}}')
@example({"__dict__": {}})  # found by `make stress`: both models lose their attributes
def test_arbitrary_json_parses_or_fails_alike(value):
    raw = value if isinstance(value, bytes) or value == "not json at all" else json.dumps(value)
    assert_same(raw)


def test_alexa_timestamps_are_read_without_dateutils_parser():
    body = envelope(
        {"type": "LaunchRequest", "requestId": "r", "timestamp": "2026-11-17T13:15:00.25Z"}
    )
    parsed = FAST.deserialize(json.dumps(body), RequestEnvelope)
    assert parsed.request.timestamp == dt.datetime(2026, 11, 17, 13, 15, 0, 250000, tzinfo=dt.UTC)
    assert parsed == SDK.deserialize(json.dumps(body), RequestEnvelope)


alexa_shaped_timestamps = st.builds(
    lambda fields, fraction: (
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}".format(*fields)
        + (f".{fraction}" if fraction else "")
        + "Z"
    ),
    st.tuples(
        st.integers(0, 9999),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.from_regex(r"[0-9]{0,6}", fullmatch=True),
)


@PROPERTY
@given(alexa_shaped_timestamps)
@example("2026-02-29T10:00:00Z")
@example("2028-02-29T23:59:59.999999Z")
@example("2026-11-17T24:00:00Z")
@example("0000-01-01T00:00:00Z")
def test_timestamps_in_alexas_format_parse_or_fail_alike(stamp):
    # Every string of the fast path's shape, impossible dates and times included.
    body = envelope({"type": "LaunchRequest", "requestId": "r", "timestamp": stamp})
    assert_same(json.dumps(body))


@pytest.mark.parametrize(
    "zone",
    [
        "UTC",
        "America/New_York",
        "Europe/London",
        "Asia/Kolkata",
        # Zones with daylight saving time in which one of the two names is "UTC".
        "UTC0XST,M3.5.0/1,M10.5.0",
        "XST1UTC,M3.5.0/1,M10.5.0",
    ],
)
def test_timestamps_carry_the_sdks_time_zone_object_whatever_the_machines_zone(zone, monkeypatch):
    # dateutil attaches tzlocal() to "Z" on a machine whose zone is called UTC (Lambda), and
    # tzutc() elsewhere; the fast parser must attach the same object in each case.
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        for stamp in (
            "2026-11-17T13:15:00Z",
            "2026-07-01T01:30:00.5Z",
            "2026-03-29T01:30:00Z",
            "2026-10-25T01:30:00Z",
            "2026-10-25T00:30:00Z",
        ):
            body = json.dumps(
                envelope({"type": "LaunchRequest", "requestId": "r", "timestamp": stamp})
            )
            if time.daylight and "UTC" in time.tzname and stamp.startswith("2026-10-25T01"):
                # A time the local zone repeats (with the fold decided by the name "UTC"): two
                # datetimes with distinct tzlocal() objects then never compare equal, not even
                # two of the SDK's own, so compare what they are made of.
                expected, actual = outcome(SDK, body), outcome(FAST, body)
                assert repr(actual) == repr(expected)
                assert_same_fields(actual[1], expected[1])
            else:
                assert_same(body)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_change_of_the_machines_zone_is_seen_by_the_next_parse(monkeypatch):
    # The parser keeps one tzlocal() per reading of the time module: a process whose zone
    # changes must get the new zone's objects, as the SDK would.
    body = json.dumps(
        envelope({"type": "LaunchRequest", "requestId": "r", "timestamp": "2026-07-01T01:30:00Z"})
    )
    try:
        for zone in ("UTC", "XST1UTC,M3.5.0/1,M10.5.0", "Europe/London", "UTC", "Etc/UTC"):
            monkeypatch.setenv("TZ", zone)
            time.tzset()
            assert_same(body)
    finally:
        monkeypatch.undo()
        time.tzset()


# ---- responses: serialize ----------------------------------------------------------------------

ssml_speech = st.builds(
    lambda text, kind: (
        {"type": "SSML", "ssml": f"<speak>{text}</speak>"}
        if kind
        else {"type": "PlainText", "text": text}
    ),
    words,
    st.booleans(),
)
cards = st.one_of(
    st.builds(lambda t, c: {"type": "Simple", "title": t, "content": c}, words, words),
    st.builds(
        lambda t, c, img: {"type": "Standard", "title": t, "text": c, **img},
        words,
        words,
        st.sampled_from([{}, {"image": {"smallImageUrl": "https://example.com/s.png"}}]),
    ),
    st.just({"type": "LinkAccount"}),
)
directives = st.one_of(
    st.builds(
        lambda name, slot: {
            "type": "Dialog.ElicitSlot",
            "slotToElicit": slot,
            "updatedIntent": {"name": name, "confirmationStatus": "NONE", "slots": {}},
        },
        ids,
        ids,
    ),
    st.just({"type": "Dialog.Delegate"}),
    st.builds(lambda token: {"type": "Hint", "hint": {"type": "PlainText", "text": token}}, words),
)


@st.composite
def responses(draw: st.DrawFn) -> dict[str, Any]:
    response: dict[str, Any] = {}
    if draw(st.booleans()):
        response["outputSpeech"] = draw(ssml_speech)
    if draw(st.booleans()):
        response["reprompt"] = {"outputSpeech": draw(ssml_speech)}
    if draw(st.booleans()):
        response["card"] = draw(cards)
    if draw(st.booleans()):
        response["directives"] = draw(st.lists(directives, max_size=2))
    if draw(st.booleans()):
        response["shouldEndSession"] = draw(st.booleans() | st.none())
    body: dict[str, Any] = {"version": "1.0", "response": response}
    if draw(st.booleans()):
        body["sessionAttributes"] = draw(st.dictionaries(ids, json_values, max_size=4))
    if draw(st.booleans()):
        body["userAgent"] = "ask-python/1.19.0 Python/3.11"
    if draw(st.booleans()):
        body[draw(ids)] = draw(json_values)  # an unknown key becomes an attribute
    return body


@PROPERTY
@given(responses())
def test_responses_serialize_to_the_same_json_in_the_same_order(body):
    envelope_object = SDK.deserialize(json.dumps(body), ResponseEnvelope)
    expected, actual = SDK.serialize(envelope_object), FAST.serialize(envelope_object)
    assert actual == expected
    assert json.dumps(actual) == json.dumps(expected)  # key order too: the bytes Alexa gets


python_values = st.recursive(
    json_scalars
    | st.datetimes()
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.sampled_from(list(StatusCode))
    | st.sampled_from(list(HTTPStatus)),  # an IntEnum: an int the SDK returns as is
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(words, inner, max_size=3)
    ),
    max_leaves=8,
)


@PROPERTY
@given(python_values)
def test_any_value_serializes_as_the_sdk_would(value):
    assert serialized(FAST, value) == serialized(SDK, value)
    if serialized(SDK, value)[0] == "ok":
        assert repr(FAST.serialize(value)) == repr(SDK.serialize(value))


# ---- the Lambda entry ----------------------------------------------------------------------------


def test_the_lambda_handler_answers_exactly_as_the_sdks_does(catalog, settings, morning):
    """A whole visit, event by event, through ask-sdk's own lambda_handler() and through ours,
    each with its own store: the same response envelopes, byte for byte (the visit is the
    benchmark's)."""
    sdks = skill_builder(catalog, MemoryAdapter(), settings).lambda_handler()
    ours = lambda_handler(skill_builder(catalog, MemoryAdapter(), settings).create())
    session = Session("amzn1.ask.account.lambda-equivalence")
    for _ in range(2):
        for turn in LOAD_VISIT:
            event = json.loads(session.body(turn, morning))
            expected = sdks(json.loads(json.dumps(event)), None)
            assert json.dumps(ours(event, None)) == json.dumps(expected), turn.label
            session.heard(json.dumps(expected).encode())
