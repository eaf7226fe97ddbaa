"""The embedded SQLite store: round trips, WAL, threads, two processes, failures, and the skill
on top of it across a restart."""

from __future__ import annotations

import datetime as dt
import functools
import json
import multiprocessing
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import pytest
from ask_sdk_core.exceptions import PersistenceException

from skill.builder import build_skill
from skill.state import state_from_record
from skill.stores import open_store
from skill.stores.sqlite import PAGE_CACHE_KIB, SQLiteAdapter, _after_fork_in_child
from tests.support import Conversation, store_record, stored_record, user_envelope


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "nested" / "folder" / "coach.sqlite3"


@pytest.fixture
def adapter(db_path):
    store = SQLiteAdapter(db_path)
    yield store
    store.close()


def test_records_round_trip_per_user_and_can_be_deleted(adapter):
    assert stored_record(adapter, "amzn1.ask.account.A") == {}
    store_record(
        adapter, {"pace": "slower", "completions": {"m": ["2026-11-17"]}}, "amzn1.ask.account.A"
    )
    store_record(adapter, {"pace": "faster"}, "amzn1.ask.account.B")
    store_record(adapter, {"pace": "slowest"}, "amzn1.ask.account.A")
    assert stored_record(adapter, "amzn1.ask.account.A") == {"pace": "slowest"}
    assert stored_record(adapter, "amzn1.ask.account.B") == {"pace": "faster"}
    adapter.delete_attributes(user_envelope("amzn1.ask.account.A"))
    assert stored_record(adapter, "amzn1.ask.account.A") == {}
    assert stored_record(adapter, "amzn1.ask.account.B") == {"pace": "faster"}


def test_records_are_stored_as_compact_json_with_sorted_keys(adapter, db_path):
    attributes = {"pace": "slower", "completions": {"m": ["2026-11-17"]}, "é": 1.5}
    store_record(adapter, attributes, "amzn1.ask.account.A")
    with sqlite3.connect(db_path) as raw:
        text, saved_at = raw.execute(
            "SELECT record, updated_at FROM user_state WHERE user_key = ?",
            ("amzn1.ask.account.A",),
        ).fetchone()
    raw.close()
    assert text == json.dumps(attributes, separators=(",", ":"), sort_keys=True)
    assert text == '{"completions":{"m":["2026-11-17"]},"pace":"slower","\\u00e9":1.5}'
    assert dt.datetime.fromisoformat(saved_at).utcoffset() == dt.timedelta(0)


def test_a_failed_delete_is_reported_and_the_record_kept(db_path):
    store = SQLiteAdapter(db_path, busy_timeout=0.1)
    store_record(store, {"pace": "slower"})
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(PersistenceException, match=r"could not delete from .*locked"):
            store.delete_attributes(user_envelope())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stored_record(store) == {"pace": "slower"}
    store.delete_attributes(user_envelope())
    assert stored_record(store) == {}
    store.close()


def test_it_creates_the_folder_uses_wal_and_survives_reopening(db_path):
    first = SQLiteAdapter(db_path)
    store_record(first, {"pace": "slower"})
    first.close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    second = SQLiteAdapter(db_path)
    assert stored_record(second) == {"pace": "slower"}
    second.close()


def test_open_store_builds_it_from_a_url(tmp_path):
    store = open_store(f"sqlite:///{tmp_path}/by-url.sqlite3")
    assert isinstance(store, SQLiteAdapter)
    store_record(store, {"pace": "faster"})
    assert stored_record(store) == {"pace": "faster"}
    store.close()


def test_many_threads_saving_at_once_lose_nothing(adapter):
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            for turn in range(20):
                store_record(adapter, {"turn": turn, "thread": thread}, f"user-{thread}")
                store_record(adapter, {"turn": turn, "thread": thread}, "shared-user")
                assert stored_record(adapter, f"user-{thread}") == {"turn": turn, "thread": thread}
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for n in range(8):
        assert stored_record(adapter, f"user-{n}") == {"turn": 19, "thread": n}
    shared = stored_record(adapter, "shared-user")
    assert shared["turn"] == 19 and shared["thread"] in range(8)  # whole, never torn


def test_each_threads_connection_keeps_a_small_page_cache(adapter):
    """One connection per server thread: each caches at most PAGE_CACHE_KIB of pages (SQLite's
    default, 2,000 KiB each, grows with the file) and maps none of it into memory."""

    def work(thread: int) -> None:
        store_record(adapter, {"thread": thread}, f"user-{thread}")
        adapter.check_reachable(user_envelope(f"user-{thread}"))  # a read from the file

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connections = adapter._connections
    # The one opened at start-up, one per thread for reads, and the one all saves go through.
    assert len(connections) == 6
    for connection in connections:
        assert connection.execute("PRAGMA cache_size").fetchone()[0] == -PAGE_CACHE_KIB
        assert connection.execute("PRAGMA mmap_size").fetchone()[0] == 0
    assert PAGE_CACHE_KIB < 2000


