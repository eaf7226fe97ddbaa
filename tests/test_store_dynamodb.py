"""The DynamoDB store against a real DynamoDB-compatible server (moto) on loopback, through the
real skill: what users keep between sessions, what they hear when the store fails, and that no
save overwrites progress it did not read."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
import time
from decimal import Decimal

import pytest
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

from skill.builder import build_skill
from skill.state import STATE_VERSION, UserState
from skill.stores import REVISION_KEY, StoreURLError, open_store
from skill.stores.dynamodb import CALL_DEADLINE_SECONDS, ENDPOINT_VARIABLE, open_dynamodb_store
from tests.lambda_support import (
    DRIP,
    FAKE_CREDENTIALS,
    GARBAGE,
    HUGE,
    REGION,
    ROOT,
    THROTTLE,
    DynamoDBProxy,
    closed_port_url,
    dynamodb,
    stored_items,
)
from tests.support import SERIALIZER, Conversation, envelope, launch_request

# A DynamoDB server on loopback, and deadlines and retries waited out in real time.
pytestmark = pytest.mark.slow

USER = "amzn1.ask.account.TESTUSER"
STORE_ERROR = "couldn't reach your saved progress"
DISCLAIMER = "not medical advice"


@pytest.fixture
def aws_env(monkeypatch, endpoint):
    """Fake credentials and the moto endpoint, as a developer's shell would set them."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)


@pytest.fixture
def table(aws_env, table) -> str:
    """The shared fresh table, made with the AWS variables of a developer's shell set."""
    return table


def talk_to(table: str, catalog, settings, morning) -> Conversation:
    """A fresh skill (a new process, as far as the store is concerned) on the given table."""
    skill = build_skill(catalog, open_store(f"dynamodb://{table}"), settings)
    return Conversation(skill=skill, now=morning)


def returning_user(endpoint: str, table: str) -> list[dict]:
    """A returning user with a bedtime and a completed routine (a fresh state would differ),
    stored as an item from before revisions; what the table holds."""
    returning = UserState(bedtime="21:30", completions={"morning": ["2026-11-16"]})
    returning.disclaimer_heard = True
    dynamodb(endpoint).Table(table).put_item(Item={"id": USER, "attributes": returning.to_record()})
    return stored_items(endpoint, table)


def test_first_launch_is_remembered_in_the_table(table, endpoint, catalog, settings, morning):
    first = talk_to(table, catalog, settings, morning).launch()
    assert DISCLAIMER in first.text

    second = talk_to(table, catalog, settings, morning).launch()
    assert DISCLAIMER not in second.text
    assert "Welcome back" in second.text or "Hi again" in second.text

    [item] = stored_items(endpoint, table)
    assert item["id"] == USER
    assert item["attributes"]["disclaimer_heard"] is True
    assert item["attributes"]["version"] == Decimal(STATE_VERSION)
    assert item["attributes"][REVISION_KEY] == Decimal(1)


def test_a_record_reads_back_as_it_was_saved_and_can_be_deleted(table, endpoint):
    record = {
        "version": 1,
        "pace": "gentle",
        "ratio": 0.1,
        "big": 12345678901234567890,
        "negative": -2.5,
        "bedtime": None,
        "disclaimer_heard": True,
        "empty": "",
        "progress": {"routine_id": "morning", "step": 0, "paused": False, "nested": {"x": [1]}},
        "completions": {"morning": ["2026-11-16", "2026-11-17"], "evening": []},
        "unicode": "stretch \u2013 r\u00e9p\u00e9tez",
    }
    request = _request_envelope()
    store = open_dynamodb_store(table)
    store.save_attributes(request, record)
    read = open_dynamodb_store(table).get_attributes(request)
    assert read == {**record, REVISION_KEY: 1}
    assert type(read["big"]) is int and type(read["ratio"]) is float
    store.delete_attributes(request)
    assert stored_items(endpoint, table) == []


def test_numbers_are_stored_as_decimals_and_read_back_as_plain_numbers(table, endpoint):
    store = open_dynamodb_store(table)
    request = _request_envelope()
    store.save_attributes(request, {"count": 3, "ratio": 0.1, "steps": [1, 2.5], "ok": True})

    [item] = stored_items(endpoint, table)
    assert item["attributes"]["ratio"] == Decimal("0.1")  # not 0.1000000000000000055511151231…
    assert item["attributes"]["steps"] == [Decimal(1), Decimal("2.5")]

    read = store.get_attributes(request)
    assert read == {"count": 3, "ratio": 0.1, "steps": [1, 2.5], "ok": True, REVISION_KEY: 1}
    assert type(read["count"]) is int and type(read["ratio"]) is float


