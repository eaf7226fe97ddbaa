"""A user's record is never lost to a bad value or a race, on every store (memory, SQLite,
DynamoDB through moto's server):

- a record that fails to load is kept aside, never overwritten, and the user is told;
- a value from outside (a reminder token from Alexa's API) that would make the record unreadable
  is never saved;
- two devices of one household answering at once: a save that lost the race runs the turn again
  on the fresh record instead of apologising.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.builder import build_skill
from skill.stores import QUARANTINE_KEY, REVISION_KEY, MemoryAdapter, open_store
from skill.stores.dynamodb import ENDPOINT_VARIABLE
from skill.stores.sqlite import SQLiteAdapter
from tests.hardening.misbehaving_api import MisbehavingApi
from tests.lambda_support import FAKE_CREDENTIALS, REGION, create_users_table, moto_dynamodb
from tests.support import Conversation, store_record, stored_record

STORE_ERROR = "couldn't reach your saved progress"
MORNING = ("morning stretches", "morning_stretches")
LONG_TOKEN = "amzn1.alert." + "x" * 4992  # 5,004 characters
RECORD = {
    "version": 1,
    "progress": {"routine_id": "morning_stretches", "exercise_id": "calf_stretch", "step": 1},
    "pace": "slower",
    "bedtime": "22:30",
    "completions": {"morning_stretches": ["2026-11-16", "2026-11-15"]},
    "disclaimer_heard": True,
    "reminder_tokens": [LONG_TOKEN],
}


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    with moto_dynamodb() as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def make_store(request, tmp_path, monkeypatch) -> Any:
    """Opens the store under test (every call: the same records)."""
    if request.param == "memory":
        memory = MemoryAdapter()
        return lambda: memory
    if request.param == "sqlite":
        return lambda: SQLiteAdapter(tmp_path / "coach.sqlite3")
    endpoint = request.getfixturevalue("dynamodb_endpoint")
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
    table = create_users_table(endpoint)
    return lambda: open_store(f"dynamodb://{table}")


def without_bookkeeping(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in (REVISION_KEY, QUARANTINE_KEY)}


def test_a_record_that_fails_to_load_is_kept_aside_and_the_user_told(
    make_store, catalog, settings, morning, caplog
):
    store = make_store()
    store_record(store, RECORD)  # written before tokens were checked
    talk = Conversation(skill=build_skill(catalog, store, settings), now=morning)
    reply = talk.launch()
    assert STORE_ERROR in reply.text
    assert "cannot be read (reminder_tokens.0: Length must be between 1 and 200.)" in caplog.text
    stored = stored_record(store)
    assert stored[QUARANTINE_KEY]["record"] == RECORD  # progress, completions, disclaimer: all kept
    # Later turns start fresh and keep carrying what was kept aside.
    talk.intent("AMAZON.StopIntent")
    later = talk.launch()
    assert STORE_ERROR not in later.text
    assert stored_record(store)[QUARANTINE_KEY]["record"] == RECORD


def test_a_reminder_token_too_long_to_read_back_is_never_saved(
    make_store, catalog, settings, morning, alexa_api_tls, monkeypatch, caplog
):
    store = make_store()
    before = {key: value for key, value in RECORD.items() if key != "reminder_tokens"}
    store_record(store, before)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(alexa_api_tls.ca))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    skill = build_skill(catalog, store, settings.with_overrides(settings_api_timeout=0.5))
    with MisbehavingApi(alexa_api_tls, "long-token") as api:
        talk = Conversation(
            skill=skill,
            now=morning,
            device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
            api_endpoint=api.endpoint,
            api_access_token="token",
            consent_token="consent",
        )
        reply = talk.one_shot(
            "SetReminderIntent", request="to do my morning stretches every day at 8 in the morning"
        )
    assert STORE_ERROR in reply.text
    assert "not saving a record that could not be read back: reminder_tokens.0" in caplog.text
    assert without_bookkeeping(stored_record(store)) == before


class AnotherDeviceInBetween(AbstractPersistenceAdapter):
    """The store itself, except that just before this skill's first save, another device of the
    same user takes a whole turn through its own skill on the same store."""

    def __init__(self, store: AbstractPersistenceAdapter, other_turn: Any) -> None:
        self.store = store
        self.other_turn = other_turn
        self.saves = 0

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        return self.store.get_attributes(request_envelope)

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        self.saves += 1
        if self.saves == 1:
            other = threading.Thread(target=self.other_turn)
            other.start()
            other.join()
        self.store.save_attributes(request_envelope, attributes)

    def delete_attributes(self, request_envelope: Any) -> None:
        self.store.delete_attributes(request_envelope)


@pytest.mark.parametrize("make_store", ["sqlite", "dynamodb"], indirect=True)
def test_a_save_that_loses_a_race_runs_the_turn_again_on_the_fresh_record(
    make_store, catalog, settings, morning
):
    store = make_store()
    kitchen = Conversation(
        skill=build_skill(catalog, store, settings),
        now=morning,
        device_id="amzn1.ask.device.KITCHEN",
    )
    kitchen.launch()  # the disclaimer is heard and saved
    kitchen.intent("AMAZON.StopIntent")
    replies: list[str] = []

    def kitchen_starts_the_stretches() -> None:
        replies.append(kitchen.one_shot("StartRoutineIntent", routine=MORNING).text)

    racing = AnotherDeviceInBetween(store, kitchen_starts_the_stretches)
    bedroom = Conversation(
        skill=build_skill(catalog, racing, settings),
        now=morning,
        device_id="amzn1.ask.device.BEDROOM",
    )
    reply = bedroom.one_shot("SetBedtimeIntent", bedtime="22:30")
    assert STORE_ERROR not in reply.text and "10:30" in reply.text
    assert STORE_ERROR not in replies[0]
    stored = stored_record(store)
    assert stored["bedtime"] == "22:30"  # the bedroom's turn counted…
    assert stored["progress"]["routine_id"] == "morning_stretches"  # …and so did the kitchen's
    assert racing.saves == 2  # the lost save, then the one after running the turn again