def _save_from_another_process(path: str, worker: int, count: int) -> int:
    store = SQLiteAdapter(path)
    try:
        for turn in range(count):
            store_record(store, {"worker": worker, "turn": turn}, f"user-{worker}-{turn}")
            store_record(store, {"worker": worker, "turn": turn}, "shared-user")
    finally:
        store.close()
    return count


def test_two_processes_saving_at_once_lose_nothing(db_path, adapter):
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        done = list(pool.map(_save_from_another_process, [str(db_path)] * 2, [0, 1], [40, 40]))
    assert done == [40, 40]
    for worker in (0, 1):
        for turn in range(40):
            assert stored_record(adapter, f"user-{worker}-{turn}") == {
                "worker": worker,
                "turn": turn,
            }
    assert stored_record(adapter, "shared-user")["turn"] == 39


def test_a_locked_database_raises_a_clear_error_and_keeps_what_was_stored(db_path):
    store = SQLiteAdapter(db_path, busy_timeout=0.1)
    store_record(store, {"pace": "slower"})
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing and doesn't let go
    try:
        with pytest.raises(PersistenceException, match=r"locked.*another process"):
            store_record(store, {"pace": "faster"})
        assert stored_record(store) == {"pace": "slower"}  # readers carry on under WAL
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    store_record(store, {"pace": "faster"})  # and the adapter is usable again
    assert stored_record(store) == {"pace": "faster"}
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
            ("amzn1.ask.account.TESTUSER", '{"pace":"slower"}', "2026-11-17T00:00:00+00:00"),
        )
    raw.close()


def test_a_store_from_before_the_revision_column_is_brought_up_to_date(db_path):
    db_path.parent.mkdir(parents=True)
    make_old_store(db_path)
    store = SQLiteAdapter(db_path)
    second = SQLiteAdapter(db_path)  # another server on the same file: nothing to add again
    try:
        assert stored_record(store) == {"pace": "slower"}
        store_record(store, {"pace": "faster"})
        store_record(second, {"pace": "faster"})
        with sqlite3.connect(db_path) as raw:
            row = raw.execute("SELECT record, revision FROM user_state").fetchone()
        raw.close()
        assert row == ('{"pace":"faster"}', 2)
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
            stored_record(store)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert stored_record(store) == {"pace": "slower"}
    store_record(store, {"pace": "faster"})
    assert stored_record(store) == {"pace": "faster"}
    store.close()


def test_attributes_that_are_not_json_are_refused_clearly(adapter):
    with pytest.raises(PersistenceException, match="JSON"):
        store_record(adapter, {"when": object()})


def test_a_damaged_record_reads_as_a_fresh_start(adapter, db_path, caplog):
    raw = sqlite3.connect(db_path)
    with raw:
        raw.execute(
            "INSERT INTO user_state (user_key, record, updated_at) VALUES (?, ?, ?)",
            ("amzn1.ask.account.TESTUSER", "{not json", "2026-11-17T00:00:00+00:00"),
        )
    raw.close()
    assert stored_record(adapter) == {}
    assert "not a JSON object" in caplog.text


# ---- the skill on top of it ------------------------------------------------------------------


def test_progress_survives_a_restart_of_the_server(db_path, catalog, settings, morning):
    store = SQLiteAdapter(db_path)
    talk = Conversation(skill=build_skill(catalog, store, settings), now=morning)
    talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
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
    talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    saved = stored_record(store)

    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        reply = talk.intent("AMAZON.NextIntent")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "couldn't reach your saved progress" in reply.text
    assert stored_record(store) == saved
    assert state_from_record(saved).progress.segment == 0
    store.close()


# ---- group commit ------------------------------------------------------------------------------

# A safety net so a thread that never finishes fails the test instead of hanging it.
WAIT_LIMIT_SECONDS = 30


def _until(condition) -> None:
    deadline = time.monotonic() + WAIT_LIMIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _in_thread(target, *args) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)  # a stuck one must not hold up the run
    thread.start()
    return thread, errors


def _read_from_the_file(db_path, user: str) -> dict:
    with sqlite3.connect(db_path) as raw:
        row = raw.execute("SELECT record FROM user_state WHERE user_key = ?", (user,)).fetchone()
    raw.close()
    return json.loads(row[0])


def _queued(adapter, count: int) -> bool:
    return len(adapter._saves) == count


