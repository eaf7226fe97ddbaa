"""Your data, your household: what the coach keeps, erasing it by voice and on a disabled skill,
one record per recognised voice, and retention. Through the real skill, the real webhook (signed
requests from the test CA), the Lambda handler, and the ``rls-coach purge`` command, on SQLite
and on DynamoDB (moto on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from skill.builder import build_skill
from skill.settings import Settings, SettingsError
from skill.stores import open_store
from skill.stores.dynamodb import ENDPOINT_VARIABLE
from tests.conversation_scripts import load_script, report, script_paths
from tests.lambda_support import (
    FAKE_CREDENTIALS,
    REGION,
    LambdaContainer,
    create_users_table,
    dynamodb,
    lambda_environment,
    moto_dynamodb,
)
from tests.pki import CERT_URL, AlexaPKI, FakeS3, sign
from tests.support import (
    SKILL_ID,
    Reply,
    envelope,
    intent_request,
    invoke,
    iso,
    launch_request,
    user_envelope,
)
from tests.test_conversations import run_in_process, run_virtual_alexa
from tests.webhook_process import hermetic_env, rls_coach_command, running_webhook
from webhook.app import create_app

ACCOUNT = "amzn1.ask.account.HOUSEHOLD"
ALICE = "amzn1.ask.person.ALICE"
BOB = "amzn1.ask.person.BOB"
DISCLAIMER = "not medical advice"
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)  # 8:15 in New York
SCRIPTS = [path for path in script_paths() if path.stem.startswith("privacy_")]
STORES = ("sqlite", "dynamodb")


def test_the_issue_names_a_script_for_each_privacy_conversation():
    assert {p.stem for p in SCRIPTS} >= {
        "privacy_what_do_you_know",
        "privacy_delete_confirmed",
        "privacy_delete_declined",
        "privacy_erase_progress",
    }


# ---- stores --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint():
    with moto_dynamodb() as url:
        yield url


@pytest.fixture
def aws_env(monkeypatch, endpoint):
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)


@pytest.fixture
def make_store(request, tmp_path):
    """A fresh store of a kind: an SQLite file, or a DynamoDB table on the moto server."""

    def make(kind: str) -> Any:
        if kind == "sqlite":
            return open_store(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}")
        endpoint = request.getfixturevalue("endpoint")
        request.getfixturevalue("aws_env")
        return open_store(f"dynamodb://{create_users_table(endpoint)}")

    return make


# ---- the conversation scripts, on SQLite and on DynamoDB ----------------------------------------


@pytest.mark.parametrize("kind", STORES)
@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_privacy_script_in_process(path: Path, kind, make_store, catalog, settings, request):
    script = load_script(path)
    api = request.getfixturevalue("alexa_api") if script.alexa_api else None
    heard = run_in_process(script, catalog, settings, api, store=make_store(kind))
    failures = report(script, heard)
    if failures:
        pytest.fail(failures, pytrace=False)


@pytest.fixture(scope="module")
def dynamodb_webhook(tmp_path_factory, endpoint, alexa_api_tls):
    """The real webhook process, with its store in DynamoDB (the moto server)."""
    table = create_users_table(endpoint)
    env = {
        **FAKE_CREDENTIALS,
        "AWS_REGION": REGION,
        ENDPOINT_VARIABLE: endpoint,
        "REQUESTS_CA_BUNDLE": str(alexa_api_tls.ca),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    directory = tmp_path_factory.mktemp("dynamodb-webhook")
    with running_webhook(directory, env=env, store=f"dynamodb://{table}") as running:
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_privacy_script_through_virtual_alexa_on_dynamodb(path: Path, dynamodb_webhook, request):
    """(On SQLite: every script runs through the shared webhook in test_conversations.py.)"""
    script = load_script(path)
    api = request.getfixturevalue("alexa_api") if script.alexa_api else None
    failures = report(script, run_virtual_alexa(script, dynamodb_webhook.url, api))
    if failures:
        pytest.fail(failures, pytrace=False)


# ---- one record per person ---------------------------------------------------------------------


def said(
    skill: Any,
    name: str,
    *,
    person: str | None = None,
    user: str = ACCOUNT,
    slots: dict[str, Any] | None = None,
    moment: dt.datetime = NOW,
    after: Reply | None = None,
) -> Reply:
    """A one-shot intent (a new session) from the account, or from a recognised person on it;
    or, ``after`` a reply, the next turn of that reply's session."""
    request = launch_request(moment) if name == "launch" else intent_request(name, moment, slots)
    session = after.body.get("sessionAttributes") if after else None
    body = envelope(request, user_id=user, new_session=after is None, session_attributes=session)
    if person:
        body["context"]["System"]["person"] = {"personId": person}
    return Reply(invoke(skill, body))


