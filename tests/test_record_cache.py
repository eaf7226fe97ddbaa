"""The SQLite store's memory of records: a read is answered from memory only while the file's
WAL-index header shows nothing was committed but this process's own saves, and otherwise from
the file, whoever wrote (another connection, another process, a checkpoint that restarts the
WAL)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from skill.stores.sqlite import (
    _HEADER,
    _HEADER_COPY,
    _UNKNOWN,
    RECORD_CACHE_SIZE,
    SQLiteAdapter,
    _one_commit_on,
    _RecordCache,
)
from tests.support import store_record, stored_record, user_envelope

USERS = ("amzn1.ask.account.A", "amzn1.ask.account.B", "amzn1.ask.account.C")


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "coach.sqlite3"


@pytest.fixture
def adapter(db_path):
    store = SQLiteAdapter(db_path)
    yield store
    store.close()


def statements_run(store: SQLiteAdapter) -> list[str]:
    """The statements this thread's connection runs from now on."""
    seen: list[str] = []
    store._connection().set_trace_callback(seen.append)
    return seen


def write_elsewhere(db_path, user: str, record: str) -> None:
    """Another connection (as another process would) writes ``user``'s record."""
    with sqlite3.connect(db_path) as other:
        other.execute(
            "INSERT INTO user_state (user_key, record, updated_at) VALUES (?, ?, 'now') "
            "ON CONFLICT (user_key) DO UPDATE SET record = excluded.record",
            (user, record),
        )
    other.close()


def test_after_its_own_save_a_read_runs_no_statement(adapter):
    store_record(adapter, {"step": 1}, USERS[0])
    seen = statements_run(adapter)
    assert stored_record(adapter, USERS[0]) == {"step": 1}
    assert seen == []
    # A user never stored is read from the file once, then remembered as having no record.
    assert stored_record(adapter, USERS[1]) == {}
    assert len(seen) == 1
    assert stored_record(adapter, USERS[1]) == {}
    assert len(seen) == 1
    # Saving one user keeps what is remembered of the others.
    store_record(adapter, {"step": 2}, USERS[1])
    seen.clear()
    assert stored_record(adapter, USERS[0]) == {"step": 1}
    assert stored_record(adapter, USERS[1]) == {"step": 2}
    assert seen == []


def test_each_read_gets_its_own_copy(adapter):
    store_record(adapter, {"completions": {"m": ["2026-11-17"]}}, USERS[0])
    first = stored_record(adapter, USERS[0])
    first["completions"]["m"].append("2026-11-18")
    assert stored_record(adapter, USERS[0]) == {"completions": {"m": ["2026-11-17"]}}


def test_a_write_by_another_connection_is_read_at_once(adapter, db_path):
    store_record(adapter, {"step": 1}, USERS[0])
    store_record(adapter, {"step": 1}, USERS[1])
    write_elsewhere(db_path, USERS[0], '{"step":9}')
    seen = statements_run(adapter)
    assert stored_record(adapter, USERS[0]) == {"step": 9}
    assert stored_record(adapter, USERS[1]) == {"step": 1}
    assert len(seen) == 2  # both from the file: the header moved on without this process


def test_its_own_save_after_another_write_drops_what_that_write_may_have_changed(adapter, db_path):
    store_record(adapter, {"step": 1}, USERS[0])
    store_record(adapter, {"step": 1}, USERS[1])
    write_elsewhere(db_path, USERS[1], '{"step":9}')
    # This save is one commit on from the other connection's, not from this process's last:
    # B's remembered record may be stale and must not survive it.
    store_record(adapter, {"step": 2}, USERS[0])
    assert stored_record(adapter, USERS[1]) == {"step": 9}
    assert stored_record(adapter, USERS[0]) == {"step": 2}


def save_with(adapter, monkeypatch, record: dict, user: str, between) -> None:
    """Save ``record`` for ``user``, calling ``between()`` after its COMMIT and before the
    adapter notes the commit (where, under load, the saving thread waits for the GIL)."""
    committed = adapter._cache.committed

    def noted_later(changes, before):
        between()
        committed(changes, before)

    monkeypatch.setattr(adapter._cache, "committed", noted_later)
    store_record(adapter, record, user)
    monkeypatch.undo()


def read_both(adapter, into: dict) -> None:
    into.update({user: stored_record(adapter, user) for user in USERS[:2]})