def _hold_first_commit(adapter, monkeypatch) -> tuple[list, threading.Event]:
    """Make the first commit wait for ``gate``; ``commits`` lists each commit's records."""
    commits: list = []
    gate = threading.Event()
    write = adapter._write

    def held(action, statement, parameters, changes):
        commits.append(dict(changes) if changes is not None else None)
        if len(commits) == 1:
            gate.wait(WAIT_LIMIT_SECONDS)
        return write(action, statement, parameters, changes)

    monkeypatch.setattr(adapter, "_write", held)
    return commits, gate


def test_saves_that_arrive_during_a_commit_are_committed_together(adapter, db_path, monkeypatch):
    commits, gate = _hold_first_commit(adapter, monkeypatch)
    leader, leader_errors = _in_thread(store_record, adapter, {"n": 0}, "user-0")
    _until(lambda: len(commits) == 1)
    waiting = []
    for number, user in [(1, "user-1"), (2, "user-2"), (3, "user-1")]:  # user-1 twice
        waiting.append(_in_thread(store_record, adapter, {"n": number}, user))
        _until(functools.partial(_queued, adapter, number))  # queued in this order
    gate.set()
    for thread, errors in [(leader, leader_errors), *waiting]:
        thread.join(WAIT_LIMIT_SECONDS)
        assert not thread.is_alive() and errors == []
    # Two commits for five saves; in one commit the later save of a user wins.
    assert commits == [
        {"user-0": '{"n":0}'},
        {"user-1": '{"n":3}', "user-2": '{"n":2}'},
    ]
    for user, n in [("user-0", 0), ("user-1", 3), ("user-2", 2)]:
        assert _read_from_the_file(db_path, user) == {"n": n}
        assert stored_record(adapter, user) == {"n": n}
    assert not adapter._leading and adapter._saves == []


def test_each_save_is_on_disk_when_its_call_returns(adapter, db_path):
    def work(thread: int) -> None:
        for turn in range(15):
            store_record(adapter, {"thread": thread, "turn": turn}, f"user-{thread}")
            assert _read_from_the_file(db_path, f"user-{thread}") == {
                "thread": thread,
                "turn": turn,
            }

    threads = [_in_thread(work, number) for number in range(12)]
    for thread, errors in threads:
        thread.join(WAIT_LIMIT_SECONDS)
        assert not thread.is_alive() and errors == []


def test_a_failed_group_commit_tells_every_waiting_save_and_the_next_ones_go_through(db_path):
    store = SQLiteAdapter(db_path, busy_timeout=0.2)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        threads = [_in_thread(store_record, store, {"n": n}, f"user-{n}") for n in range(6)]
        for thread, _ in threads:
            thread.join(WAIT_LIMIT_SECONDS)
            assert not thread.is_alive()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    for _, errors in threads:
        assert len(errors) == 1 and isinstance(errors[0], PersistenceException)
        assert "locked" in str(errors[0])
    assert not store._leading and store._saves == []
    store_record(store, {"n": 9}, "user-0")
    assert _read_from_the_file(db_path, "user-0") == {"n": 9}
    store.close()


def test_an_interrupted_commit_leaves_no_save_waiting(adapter, db_path, monkeypatch):
    commits, gate = _hold_first_commit(adapter, monkeypatch)
    write = adapter._write

    def interrupted(action, statement, parameters, changes):
        write(action, statement, parameters, changes)  # the first is held at the gate
        if len(commits) == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(adapter, "_write", interrupted)
    leader, leader_errors = _in_thread(store_record, adapter, {"n": 0}, "user-0")
    _until(lambda: len(commits) == 1)
    follower, follower_errors = _in_thread(store_record, adapter, {"n": 1}, "user-1")
    _until(lambda: len(adapter._saves) == 1)
    gate.set()
    leader.join(WAIT_LIMIT_SECONDS)
    follower.join(WAIT_LIMIT_SECONDS)
    assert [type(error) for error in leader_errors] == [KeyboardInterrupt]
    assert follower_errors == []  # led its own commit once the leader had handed over
    assert _read_from_the_file(db_path, "user-1") == {"n": 1}
    assert not adapter._leading and adapter._saves == []


def test_a_forked_child_starts_with_free_locks_and_no_queued_saves(adapter, db_path):
    """What os.register_at_fork runs in a child: the parent's other threads, which held the
    locks or led a commit when it forked, do not exist there."""
    for lock in (adapter._writer, adapter._connections_lock, adapter._saves_lock):
        lock.acquire()  # held by threads of the parent at the moment of the fork
    adapter._leading = True
    adapter._saves.append(object())
    _after_fork_in_child()
    thread, errors = _in_thread(store_record, adapter, {"from": "child"}, "child-user")
    thread.join(WAIT_LIMIT_SECONDS)
    assert not thread.is_alive() and errors == []
    assert _read_from_the_file(db_path, "child-user") == {"from": "child"}
    assert not adapter._leading and adapter._saves == []