def test_a_number_dynamodb_cannot_hold_is_refused_clearly(table):
    store = open_dynamodb_store(table)
    with pytest.raises(PersistenceException, match=r"non-finite number nan at attributes\.pace"):
        store.save_attributes(_request_envelope(), {"pace": float("nan")})


def test_a_request_without_a_user_id_is_refused_clearly(table):
    request = _request_envelope()
    request.context.system.user = None
    store = open_dynamodb_store(table)
    with pytest.raises(PersistenceException, match="Couldn't retrieve user id") as refused:
        store.get_attributes(request)
    assert str(refused.value).startswith(
        f"could not read the user's state from DynamoDB table '{table}'"
    )


# ---- saves never overwrite progress they did not read ------------------------------------------


def test_a_save_from_a_stale_read_is_refused_and_the_newer_record_kept(table, endpoint):
    store = open_dynamodb_store(table)
    request = _request_envelope()
    store.save_attributes(request, {"pace": "slower"})
    kitchen = store.get_attributes(request)  # two devices read the same revision
    bedroom = store.get_attributes(request)
    store.save_attributes(request, {**bedroom, "pace": "faster"})
    with pytest.raises(PersistenceException, match="changed on another device"):
        store.save_attributes(request, {**kitchen, "pace": "slowest"})
    with pytest.raises(PersistenceException, match="changed on another device"):
        store.save_attributes(request, {"pace": "slowest"})  # no revision read: create only
    [item] = stored_items(endpoint, table)
    assert item["attributes"] == {"pace": "faster", REVISION_KEY: Decimal(2)}


def test_an_item_from_before_revisions_is_saved_over_once_read(table, endpoint):
    before = returning_user(endpoint, table)
    store = open_dynamodb_store(table)
    request = _request_envelope()
    read = store.get_attributes(request)
    assert REVISION_KEY not in read and read == from_item(before[0])
    store.save_attributes(request, {**read, "pace": "faster"})
    [item] = stored_items(endpoint, table)
    assert item["attributes"]["pace"] == "faster" and item["attributes"][REVISION_KEY] == 1


def from_item(item: dict) -> dict:
    return json.loads(json.dumps(item["attributes"], default=int))


def test_a_turn_that_would_overwrite_another_devices_save_apologises_instead(
    table, endpoint, catalog, settings, morning
):
    talk = talk_to(table, catalog, settings, morning)
    talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    store = talk.skill.persistence_adapter
    read = store.get_attributes

    def read_then_other_device_saves(request_envelope):
        record = read(request_envelope)
        other = open_dynamodb_store(table)
        other.save_attributes(
            request_envelope, {**other.get_attributes(request_envelope), "pace": "slower"}
        )
        return record

    store.get_attributes = read_then_other_device_saves
    reply = talk.intent("AMAZON.NextIntent")
    assert STORE_ERROR in reply.text
    [item] = stored_items(endpoint, table)
    assert item["attributes"]["pace"] == "slower"  # the other device's save stands
    assert item["attributes"]["progress"]["segment"] == 0  # this turn's was refused


