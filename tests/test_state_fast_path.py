"""The user-state fast path reads and writes exactly what the marshmallow schema would, and hands
everything it cannot vouch for to the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from skill.state import (
    STATE_VERSION,
    Progress,
    UserState,
    _fast_record,
    _fast_state,
    _schema_state,
    loaded_state,
    state_from_record,
)
from skill.state_schema import SCHEMA
from tests.hardening.scale import fuzz_settings

PROPERTY = fuzz_settings(quick=300, stress=5000)

ids = st.one_of(st.none(), st.sampled_from(["morning_stretches", "calf_stretch", ""]), st.text())
indexes = st.integers(min_value=0, max_value=100)
dates = st.dates().map(lambda day: day.isoformat())
bedtimes = st.times().map(lambda time: time.strftime("%H:%M"))

valid_progress = st.fixed_dictionaries(
    {},
    optional={
        "routine_id": ids,
        "exercise_id": ids,
        "step": indexes,
        "segment": indexes,
        "paused": st.booleans(),
        "updated_at": st.text(),
    },
)
valid_records = st.fixed_dictionaries(
    {},
    optional={
        "version": st.just(STATE_VERSION),
        "progress": st.one_of(st.none(), valid_progress),
        "pace": st.sampled_from(["slow", "normal", "fast"]) | st.text(),
        "bedtime": st.one_of(st.none(), bedtimes),
        "completions": st.dictionaries(st.text(), st.lists(dates, max_size=4), max_size=3),
        "disclaimer_heard": st.booleans(),
    },
)

# Values of every kind a damaged, older, newer or foreign record might hold.
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=200),
    st.floats(allow_nan=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=1),
    st.sampled_from(["1", "22:00", "22:00\n", "9:30", "2026-11-17", "٢٠٢٦-١١-١٧", "x"]),
    st.text(max_size=5),
    st.lists(st.sampled_from(["2026-11-17", "bad", 3]), max_size=3),
    st.dictionaries(st.sampled_from(["step", "paused", "extra"]), st.integers(0, 3), max_size=2),
    st.tuples(st.text(max_size=3)),
)
state_keys = st.sampled_from(
    ["version", "progress", "pace", "bedtime", "completions", "disclaimer_heard", "new_field"]
)
progress_keys = st.sampled_from(
    ["routine_id", "exercise_id", "step", "segment", "paused", "updated_at", "later_field"]
)


@st.composite
def damaged_records(draw: st.DrawFn) -> Any:
    """A valid record with some fields replaced by odd values or added."""
    record = draw(valid_records)
    for key in draw(st.lists(state_keys, max_size=3)):
        record[key] = draw(odd_values)
    if isinstance(record.get("progress"), dict) and draw(st.booleans()):
        for key in draw(st.lists(progress_keys, min_size=1, max_size=2)):
            record["progress"][key] = draw(odd_values)
    return record


@PROPERTY
@given(valid_records)
def test_the_fast_path_takes_every_current_record_and_reads_what_the_schema_reads(record):
    fast = _fast_state(record)
    assert fast is not None
    assert fast == _schema_state(record)


@PROPERTY
@given(st.one_of(damaged_records(), odd_values, st.lists(valid_records, max_size=1)))
@example({"version": 2})
@example({"version": True})
@example({"bedtime": "22:00\n"})
@example({"progress": {"step": Decimal(3)}})
@example({"progress": {"step": 101}})
@example({"completions": {"morning": ("2026-11-17",)}})
def test_what_the_fast_path_reads_the_schema_reads_the_same_and_the_rest_goes_to_it(record):
    fast = _fast_state(record)
    if fast is not None:
        assert fast == _schema_state(record)
    expected = _schema_state(record) if record else UserState()
    assert state_from_record(record) == expected


@PROPERTY
@given(st.one_of(valid_records, damaged_records(), odd_values, st.lists(valid_records, max_size=1)))
@example({})
@example({"version": 1})
@example({"version": 1, "progress": {"routine_id": "morning_stretches"}})
def test_a_loaded_state_comes_with_the_record_it_saves_as(record):
    state, saved_as = loaded_state(record)
    assert state == state_from_record(record)
    # Only compared (to decide whether to save), so equal is all it needs to be.
    assert saved_as == state.to_record()


def test_unusual_records_are_left_to_the_schema():
    for record in (
        {"version": 2, "pace": "slow"},  # newer version: the schema reads what it knows
        {"pace": "slow", "mood": "tired"},  # an unknown field
        {"progress": {"routine_id": "x", "step": Decimal(2)}},  # DynamoDB's numbers
        {"bedtime": "9:30"},  # not the stored format
    ):
        assert _fast_state(record) is None, record
    assert state_from_record({"version": 2, "pace": "slow"}).pace == "slow"


progress_values = st.builds(
    Progress,
    routine_id=ids,
    exercise_id=ids,
    step=indexes,
    segment=indexes,
    paused=st.booleans(),
    updated_at=st.text(),
)
states = st.builds(
    UserState,
    progress=st.one_of(st.none(), progress_values),
    pace=st.text(),
    bedtime=st.one_of(st.none(), bedtimes),
    completions=st.dictionaries(st.text(), st.lists(dates, max_size=4), max_size=3),
    disclaimer_heard=st.booleans(),
)


@PROPERTY
@given(states)
def test_records_are_written_as_the_schema_writes_them_and_read_back_unchanged(state):
    record = _fast_record(state)
    assert record == SCHEMA.dump(state)
    assert json.dumps(record) == json.dumps(SCHEMA.dump(state))  # same keys in the same order
    assert state.to_record() == record
    assert state_from_record(record) == state


def test_a_state_holding_an_odd_type_is_written_by_the_schema():
    state = UserState(progress=Progress("morning_stretches", step=Decimal(2)))  # type: ignore[arg-type]
    assert _fast_record(state) is None
    assert state.to_record() == SCHEMA.dump(state)
    assert state.to_record()["progress"]["step"] == 2


def test_a_current_record_is_read_and_written_without_importing_marshmallow():
    probe = (
        "import json, sys\n"
        "from skill.state import state_from_record\n"
        "record = {'version': 1, 'progress': {'routine_id': 'morning_stretches', 'step': 2},"
        " 'pace': 'slow', 'bedtime': '22:30', 'completions': {'morning_stretches':"
        " ['2026-11-16']}, 'disclaimer_heard': True}\n"
        "out = state_from_record(record).to_record()\n"
        "loaded = 'marshmallow' in sys.modules\n"
        "print(json.dumps([out['progress']['step'], out['bedtime'], loaded]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(completed.stdout) == [2, "22:30", False]
