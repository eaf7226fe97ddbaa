"""The SQLite store's memory of records against a model, over any order of events: two
servers' adapters on one file, each with its own memory, and a third writer that is neither."""

from __future__ import annotations

import sqlite3
import tempfile

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from skill.stores.sqlite import SQLiteAdapter
from tests.hardening.scale import fuzz_settings
from tests.support import store_record, stored_record, user_envelope
from tests.test_record_cache import USERS, write_elsewhere


class StoreAgainstAModel(RuleBasedStateMachine):
    """Two adapters on one file (two servers, each with its own memory), and a third writer
    that is neither; any order of saves, deletes, foreign writes and checkpoints, and every read
    from either adapter gives what the database holds."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.path = f"{self.directory.name}/coach.sqlite3"
        self.stores = [SQLiteAdapter(self.path), SQLiteAdapter(self.path)]
        self.model: dict[str, dict] = {}
        self.counter = 0

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        self.directory.cleanup()

    def _next(self) -> dict:
        self.counter += 1
        return {"n": self.counter}

    @rule(which=st.integers(0, 1), user=st.sampled_from(USERS))
    def save(self, which: int, user: str) -> None:
        record = self._next()
        store_record(self.stores[which], record, user)
        self.model[user] = record

    @rule(which=st.integers(0, 1), user=st.sampled_from(USERS))
    def delete(self, which: int, user: str) -> None:
        self.stores[which].delete_attributes(user_envelope(user))
        self.model.pop(user, None)

    @rule(user=st.sampled_from(USERS))
    def write_elsewhere(self, user: str) -> None:
        record = self._next()
        write_elsewhere(self.path, user, f'{{"n":{record["n"]}}}')
        self.model[user] = record

    @rule(mode=st.sampled_from(["PASSIVE", "RESTART", "TRUNCATE"]))
    def checkpoint(self, mode: str) -> None:
        with sqlite3.connect(self.path) as other:
            other.execute(f"PRAGMA wal_checkpoint({mode})")
        other.close()

    @rule(which=st.integers(0, 1), user=st.sampled_from(USERS))
    def read(self, which: int, user: str) -> None:
        assert stored_record(self.stores[which], user) == self.model.get(user, {})

    @invariant()
    def every_read_is_right(self) -> None:
        for store in self.stores:
            for user in USERS:
                assert stored_record(store, user) == self.model.get(user, {})


StoreAgainstAModel.TestCase.settings = settings(
    fuzz_settings(quick=40, stress=500), stateful_step_count=25
)
TestStoreAgainstAModel = StoreAgainstAModel.TestCase