def test_a_read_answered_with_a_body_that_is_not_json_writes_nothing(
    table, endpoint, monkeypatch, catalog, settings, morning, caplog
):
    before = returning_user(endpoint, table)
    with DynamoDBProxy(endpoint, faults={"GetItem": GARBAGE}).running() as proxy:
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        reply = talk_to(table, catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "not a JSON object" in caplog.text
    assert proxy.seen == ["GetItem"]  # no save after a failed read
    assert stored_items(endpoint, table) == before

    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
    assert DISCLAIMER not in talk_to(table, catalog, settings, morning).launch().text


def test_an_answer_larger_than_any_item_is_refused_and_nothing_written(
    table, endpoint, monkeypatch, catalog, settings, morning, caplog
):
    before = returning_user(endpoint, table)
    with DynamoDBProxy(endpoint, faults={"GetItem": HUGE}).running() as proxy:
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        reply = talk_to(table, catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "more than an item can ever need" in caplog.text
    assert proxy.seen == ["GetItem"]
    assert stored_items(endpoint, table) == before


@pytest.mark.parametrize("operation", ["GetItem", "PutItem"])
def test_an_endpoint_that_drips_its_answer_gets_an_apology_within_the_deadline(
    table, endpoint, monkeypatch, catalog, settings, morning, caplog, operation
):
    """One byte every 0.6 s never trips a one-second read timeout; the call's deadline ends it."""
    with DynamoDBProxy(endpoint, faults={operation: DRIP}).running() as proxy:
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        talk = talk_to(table, catalog, settings, morning)
        began = time.monotonic()
        reply = talk.launch()
        took = time.monotonic() - began
    assert STORE_ERROR in reply.text
    assert took < CALL_DEADLINE_SECONDS + 1.0
    assert f"DynamoDB did not answer within {CALL_DEADLINE_SECONDS:g} s" in caplog.text
    assert stored_items(endpoint, table) == []


def test_a_missing_table_gets_an_apology_and_a_clear_log_line(
    aws_env, catalog, settings, morning, caplog
):
    reply = talk_to("no-such-table", catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "the table 'no-such-table' does not exist" in caplog.text


def test_an_unreachable_endpoint_gets_an_apology(
    aws_env, monkeypatch, catalog, settings, morning, caplog
):
    monkeypatch.setenv(ENDPOINT_VARIABLE, closed_port_url())
    reply = talk_to("users", catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "cannot reach DynamoDB" in caplog.text


def test_a_throttled_read_does_not_overwrite_what_is_stored(
    table, endpoint, monkeypatch, catalog, settings, morning, caplog
):
    before = returning_user(endpoint, table)
    with DynamoDBProxy(endpoint, faults={"GetItem": THROTTLE}).running() as proxy:
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        reply = talk_to(table, catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "DynamoDB is throttling requests" in caplog.text
    assert proxy.seen == ["GetItem", "GetItem"]  # one retry, then the apology
    assert stored_items(endpoint, table) == before

    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
    assert DISCLAIMER not in talk_to(table, catalog, settings, morning).launch().text


def test_a_throttled_save_is_apologised_for_and_tried_again_next_time(
    table, endpoint, monkeypatch, catalog, settings, morning, caplog
):
    with DynamoDBProxy(endpoint, faults={"PutItem": THROTTLE}).running() as proxy:
        monkeypatch.setenv(ENDPOINT_VARIABLE, proxy.url)
        with caplog.at_level(logging.ERROR):
            reply = talk_to(table, catalog, settings, morning).launch()
    assert STORE_ERROR in reply.text
    assert "could not save the user's state to DynamoDB table" in caplog.text
    assert proxy.seen == ["GetItem", "PutItem", "PutItem"]
    assert stored_items(endpoint, table) == []

    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
    assert DISCLAIMER in talk_to(table, catalog, settings, morning).launch().text
    assert len(stored_items(endpoint, table)) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://cache/0", "unknown store URL 'redis://cache/0': use sqlite:///"),
        ("dynamodb://", "names no table: use dynamodb://table-name"),
    ],
)
def test_store_urls_that_cannot_work_are_refused_clearly(url, message):
    with pytest.raises(StoreURLError, match=message):
        open_store(url)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no AWS region; set AWS_REGION"),
        (
            {"AWS_REGION": REGION, ENDPOINT_VARIABLE: "localhost:8000"},
            "'localhost:8000' is not an endpoint URL",
        ),
    ],
)
def test_dynamodb_settings_that_cannot_work_are_refused_clearly(environ, message):
    with pytest.raises(StoreURLError, match=message):
        open_dynamodb_store("users", environ)


def test_importing_the_store_and_the_lambda_entry_needs_no_aws_configuration(tmp_path):
    """A fresh interpreter with no AWS variables or files: both modules import; opening a store
    with only AWS_REGION (botocore itself reads AWS_DEFAULT_REGION) works without credentials."""
    script = (
        "import os, skill.stores.dynamodb, skill.lambda_entry\n"
        "os.environ['AWS_REGION'] = 'eu-west-1'\n"
        "store = skill.stores.dynamodb.open_dynamodb_store('users')\n"
        "print(type(store).__name__, store.dynamodb.meta.client.meta.region_name)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["CoachDynamoDbAdapter", "eu-west-1"]


def _request_envelope() -> RequestEnvelope:
    moment = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
    return SERIALIZER.deserialize(json.dumps(envelope(launch_request(moment))), RequestEnvelope)
