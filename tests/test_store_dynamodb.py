"""The DynamoDB store against a real DynamoDB-compatible server (moto) on loopback, through the
real skill: what users keep between sessions, and what they hear when the store fails."""

from __future__ import annotations

import datetime as dt
import json
import logging
import subprocess
import sys
from decimal import Decimal

import pytest
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

from skill.builder import build_skill
from skill.state import UserState
from skill.stores import StoreURLError, open_store
from skill.stores.dynamodb import (
    CLIENT_VARIABLE,
    ENDPOINT_VARIABLE,
    DirectDynamoDbAdapter,
    choose_client,
    open_dynamodb_store,
)
from tests.lambda_support import (
    FAKE_CREDENTIALS,
    REGION,
    ROOT,
    ThrottlingProxy,
    closed_port_url,
    create_users_table,
    dynamodb,
    moto_dynamodb,
    stored_items,
)
from tests.support import SERIALIZER, Conversation, envelope, launch_request

STORE_ERROR = "couldn't reach your saved progress"
DISCLAIMER = "not medical advice"


@pytest.fixture(scope="module")
def endpoint():
    with moto_dynamodb() as url:
        yield url


CLIENTS = ["direct", "boto3"]


@pytest.fixture(params=CLIENTS)
def client(request) -> str:
    """Every behaviour below holds for both DynamoDB clients."""
    return request.param