def bedtime(value: str) -> dict[str, Any]:
    return {"bedtime": {"name": "bedtime", "value": value, "confirmationStatus": "NONE"}}


@pytest.mark.parametrize("kind", ("memory", *STORES))
def test_two_people_and_the_account_keep_three_separate_places(kind, make_store, catalog, settings):
    store = make_store(kind) if kind != "memory" else open_store("memory://")
    skill = build_skill(catalog, store, settings)
    said(skill, "launch")
    said(skill, "SetBedtimeIntent", slots=bedtime("21:30"))
    said(skill, "StartRoutineIntent")
    # Alice's first turn on an account with data: a first meeting, and nothing of the account's.
    first = said(skill, "PrivacySummaryIntent", person=ALICE)
    assert DISCLAIMER in first.text and "don't keep anything about you" in first.text
    said(skill, "SetBedtimeIntent", person=ALICE, slots=bedtime("22:00"))
    said(skill, "SetBedtimeIntent", person=BOB, slots=bedtime("23:00"))

    account = said(skill, "PrivacySummaryIntent")
    assert "your bedtime of 9:30 PM" in account.text
    assert "where you stopped in your morning stretches" in account.text
    assert "Kept for: this Alexa account." in account.card["text"]
    alice = said(skill, "PrivacySummaryIntent", person=ALICE)
    assert "kept for you alone" in alice.text and "your bedtime of 10 PM" in alice.text
    assert "where you stopped" not in alice.text
    assert "your voice profile" in alice.card["text"]
    assert "your bedtime of 11 PM" in said(skill, "PrivacySummaryIntent", person=BOB).text

    # Alice forgets herself: only her record goes.
    asked = said(skill, "DeleteMyDataIntent", person=ALICE)
    assert "your bedtime of 10 PM" in asked.text
    assert "like the first time" in said(skill, "AMAZON.YesIntent", person=ALICE, after=asked).text
    assert "don't keep anything" in said(skill, "PrivacySummaryIntent", person=ALICE).text
    assert "your bedtime of 11 PM" in said(skill, "PrivacySummaryIntent", person=BOB).text
    assert "your bedtime of 9:30 PM" in said(skill, "PrivacySummaryIntent").text

    # The skill disabled on the account: Bob's record goes with the account's.
    invoke(skill, skill_event(*DISABLED))
    assert "don't keep anything" in said(skill, "PrivacySummaryIntent", person=BOB).text
    assert "don't keep anything" in said(skill, "PrivacySummaryIntent").text


# ---- erasing when reminders cannot be reached --------------------------------------------------


def test_reminders_out_of_reach_are_named_and_the_rest_is_erased(catalog, settings, store):
    skill = build_skill(catalog, store, settings)
    said(skill, "launch")
    store.save_attributes(
        user_envelope(ACCOUNT),
        {**store.get_attributes(user_envelope(ACCOUNT)), "reminder_tokens": ["t-1", "t-2"]},
    )
    asked = said(skill, "DeleteMyDataIntent")
    assert "two reminders" in asked.text
    done = said(skill, "AMAZON.YesIntent", after=asked)  # no API token: Reminders out of reach
    assert "couldn't reach Alexa's reminders" in done.text and "two reminders" in done.text
    assert "Alexa app" in done.text and done.ends_session
    assert DISCLAIMER in said(skill, "launch").text  # a first meeting again


# ---- skill events ------------------------------------------------------------------------------


