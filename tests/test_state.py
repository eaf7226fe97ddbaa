"""Reading stored records: current, older, newer and damaged ones."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from skill.state import STATE_VERSION, Progress, UserState, state_from_record
from skill.stores import REVISION_KEY
from skill.stores.dynamodb import ENDPOINT_VARIABLE, open_dynamodb_store
from skill.stores.sqlite import SQLiteAdapter
from tests.lambda_support import FAKE_CREDENTIALS, REGION, create_users_table, moto_dynamodb
from tests.support import user_envelope


def test_a_state_is_stored_with_every_field_and_read_back_the_same():
    state = UserState(
        progress=Progress("morning_stretches", "calf_stretch", 2, 1, True, "2026-11-17T13:15:00"),
        pace="slower",
        bedtime="22:30",
        completions={"morning_stretches": ["2026-11-16", "2026-11-17"]},
        disclaimer_heard=True,
        reminder_tokens=["amzn1.alert.one"],
        reminder_offered=True,
        hurt_on="2026-11-17",
        left_out=["lunge_and_stretch"],
        reps={"bridge": 12},
        ready_mode=True,
        exercise_days=["2026-11-15"],
        reminder_consent="granted",
        sounds=False,
    )
    state.progress.skipped = ["standing_quad_stretch"]
    record = state.to_record()
    assert record == {
        "version": STATE_VERSION,
        "progress": {
            "routine_id": "morning_stretches",
            "exercise_id": "calf_stretch",
            "step": 2,
            "segment": 1,
            "paused": True,
            "updated_at": "2026-11-17T13:15:00",
            "from_rep": 0,
            "spoken_until": "",
            "skipped": ["standing_quad_stretch"],
            "later": [],
            "prepared": False,
        },
        "routine_place": None,
        "pace": "slower",
        "bedtime": "22:30",
        "completions": {"morning_stretches": ["2026-11-16", "2026-11-17"]},
        "disclaimer_heard": True,
        "reminder_tokens": ["amzn1.alert.one"],
        "reminder_offered": True,
        "reminder_asked": None,
        "hurt_on": "2026-11-17",
        "left_out": ["lunge_and_stretch"],
        "reps": {"bridge": 12},
        "ready_mode": True,
        "exercise_days": ["2026-11-15"],
        "reminder_consent": "granted",
        "sounds": False,
    }
    assert state_from_record(record) == state


def test_an_older_record_gets_defaults_for_what_it_lacks():
    state = state_from_record({"version": 1, "bedtime": "21:00"})
    assert state == UserState(bedtime="21:00")


def test_a_newer_record_is_read_for_what_is_known(caplog):
    record = {"version": 7, "pace": "faster", "mood": "fine", "progress": {"routine_id": None}}
    with caplog.at_level(logging.WARNING):
        state = state_from_record(record)
    assert state == UserState(pace="faster", progress=Progress(None))
    assert state.version == STATE_VERSION
    assert "newer version 7" in caplog.text


def test_the_stores_revision_and_decimal_numbers_are_read_as_plain_state():
    record = {"version": Decimal(1), "progress": {"routine_id": "m", "step": Decimal(3)}}
    state = state_from_record({**record, REVISION_KEY: 4})
    assert state.progress == Progress("m", step=3)
    assert REVISION_KEY not in state.to_record()


@pytest.mark.parametrize(
    "record",
    [
        ["not", "a", "mapping"],
        {"progress": {"step": 101}},
        {"progress": {"step": "three"}},
        {"bedtime": "22:00\n"},
        {"completions": {"m": ["17 November"]}},
        {"version": "one"},
    ],
    ids=["list", "step-out-of-range", "step-not-a-number", "bedtime", "date", "version"],
)
def test_a_damaged_record_gives_a_fresh_start_and_a_warning(record, caplog):
    with caplog.at_level(logging.WARNING):
        assert state_from_record(record) == UserState()
    assert "corrupt" in caplog.text


def test_a_bedtime_that_is_no_time_of_day_falls_back_to_the_default():
    assert state_from_record({"bedtime": "99:99"}).bedtime_time() is None
    assert state_from_record({"bedtime": "21:45"}).bedtime_time() == dt.time(21, 45)


RECORDS = Path(__file__).parent / "records"


def test_a_record_saved_by_the_first_version_still_loads_as_it_was_saved():
    """A record exactly as version 1 stored it (the store's own revision beside it)."""
    record = json.loads((RECORDS / "version1.json").read_text(encoding="utf-8"))
    state = state_from_record(record)
    assert state.progress == Progress(
        "morning_stretches",
        "lunge_and_stretch",
        step=1,
        segment=1,
        paused=True,
        updated_at="2026-11-17T13:15:00+00:00",
        spoken_until="2026-11-17T13:16:02+00:00",
    )
    assert state.pace == "slower"
    assert state.bedtime == "22:30"
    assert state.completions == {
        "gentle_strength": ["2026-11-16"],
        "morning_stretches": ["2026-11-10", "2026-11-12"],
    }
    assert state.disclaimer_heard and state.reminder_offered
    assert state.reminder_tokens == ["amzn1.alert.one"]
    assert state.version == STATE_VERSION
    # The choices version 2 added: none made yet.
    assert (state.left_out, state.reps, state.ready_mode, state.exercise_days) == (
        [],
        {},
        False,
        [],
    )
    assert state.progress.skipped == [] and not state.progress.prepared


def test_the_week_counts_days_with_any_finished_routine_or_guided_exercise():
    state = UserState()
    state.record_completion("gentle_strength", dt.date(2026, 11, 16))  # Monday
    state.record_exercise(dt.date(2026, 11, 15))  # the Sunday before
    state.record_completion("morning_stretches", dt.date(2026, 11, 17))  # Tuesday
    assert state.days_this_week(None, dt.date(2026, 11, 17)) == 2
    assert state.days_in_a_row(dt.date(2026, 11, 17)) == 3
    assert state.days_in_a_row(dt.date(2026, 11, 18)) == 3  # today not done yet


# ---- the choices, through both stores ---------------------------------------------------------


def _with_choices() -> UserState:
    state = UserState(
        progress=Progress("morning_stretches", "standing_quad_stretch", 1, prepared=True),
        pace="slowest",
        left_out=["lunge_and_stretch", "bridge"],
        reps={"inner_thigh_stretch": 7},
        ready_mode=True,
        exercise_days=["2026-11-16"],
    )
    state.progress.skipped = ["inner_thigh_stretch"]
    state.progress.later = ["inner_thigh_stretch"]
    return state


def test_the_choices_round_trip_through_sqlite(tmp_path):
    store = SQLiteAdapter(tmp_path / "coach.sqlite3")
    try:
        store.save_attributes(user_envelope(), _with_choices().to_record())
        assert state_from_record(store.get_attributes(user_envelope())) == _with_choices()
    finally:
        store.close()


def test_the_choices_round_trip_through_dynamodb(monkeypatch):
    with moto_dynamodb() as endpoint:
        for name, value in FAKE_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
        store = open_dynamodb_store(create_users_table(endpoint))
        store.save_attributes(user_envelope(), _with_choices().to_record())
        # Numbers come back from DynamoDB as Decimal: the schema reads them as plain ints.
        assert state_from_record(store.get_attributes(user_envelope())) == _with_choices()


def test_a_record_from_before_sound_cues_loads_with_sounds_on():
    state = state_from_record({"version": 1, "pace": "slower"})
    assert state.sounds is True
    assert state.pace == "slower"