def test_a_read_while_a_save_is_being_committed_is_answered_from_memory(adapter, monkeypatch):
    """Between a save's COMMIT and the moment it is noted, the header is one commit on; as the
    save held the write lock from the header the records are right for, that commit is it."""
    store_record(adapter, {"step": 1}, USERS[0])
    store_record(adapter, {"step": 1}, USERS[1])
    seen = statements_run(adapter)
    read: dict[str, dict] = {}
    save_with(adapter, monkeypatch, {"step": 2}, USERS[0], lambda: read_both(adapter, read))
    assert read == {USERS[0]: {"step": 2}, USERS[1]: {"step": 1}}
    assert seen == []


def test_a_commit_by_someone_else_during_that_moment_sends_reads_to_the_file(
    adapter, db_path, monkeypatch
):
    store_record(adapter, {"step": 1}, USERS[0])
    store_record(adapter, {"step": 1}, USERS[1])
    read: dict[str, dict] = {}

    def someone_else_commits_then_read() -> None:
        write_elsewhere(db_path, USERS[1], '{"step":9}')
        read_both(adapter, read)

    save_with(adapter, monkeypatch, {"step": 2}, USERS[0], someone_else_commits_then_read)
    assert read == {USERS[0]: {"step": 2}, USERS[1]: {"step": 9}}


def test_a_deleted_record_is_gone(adapter, db_path):
    store_record(adapter, {"step": 1}, USERS[0])
    adapter.delete_attributes(user_envelope(USERS[0]))
    assert stored_record(adapter, USERS[0]) == {}
    adapter.delete_attributes(user_envelope(USERS[0]))  # nothing to delete: nothing changes
    store_record(adapter, {"step": 3}, USERS[0])
    assert stored_record(adapter, USERS[0]) == {"step": 3}


@pytest.mark.parametrize("mode", ["PASSIVE", "RESTART", "TRUNCATE"])
def test_checkpoints_and_a_restarted_wal_are_followed(adapter, db_path, mode):
    store_record(adapter, {"step": 1}, USERS[0])
    with sqlite3.connect(db_path) as other:
        other.execute(f"PRAGMA wal_checkpoint({mode})")
    other.close()
    # A checkpoint changes what is in the WAL, not what the database holds.
    assert stored_record(adapter, USERS[0]) == {"step": 1}
    # The next commit starts the WAL afresh (new salt): not taken for "one commit on".
    store_record(adapter, {"step": 2}, USERS[0])
    write_elsewhere(db_path, USERS[0], '{"step":9}')
    assert stored_record(adapter, USERS[0]) == {"step": 9}


def test_a_health_check_reads_the_file_itself(adapter):
    store_record(adapter, {"step": 1}, USERS[0])
    seen = statements_run(adapter)
    adapter.check_reachable(user_envelope(USERS[0]))
    assert len(seen) == 1


def test_memory_is_bounded(adapter):
    store_record(adapter, {}, USERS[0])
    for number in range(RECORD_CACHE_SIZE + 10):
        adapter._cache.keep(f"user-{number}", "{}", adapter._cache.stamp())
    assert 0 < len(adapter._cache._records) <= RECORD_CACHE_SIZE


# SQLite's "dead man switch" lock on the -shm file (byte 128): held in shared mode by every
# process with a connection open, so that none resets the file while another uses it.
SHARED_MEMORY_IN_USE = """
import fcntl, os, sys
try:
    descriptor = os.open(sys.argv[1], os.O_RDWR)
except FileNotFoundError:  # the last connection to close removes it
    sys.exit(0)
try:
    fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
except OSError:
    sys.exit(3)
"""


def shared_memory_in_use(db_path) -> bool:
    """Whether another process would find SQLite's lock on the -shm file held by this one."""
    check = subprocess.run(
        [sys.executable, "-c", SHARED_MEMORY_IN_USE, f"{db_path}-shm"], check=False, timeout=60
    )
    assert check.returncode in (0, 3)
    return check.returncode == 3


def test_mapping_the_header_never_drops_sqlites_locks(db_path):
    """Closing any descriptor of a file drops all of a process's locks on it: the mapping's
    descriptors stay open until the last adapter on the file has closed its connections."""
    first = SQLiteAdapter(db_path)
    store_record(first, {"step": 1}, USERS[0])
    assert first._cache is not None
    assert shared_memory_in_use(db_path)
    second = SQLiteAdapter(db_path)
    assert second._shared is first._shared
    second.close()
    assert shared_memory_in_use(db_path)
    assert stored_record(first, USERS[0]) == {"step": 1}
    first.close()
    assert not shared_memory_in_use(db_path)