def skill_event(kind: str, body: Any = None, user: str = ACCOUNT, moment=NOW) -> dict[str, Any]:
    """A skill event envelope as Alexa sends it: no session; the user is in context.System."""
    return {
        "version": "1.0",
        "context": {
            "System": {
                "application": {"applicationId": SKILL_ID},
                "user": {"userId": user},
                "apiEndpoint": "https://api.amazonalexa.com",
            }
        },
        "request": {
            "type": f"AlexaSkillEvent.{kind}",
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": iso(moment),
            "eventCreationTime": iso(moment),
            "eventPublishingTime": iso(moment),
            "body": body if body is not None else {},
        },
    }


DISABLED = ("SkillDisabled", {"userInformation": {"consentLevel": "ACCOUNT"}})
ACCEPTED = ("SkillPermissionAccepted", {"acceptedPermissions": [{"scope": REMINDERS_SCOPE}]})
REVOKED = ("SkillPermissionChanged", {"acceptedPermissions": []})


def household(skill: Any) -> None:
    """The account and one person on it, each with a bedtime."""
    said(skill, "SetBedtimeIntent", slots=bedtime("21:30"))
    said(skill, "SetBedtimeIntent", person=ALICE, slots=bedtime("22:00"))


def assert_erased(skill: Any) -> None:
    assert DISCLAIMER in said(skill, "launch").text
    assert DISCLAIMER in said(skill, "launch", person=ALICE).text


@pytest.fixture(scope="module")
def pki() -> AlexaPKI:
    return AlexaPKI.build(NOW)


@pytest.fixture
def signed_webhook(pki, catalog, tmp_path):
    """The webhook app verifying as in production (the test CA), on an SQLite store."""
    settings = Settings(
        skill_id=SKILL_ID,
        store_url=f"sqlite:///{tmp_path / 'users.sqlite3'}",
        default_timezone="America/New_York",
    )
    skill = build_skill(catalog, None, settings)
    app = create_app(
        {
            "SETTINGS": settings,
            "SKILL": skill,
            "CATALOG": catalog,
            "TRUST_ROOTS": [pki.root.certificate],
            "FETCH_CHAIN": FakeS3(dict(pki.chains)),
            "CLOCK": lambda: NOW,
        }
    )
    client = app.test_client()

    def post(body: dict[str, Any], *, signed: bool = True) -> Any:
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "SignatureCertChainUrl": CERT_URL}
        if signed:
            headers["Signature-256"] = sign(pki.leaf_key, raw)
        return client.post("/alexa", data=raw, headers=headers)

    return skill, post


def test_a_signed_skill_disabled_event_erases_the_whole_household(signed_webhook):
    skill, post = signed_webhook
    household(skill)
    unsigned = post(skill_event(*DISABLED), signed=False)
    assert unsigned.status_code == 400  # verified like any request
    assert "signature" in unsigned.get_json()["error"].lower()
    assert "your bedtime of 9:30 PM" in said(skill, "PrivacySummaryIntent").text
    answered = post(skill_event(*DISABLED))
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert "outputSpeech" not in answered.get_json()["response"]
    assert_erased(skill)


@pytest.mark.parametrize(
    ("event", "line"),
    [(ACCEPTED, "as Alexa last told me: allowed"), (REVOKED, "as Alexa last told me: turned off")],
    ids=["accepted", "changed"],
)
def test_a_signed_permission_event_updates_what_the_coach_believes(signed_webhook, event, line):
    skill, post = signed_webhook
    said(skill, "launch")
    answered = post(skill_event(*event))
    assert answered.status_code == 200, answered.get_data(as_text=True)
    assert line in said(skill, "PrivacySummaryIntent").card["text"]


@pytest.fixture
def lambda_env(endpoint) -> tuple[dict[str, str], str]:
    table = create_users_table(endpoint)
    return lambda_environment(endpoint, table), table