@pytest.fixture
def aws_env(monkeypatch, endpoint, client):
    """Fake credentials and the moto endpoint, as a developer's shell would set them."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
    monkeypatch.setenv(CLIENT_VARIABLE, client)


@pytest.fixture
def table(aws_env, endpoint) -> str:
    return create_users_table(endpoint)


def talk_to(table: str, catalog, settings, morning) -> Conversation:
    """A fresh skill (a new process, as far as the store is concerned) on the given table."""
    skill = build_skill(catalog, open_store(f"dynamodb://{table}"), settings)
    return Conversation(skill=skill, now=morning)


def test_first_launch_is_remembered_in_the_table(table, endpoint, catalog, settings, morning):
    first = talk_to(table, catalog, settings, morning).launch()
    assert DISCLAIMER in first.text

    second = talk_to(table, catalog, settings, morning).launch()
    assert DISCLAIMER not in second.text
    assert "Welcome back" in second.text or "Hi again" in second.text

    [item] = stored_items(endpoint, table)
    assert item["id"] == "amzn1.ask.account.TESTUSER"
    assert item["attributes"]["disclaimer_heard"] is True
    assert item["attributes"]["version"] == Decimal(1)


def test_the_client_asked_for_is_the_one_used(table, client):
    store = open_dynamodb_store(table)
    assert isinstance(store, DirectDynamoDbAdapter) == (client == "direct")


@pytest.mark.parametrize("client", ["direct"])  # the writer and the reader choose below
@pytest.mark.parametrize(("writer", "reader"), [("direct", "boto3"), ("boto3", "direct")])
def test_a_record_written_by_one_client_reads_back_identically_through_the_other(
    table, endpoint, monkeypatch, writer, reader
):
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
    monkeypatch.setenv(CLIENT_VARIABLE, writer)
    open_dynamodb_store(table).save_attributes(request, record)
    written = stored_items(endpoint, table)

    monkeypatch.setenv(CLIENT_VARIABLE, reader)
    store = open_dynamodb_store(table)
    read = store.get_attributes(request)
    assert read == record
    assert type(read["big"]) is int and type(read["ratio"]) is float
    store.save_attributes(request, read)  # written back by the other client: the same item
    assert stored_items(endpoint, table) == written
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
    assert read == {"count": 3, "ratio": 0.1, "steps": [1, 2.5], "ok": True}
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
    # A returning user with a bedtime and a completed routine: a fresh state would differ.
    returning = UserState(bedtime="21:30", completions={"morning": ["2026-11-16"]})
    returning.disclaimer_heard = True
    dynamodb(endpoint).Table(table).put_item(
        Item={"id": "amzn1.ask.account.TESTUSER", "attributes": returning.to_record()}
    )
    before = stored_items(endpoint, table)

    with ThrottlingProxy(endpoint, throttle={"GetItem"}).running() as proxy:
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
    with ThrottlingProxy(endpoint, throttle={"PutItem"}).running() as proxy:
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


LAMBDA_LIKE = {"AWS_REGION": "eu-west-1", **FAKE_CREDENTIALS}


@pytest.mark.parametrize(
    ("environ", "chosen"),
    [
        (LAMBDA_LIKE, "direct"),
        ({**LAMBDA_LIKE, "AWS_SESSION_TOKEN": ""}, "direct"),
        ({**LAMBDA_LIKE, "AWS_REGION": "cn-north-1"}, "direct"),
        ({**LAMBDA_LIKE, "AWS_REGION": "us-gov-west-1"}, "direct"),
        ({**LAMBDA_LIKE, CLIENT_VARIABLE: " Direct "}, "direct"),
        ({**LAMBDA_LIKE, CLIENT_VARIABLE: "boto3"}, "boto3"),
        ({"AWS_REGION": "eu-west-1", "AWS_PROFILE": "dev"}, "boto3"),
        ({**LAMBDA_LIKE, "AWS_SECRET_ACCESS_KEY": " "}, "boto3"),
        ({**LAMBDA_LIKE, "AWS_REGION": "us-iso-east-1"}, "boto3"),
        ({**LAMBDA_LIKE, "AWS_USE_FIPS_ENDPOINT": "true"}, "boto3"),
        ({**LAMBDA_LIKE, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"}, "boto3"),
        ({**LAMBDA_LIKE, "HTTPS_PROXY": "http://proxy:3128"}, "boto3"),
        ({**LAMBDA_LIKE, "AWS_CA_BUNDLE": "/etc/ssl/corp.pem"}, "direct"),
    ],
    ids=[
        "lambda",
        "no-session-token",
        "china",
        "govcloud",
        "forced-direct",
        "forced-boto3",
        "profile",
        "blank-secret",
        "iso-partition",
        "fips",
        "endpoint-for-boto3",
        "proxy",
        "ca-bundle",
    ],
)
def test_the_direct_client_is_chosen_only_where_it_does_what_boto3_would(environ, chosen):
    assert choose_client(environ, environ["AWS_REGION"], None) == chosen


def test_a_custom_endpoint_makes_any_region_usable_by_the_direct_client():
    environ = {**LAMBDA_LIKE, "AWS_REGION": "us-iso-east-1"}
    assert choose_client(environ, "us-iso-east-1", "http://127.0.0.1:8000") == "direct"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {**LAMBDA_LIKE, CLIENT_VARIABLE: "fast"},
            f"{CLIENT_VARIABLE}: 'fast' is not one of auto, direct, boto3",
        ),
        (
            {"AWS_REGION": "eu-west-1", CLIENT_VARIABLE: "direct"},
            f"{CLIENT_VARIABLE}=direct needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            {**LAMBDA_LIKE, "AWS_REGION": "us-iso-east-1", CLIENT_VARIABLE: "direct"},
            "does not know DynamoDB's endpoint in region 'us-iso-east-1'",
        ),
    ],
    ids=["unknown-client", "direct-without-credentials", "direct-in-unknown-partition"],
)
def test_a_client_choice_that_cannot_work_is_refused_clearly(environ, message):
    with pytest.raises(StoreURLError, match=message):
        open_dynamodb_store("users", environ)


def test_the_direct_client_talks_to_the_regional_https_endpoint():
    store = open_dynamodb_store("users", LAMBDA_LIKE)
    assert isinstance(store, DirectDynamoDbAdapter)
    assert store.client.url == "https://dynamodb.eu-west-1.amazonaws.com/"
    assert store.where == "region eu-west-1"


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