def _save_then_report(path: str, user: str, step: int) -> dict:
    store = SQLiteAdapter(path)
    try:
        before = stored_record(store, user)
        store_record(store, {"step": step}, user)
        return before
    finally:
        store.close()


def test_another_process_and_this_one_take_turns_on_the_same_user(adapter, db_path):
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        for step in range(0, 8, 2):
            store_record(adapter, {"step": step}, USERS[0])
            seen = pool.submit(_save_then_report, str(db_path), USERS[0], step + 1).result()
            assert seen == {"step": step}
            assert stored_record(adapter, USERS[0]) == {"step": step + 1}


# ---- the header --------------------------------------------------------------------------------


def header(changes: int, frames: int, salt: bytes = b"saltsalt", *, init: bool = True) -> bytes:
    copy = bytearray(_HEADER_COPY)
    _HEADER.pack_into(copy, 0, changes, init, frames, b"cksumcks", salt)
    return bytes(copy)


def test_a_real_commit_is_one_commit_on(adapter, db_path):
    """Read from a real -shm file: the commit counter, the frame count and the salt are where the
    WAL-index format puts them, and a commit moves the counter on by one."""
    cache = adapter._cache
    before = cache.stamp()
    write_elsewhere(db_path, USERS[0], "{}")
    after = cache.stamp()
    assert before is not None and after is not None
    changes_before, init, frames_before, _, salt_before = _HEADER.unpack(before)
    changes_after, _, frames_after, _, salt_after = _HEADER.unpack(after)
    assert init is True
    assert changes_after == changes_before + 1
    assert frames_after > frames_before
    assert salt_after == salt_before
    assert _one_commit_on(before, after)
    write_elsewhere(db_path, USERS[0], '{"n":1}')
    write_elsewhere(db_path, USERS[1], '{"n":2}')
    assert not _one_commit_on(after, cache.stamp())  # two commits


def test_every_save_commits_even_when_the_record_is_unchanged(adapter):
    """An upsert that changes no byte commits nothing; a save must always move the header on,
    or another process's commit right after it could pass for this one."""
    store_record(adapter, {"step": 1}, USERS[0])
    before = adapter._cache.stamp()
    store_record(adapter, {"step": 1}, USERS[0])
    after = adapter._cache.stamp()
    assert _one_commit_on(before, after)


def test_a_commit_by_someone_else_straight_after_a_save_is_not_taken_for_it(
    adapter, db_path, monkeypatch
):
    store_record(adapter, {"step": 1}, USERS[0])
    store_record(adapter, {"step": 1}, USERS[1])
    save_with(  # unchanged, and still its own commit
        adapter,
        monkeypatch,
        {"step": 1},
        USERS[0],
        lambda: write_elsewhere(db_path, USERS[1], '{"step":9}'),
    )
    assert stored_record(adapter, USERS[1]) == {"step": 9}
    assert stored_record(adapter, USERS[0]) == {"step": 1}


def test_one_commit_on_needs_the_next_count_the_same_salt_and_more_frames():
    assert _one_commit_on(header(5, 10), header(6, 12))
    assert not _one_commit_on(header(5, 10), header(5, 10))  # nothing committed
    assert _one_commit_on(header(0xFFFFFFFF, 10), header(0, 12))  # the counter wraps
    assert not _one_commit_on(header(5, 10), header(7, 14))
    assert not _one_commit_on(header(5, 10), header(6, 2, b"newsalt!"))
    assert not _one_commit_on(header(5, 10), header(6, 10))


class _Mapped(bytearray):
    """Stands in for the mapped -shm file."""

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("content", "readable"),
    [
        (header(3, 4) + header(3, 4), True),
        (header(3, 4) + header(4, 6), False),  # caught half-way through a commit
        (header(3, 4, init=False) * 2, False),  # not set up yet
        (bytes(2 * _HEADER_COPY), False),  # a -shm file just reset
    ],
)
def test_a_header_is_only_used_when_read_whole(content, readable):
    cache = _RecordCache(_Mapped(content))
    assert (cache.stamp() is not None) is readable
    cache.committed({"user": "{}"}, header(2, 3))  # a save, the header read whole before it
    # Held only against a whole header; otherwise the file is read.
    assert (cache.get("user", cache.stamp()) == "{}") is readable
    assert cache.get("user", None) is _UNKNOWN