@pytest.mark.slow
def test_skill_events_through_the_lambda_handler(lambda_env, endpoint):
    env, table = lambda_env
    with LambdaContainer(env) as container:
        household(container)
        for event in (ACCEPTED, REVOKED):
            answer = container.handle(skill_event(*event))
            assert answer["version"] == "1.0" and "outputSpeech" not in answer["response"]
        card = said(container, "PrivacySummaryIntent").card["text"]
        assert "as Alexa last told me: turned off" in card
        items = dynamodb(endpoint).Table(table).scan()["Items"]
        assert {item["id"] for item in items} == {ACCOUNT, f"{ACCOUNT}#person#{ALICE}"}
        answer = container.handle(skill_event(*DISABLED))
        assert "outputSpeech" not in answer["response"]
        assert dynamodb(endpoint).Table(table).scan()["Items"] == []
        assert_erased(container)


# ---- retention -----------------------------------------------------------------------------------


def test_every_dynamodb_save_carries_its_expiry(aws_env, endpoint, monkeypatch, catalog, settings):
    table = create_users_table(endpoint)
    for days in (None, "30"):
        if days:
            monkeypatch.setenv("RLS_COACH_RETENTION_DAYS", days)
        skill = build_skill(catalog, open_store(f"dynamodb://{table}"), settings)
        user = f"amzn1.ask.account.{uuid.uuid4().hex}"
        said(skill, "launch", user=user)
        item = dynamodb(endpoint).Table(table).get_item(Key={"id": user})["Item"]
        expected = time.time() + int(days or 400) * 86400
        assert abs(int(item["expires_at"]) - expected) < 120


def test_a_bad_retention_setting_is_a_clear_error():
    with pytest.raises(SettingsError, match="RLS_COACH_RETENTION_DAYS: expected a whole number"):
        Settings.from_env({"RLS_COACH_RETENTION_DAYS": "forever"})
    with pytest.raises(SettingsError, match="between 1 and 3650"):
        Settings.from_env({"RLS_COACH_RETENTION_DAYS": "0"})


def purge_command(store: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*rls_coach_command(), "purge", "--store", store, *args],
        capture_output=True,
        text=True,
        env=hermetic_env(**env),
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_purge_erases_only_records_untouched_for_the_retention_period(tmp_path, catalog, settings):
    path = tmp_path / "users.sqlite3"
    url = f"sqlite:///{path}"
    skill = build_skill(catalog, open_store(url), settings)
    for user in ("OLD-1", "OLD-2", "RECENT"):
        said(skill, "SetBedtimeIntent", user=f"amzn1.ask.account.{user}", slots=bedtime("21:30"))
    with sqlite3.connect(path) as db:  # two users last seen long ago
        old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=401)).isoformat(timespec="seconds")
        db.execute("UPDATE user_state SET updated_at = ? WHERE user_key LIKE '%OLD%'", (old,))

    dry = purge_command(url, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "2 record(s)" in dry.stdout and "would be erased" in dry.stdout
    assert "Nothing was erased" in dry.stdout
    shorter = purge_command(url, "--dry-run", RLS_COACH_RETENTION_DAYS="1000")
    assert "0 record(s)" in shorter.stdout

    done = purge_command(url)
    assert done.returncode == 0 and "erased 2 record(s)" in done.stdout
    assert DISCLAIMER in said(skill, "launch", user="amzn1.ask.account.OLD-1").text
    recent = said(skill, "PrivacySummaryIntent", user="amzn1.ask.account.RECENT")
    assert "your bedtime of 9:30 PM" in recent.text
    assert "0 record(s)" in purge_command(url, "--dry-run").stdout


@pytest.mark.slow
def test_purge_explains_bad_settings_and_stores_that_expire_by_themselves(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    bad = purge_command(url, RLS_COACH_RETENTION_DAYS="soon")
    assert bad.returncode == 2 and "RLS_COACH_RETENTION_DAYS" in bad.stderr
    assert "Traceback" not in bad.stderr
    missing = purge_command(url, "--dry-run")
    assert missing.returncode == 1 and "no store at" in missing.stderr
    assert not (tmp_path / "users.sqlite3").exists()  # nothing was created
    memory = purge_command("memory://", "--dry-run")
    assert memory.returncode == 0 and "nothing to purge" in memory.stdout
