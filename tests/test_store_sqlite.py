"""The embedded SQLite store: round trips, WAL, threads, two processes, failures, saves that
never overwrite progress they did not read, and the skill on top of it across a restart."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import sqlite3
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from ask_sdk_core.exceptions import PersistenceException

from skill.builder import build_skill
from skill.state import state_from_record
from skill.stores import QUARANTINE_KEY, REVISION_KEY, open_store
from skill.stores.sqlite import MAX_RECORD_CHARS, SQLiteAdapter
from tests.support import Conversation, user_envelope

USER = "amzn1.ask.account.TESTUSER"
STORE_ERROR = "couldn't reach your saved progress"
MORNING = ("morning stretches", "morning_stretches")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "nested" / "folder" / "coach.sqlite3"


@pytest.fixture
def adapter(db_path):
    store = SQLiteAdapter(db_path)
    yield store
    store.close()


def record_of(store, user: str = USER) -> dict[str, Any]:
    """The user's record as a turn reads it, without the store's revision."""
    record = store.get_attributes(user_envelope(user))
    record.pop(REVISION_KEY, None)
    return record


def save(store, record: dict[str, Any], user: str = USER) -> None:
    """Read, then save ``record`` at the revision read: what a turn does."""
    read = store.get_attributes(user_envelope(user))
    store.save_attributes(user_envelope(user), {**record, REVISION_KEY: read.get(REVISION_KEY, 0)})


def raw_rows(db_path) -> dict[str, tuple[str, int]]:
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT user_key, record, revision FROM user_state").fetchall()
    raw.close()
    return {key: (record, revision) for key, record, revision in rows}


def test_records_round_trip_per_user_and_can_be_deleted(adapter):
    assert adapter.get_attributes(user_envelope("amzn1.ask.account.A")) == {}
    save(adapter, {"pace": "slower", "completions": {"m": ["2026-11-17"]}}, "amzn1.ask.account.A")
    save(adapter, {"pace": "faster"}, "amzn1.ask.account.B")
    save(adapter, {"pace": "slowest"}, "amzn1.ask.account.A")
    assert adapter.get_attributes(user_envelope("amzn1.ask.account.A")) == {
        "pace": "slowest",
        REVISION_KEY: 2,
    }
    assert record_of(adapter, "amzn1.ask.account.B") == {"pace": "faster"}
    adapter.delete_attributes(user_envelope("amzn1.ask.account.A"))
    assert adapter.get_attributes(user_envelope("amzn1.ask.account.A")) == {}
    assert record_of(adapter, "amzn1.ask.account.B") == {"pace": "faster"}


def test_records_are_stored_as_compact_json_with_sorted_keys(adapter, db_path):
    attributes = {"pace": "slower", "completions": {"m": ["2026-11-17"]}, "é": 1.5}
    save(adapter, attributes)
    with sqlite3.connect(db_path) as raw:
        text, saved_at = raw.execute(
            "SELECT record, updated_at FROM user_state WHERE user_key = ?", (USER,)
        ).fetchone()
    raw.close()
    assert text == '{"completions":{"m":["2026-11-17"]},"pace":"slower","\\u00e9":1.5}'
    assert dt.datetime.fromisoformat(saved_at).utcoffset() == dt.timedelta(0)


# ---- saves never overwrite progress they did not read ------------------------------------------


def test_a_save_from_a_stale_read_is_refused_and_the_newer_record_kept(adapter, db_path):
    save(adapter, {"pace": "slower"})
    kitchen = adapter.get_attributes(user_envelope())  # two devices read the same revision
    bedroom = adapter.get_attributes(user_envelope())
    adapter.save_attributes(user_envelope(), {**bedroom, "pace": "faster"})
    with pytest.raises(PersistenceException, match="changed on another device"):
        adapter.save_attributes(user_envelope(), {**kitchen, "pace": "slowest"})
    assert raw_rows(db_path)[USER] == ('{"pace":"faster"}', 2)


def test_a_save_that_read_no_record_cannot_replace_one_made_since(adapter):
    new_user = adapter.get_attributes(user_envelope())
    save(adapter, {"pace": "faster", "completions": {"m": ["2026-11-17"]}})
    with pytest.raises(PersistenceException, match="changed on another device"):
        adapter.save_attributes(user_envelope(), {**new_user, "pace": "slower"})
    with pytest.raises(PersistenceException, match="changed on another device"):
        adapter.save_attributes(user_envelope(), {"pace": "slower"})  # no revision: create only
    assert record_of(adapter) == {"pace": "faster", "completions": {"m": ["2026-11-17"]}}


class OtherDeviceSavesDuringTheTurn(SQLiteAdapter):
    """The real store; right after this turn's read, the user's other device saves a turn."""

    def get_attributes(self, request_envelope):
        read = super().get_attributes(request_envelope)
        other = SQLiteAdapter(self.path)
        save(other, {**record_of(other), "pace": "slower", "bedtime": "21:30"})
        other.close()
        return read


def test_a_turn_that_would_overwrite_another_devices_save_apologises_instead(
    db_path, catalog, settings, morning
):
    store = SQLiteAdapter(db_path)
    talk = Conversation(skill=build_skill(catalog, store, settings), now=morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    before = record_of(store)
    store.close()

    racing = OtherDeviceSavesDuringTheTurn(db_path)
    talk.skill = build_skill(catalog, racing, settings)  # the same session, going on
    reply = talk.intent("AMAZON.NextIntent")
    assert STORE_ERROR in reply.text
    after = record_of(racing)
    assert after == {**before, "pace": "slower", "bedtime": "21:30"}  # the other device's save
    racing.close()


def test_a_record_too_large_to_be_ours_is_refused_and_nothing_is_written(
    adapter, db_path, catalog, settings, morning
):
    huge = json.dumps({"pace": "slower", "padding": "x" * MAX_RECORD_CHARS})
    with sqlite3.connect(db_path) as raw:  # written by something else: this code refuses to
        raw.execute(
            "INSERT INTO user_state (user_key, record, updated_at, revision) VALUES (?, ?, ?, 3)",
            (USER, huge, "2026-11-17T00:00:00+00:00"),
        )
    raw.close()
    before = raw_rows(db_path)
    with pytest.raises(PersistenceException, match="larger than"):
        adapter.get_attributes(user_envelope())
    reply = Conversation(skill=build_skill(catalog, adapter, settings), now=morning).launch()
    assert STORE_ERROR in reply.text
    assert raw_rows(db_path) == before


def test_a_record_too_large_is_not_written_either(adapter):
    with pytest.raises(PersistenceException, match="refusing to store a record"):
        save(adapter, {"padding": "x" * (MAX_RECORD_CHARS + 1)})
    assert adapter.get_attributes(user_envelope()) == {}


# ---- files, threads and processes ---------------------------------------------------------------


def test_a_failed_delete_is_reported_and_the_record_kept(db_path):
    store = SQLiteAdapter(db_path, busy_timeout=0.1)
    save(store, {"pace": "slower"})
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(PersistenceException, match=r"could not delete from .*locked"):
            store.delete_attributes(user_envelope())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert record_of(store) == {"pace": "slower"}
    store.delete_attributes(user_envelope())
    assert record_of(store) == {}
    store.close()


def test_it_creates_the_folder_uses_wal_and_survives_reopening(db_path):
    first = SQLiteAdapter(db_path)
    save(first, {"pace": "slower"})
    first.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    second = SQLiteAdapter(db_path)
    assert record_of(second) == {"pace": "slower"}
    second.close()


def test_open_store_builds_it_from_a_url(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/by-url.sqlite3")
    assert isinstance(store, SQLiteAdapter)
    save(store, {"pace": "faster"})
    assert record_of(store) == {"pace": "faster"}
    store.close()


def _save_or_lose_the_race(store, record: dict[str, Any], user: str) -> bool:
    try:
        save(store, record, user)
    except PersistenceException as exc:
        assert "changed on another device" in str(exc)
        return False
    return True


def test_many_threads_saving_at_once_lose_nothing(adapter, db_path):
    errors: list[BaseException] = []
    shared_saves: list[dict[str, int]] = []

    def work(thread: int) -> None:
        try:
            for turn in range(20):
                save(adapter, {"turn": turn, "thread": thread}, f"user-{thread}")
                if _save_or_lose_the_race(adapter, {"turn": turn, "thread": thread}, "shared"):
                    shared_saves.append({"turn": turn, "thread": thread})
                assert record_of(adapter, f"user-{thread}") == {"turn": turn, "thread": thread}
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(8):
        assert record_of(adapter, f"user-{n}") == {"turn": 19, "thread": n}
    # Every save that was acknowledged counted once; the record is the last of them, whole.
    assert raw_rows(db_path)["shared"][1] == len(shared_saves)
    assert record_of(adapter, "shared") == shared_saves[-1]


def _save_from_another_process(path: str, worker: int, count: int) -> int:
    store = SQLiteAdapter(path)
    try:
        for turn in range(count):
            save(store, {"worker": worker, "turn": turn}, f"user-{worker}-{turn}")
            _save_or_lose_the_race(store, {"worker": worker, "turn": turn}, "shared")
    finally:
        store.close()
    return count


@pytest.mark.slow
def test_two_processes_saving_at_once_lose_nothing(db_path, adapter):
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        done = list(pool.map(_save_from_another_process, [str(db_path)] * 2, [0, 1], [40, 40]))
    assert done == [40, 40]
    for worker in (0, 1):
        for turn in range(40):
            assert record_of(adapter, f"user-{worker}-{turn}") == {"worker": worker, "turn": turn}
    assert set(record_of(adapter, "shared")) == {"worker", "turn"}


def test_a_forked_child_opens_its_own_connection(adapter, db_path):
    save(adapter, {"from": "parent"})
    if not hasattr(os, "fork"):
        pytest.skip("no fork here")
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            save(adapter, {"from": "child"}, "child-user")
            os.write(writer, json.dumps(record_of(adapter)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as pipe:
        seen_by_child = json.loads(pipe.read() or "null")
    os.waitpid(child, 0)
    assert seen_by_child == {"from": "parent"}
    assert record_of(adapter, "child-user") == {"from": "child"}
    save(adapter, {"from": "parent again"})  # the parent's connection still works
    assert record_of(adapter) == {"from": "parent again"}


def test_a_locked_database_raises_a_clear_error_and_keeps_what_was_stored(db_path):
    store = SQLiteAdapter(db_path, busy_timeout=0.1)
    save(store, {"pace": "slower"})
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing and doesn't let go
    try:
        with pytest.raises(PersistenceException, match=r"locked.*another process"):
            save(store, {"pace": "faster"})
        assert record_of(store) == {"pace": "slower"}  # readers carry on under WAL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    save(store, {"pace": "faster"})  # and the adapter is usable again
    assert record_of(store) == {"pace": "faster"}
    store.close()


def test_a_file_that_is_not_a_database_is_reported_at_startup(tmp_path):
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"this is not a database, just some words" * 200)
    with pytest.raises(PersistenceException, match=r"damaged.sqlite3.*not a (SQLite )?database"):
        SQLiteAdapter(path)


def test_a_path_under_a_file_cannot_be_created_and_says_so(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(PersistenceException, match="cannot create the folder"):
        SQLiteAdapter(blocker / "coach.sqlite3")


OLD_SCHEMA = """
CREATE TABLE user_state (user_key TEXT PRIMARY KEY, record TEXT NOT NULL, updated_at TEXT NOT NULL)
"""


def make_old_store(path) -> None:
    """A store as it was made before records counted their saves."""
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(OLD_SCHEMA)
        raw.execute(
            "INSERT INTO user_state VALUES (?, ?, ?)",
            (USER, '{"pace":"slower"}', "2026-11-17T00:00:00+00:00"),
        )
    raw.close()


def test_a_store_from_before_the_revision_column_is_brought_up_to_date(db_path):
    db_path.parent.mkdir(parents=True)
    make_old_store(db_path)
    store = SQLiteAdapter(db_path)
    second = SQLiteAdapter(db_path)  # another server on the same file: nothing to add again
    try:
        assert record_of(store) == {"pace": "slower"}
        save(store, {"pace": "faster"})
        save(second, {"pace": "fastest"})
        assert raw_rows(db_path)[USER] == ('{"pace":"fastest"}', 2)
    finally:
        store.close()
        second.close()


def test_an_old_store_that_cannot_be_written_yet_is_reported_and_taken_up_later(db_path):
    """Bringing the table up to date needs the write lock: while another process holds it,
    turns are refused clearly (as for any locked store), and the first one after it is freed
    brings the table up to date."""
    db_path.parent.mkdir(parents=True)
    make_old_store(db_path)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store = SQLiteAdapter(db_path, busy_timeout=0.1)  # starts, as for any locked store
        with pytest.raises(PersistenceException, match="locked"):
            record_of(store)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert record_of(store) == {"pace": "slower"}
    save(store, {"pace": "faster"})
    assert record_of(store) == {"pace": "faster"}
    store.close()


def test_attributes_that_are_not_json_are_refused_clearly(adapter):
    with pytest.raises(PersistenceException, match="JSON"):
        save(adapter, {"when": object()})


def test_a_damaged_record_is_kept_aside_not_replaced_and_the_user_is_told(
    adapter, db_path, caplog, catalog, settings, morning
):
    raw = sqlite3.connect(db_path)
    with raw:
        raw.execute(
            "INSERT INTO user_state (user_key, record, updated_at) VALUES (?, ?, ?)",
            (USER, "{not json", "2026-11-17T00:00:00+00:00"),
        )
    raw.close()
    reply = Conversation(skill=build_skill(catalog, adapter, settings), now=morning).launch()
    assert "couldn't reach your saved progress" in reply.text
    assert "not a JSON object" in caplog.text
    stored = record_of(adapter)
    assert stored[QUARANTINE_KEY]["record"] == "{not json"  # kept, beside a fresh start
    assert stored["disclaimer_heard"] is False


# ---- the skill on top of it ------------------------------------------------------------------


def test_progress_survives_a_restart_of_the_server(db_path, catalog, settings, morning):
    store = SQLiteAdapter(db_path)
    talk = Conversation(skill=build_skill(catalog, store, settings), now=morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.StopIntent")
    store.close()

    restarted = SQLiteAdapter(db_path)
    talk = Conversation(skill=build_skill(catalog, restarted, settings), now=talk.now)
    reply = talk.one_shot("ResumeRoutineIntent")
    assert reply.card["title"] == "Lunge and stretch"
    restarted.close()


def test_when_the_store_cannot_save_the_user_hears_so_and_nothing_is_lost(
    db_path, catalog, settings, morning
):
    store = SQLiteAdapter(db_path, busy_timeout=0.1)
    talk = Conversation(skill=build_skill(catalog, store, settings), now=morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    saved = record_of(store)

    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        reply = talk.intent("AMAZON.NextIntent")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert STORE_ERROR in reply.text
    assert record_of(store) == saved
    assert state_from_record(saved).progress.segment == 0
    store.close()
