"""The embedded store: one SQLite file holding one JSON record per user.

WAL mode lets readers carry on while one writer writes. Saves are short transactions
(``BEGIN IMMEDIATE`` takes the write lock up front, so two writers queue on the busy timeout
rather than fail half-way), and the saves of threads that arrive while one commits share the
next one. Each thread reads through its own connection (sqlite3 connections must not be used by
two threads at once) and saves go through one, and a process that forks gets fresh ones. Every
failure — a read-only or locked file, a file that is not a database — becomes ask-sdk's
``PersistenceException`` with a message naming the file, so the skill apologises instead of
crashing and nothing already stored is lost.

Records this process has just read or written are kept in memory while the file's WAL-index
header shows that nothing has been committed since, except by this process's own saves. See
:class:`_RecordCache` for why and how.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import mmap
import os
import sqlite3
import struct
import threading
import weakref
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

from skill.stores.base import user_key

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another to finish before giving up
# Page cache per connection, in KiB. There is a connection per server thread, and SQLite's
# default (2,000 KiB each) grows with the file: 8 threads on a 20 MiB store held ~9 MiB more than
# with this, at no measurable cost per turn. A turn reads one record by its key, so what is worth
# keeping is the B-tree's upper pages (~200 KiB at 40,000 users); the OS caches the file itself.
# (Memory-mapped I/O stays off, as SQLite ships it.)
PAGE_CACHE_KIB = 512
# Records kept in memory per process (emptied when full), as JSON text of ~0.5 KiB each.
RECORD_CACHE_SIZE = 4096
_SCHEMA = """
CREATE TABLE IF NOT EXISTS user_state (
    user_key   TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision   INTEGER NOT NULL DEFAULT 0
)
"""
# Stores made before the column: added once, by whichever process opens the file first.
_ADD_REVISION = "ALTER TABLE user_state ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"
# ``revision`` counts a record's saves, so that every save changes the row and so commits: an
# upsert that changes no byte commits nothing, and _RecordCache could then take someone else's
# commit for this one. (INSERT OR REPLACE would also always commit, at twice the cost.)
_SAVE = """
INSERT INTO user_state (user_key, record, updated_at) VALUES {rows}
ON CONFLICT (user_key) DO UPDATE SET
    record = excluded.record, updated_at = excluded.updated_at, revision = revision + 1
"""
# Saves committed together at most (3 parameters each; SQLite allows 999 in one statement).
_MAX_BATCH = 256


@functools.lru_cache(maxsize=64)
def _save_statement(saves: int) -> str:
    return _SAVE.format(rows=", ".join(["(?, ?, ?)"] * saves))


_READ = "SELECT record FROM user_state WHERE user_key = ?"
_DELETE = "DELETE FROM user_state WHERE user_key = ?"
# Records are compact JSON with sorted keys, made by one encoder: json.dumps with these options
# builds a new encoder on every call (0.8 of a record's 4 µs).
_RECORD_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


class SQLiteAdapter(AbstractPersistenceAdapter):
    """ask-sdk persistence in a local SQLite file; safe across threads and processes."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # This process's threads take turns to write. Without it, the ones that find the file
        # locked sleep in SQLite's busy handler in growing steps (up to 100 ms) even after it is
        # free: under 8 server threads the p99 was ~145 ms. With it the p99 is ~47 ms and the
        # throughput ~8% higher, for a median ~5 ms higher (docs/benchmarks.md). Other processes
        # are still kept apart by SQLite's own lock.
        self._writer = threading.Lock()
        self._saves: list[_Save] = []
        self._saves_lock = threading.Lock()
        self._leading = False
        self._saver: sqlite3.Connection | None = None
        self._saver_pid = 0
        self._shared: _SharedMemoryFile | None = None
        self._cache: _RecordCache | None = None
        _ADAPTERS.add(self)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PersistenceException(
                f"cannot create the folder for the store {self.path}: {exc}"
            ) from exc
        # Open and check the file now, so a wrong path or a damaged file is reported when the
        # server starts rather than on some user's first turn. A file that is only read-only or
        # locked for now is another matter: the server starts anyway (each turn apologises and
        # /healthz reports the store unreachable), so fixing the permissions or ending the other
        # writer brings the skill back without a restart.
        try:
            try:
                self._connection()
            except sqlite3.Error as exc:
                raise self._failure("open", exc) from exc
        except PersistenceException as exc:
            if not _may_pass(exc.__cause__):
                raise
            logger.error(
                "starting with the store %s unusable for now; turns will apologise until it "
                "can be written",
                self.path,
            )

    # ---- AbstractPersistenceAdapter ----------------------------------------------------------

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        key = user_key(request_envelope)
        try:
            connection = self._connection()
            cache = self._cache
            stamp = cache.stamp() if cache is not None else None
            text = cache.get(key, stamp) if cache is not None else _UNKNOWN
            if text is _UNKNOWN:
                row = connection.execute(_READ, (key,)).fetchone()
                text = None if row is None else row[0]
                if cache is not None:
                    cache.keep(key, text, stamp)
        except sqlite3.Error as exc:
            raise self._failure("read from", exc) from exc
        if text is None:
            return {}
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            # One damaged record must not lock its user out: they start fresh, and the next save
            # replaces it.
            logger.warning("stored record in %s is not a JSON object; ignoring it", self.path)
            return {}
        return record

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        key = user_key(request_envelope)
        try:
            record = _RECORD_ENCODER.encode(attributes)
        except (TypeError, ValueError) as exc:
            raise PersistenceException(f"cannot store these attributes as JSON: {exc}") from exc
        saved_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        save = _Save(key, record, saved_at)
        with self._saves_lock:
            self._saves.append(save)
            if self._leading:
                save.done = threading.Event()
            else:
                self._leading = save.leads = True
        if save.done is not None:
            save.done.wait()  # committed, or failed, with others; or it is this one's turn to lead
        if save.leads:
            self._lead()
        if save.error is not None:
            raise save.error

    def _lead(self) -> None:
        """Commit the saves waiting now, this thread's among them, in one transaction; wake
        their threads; and hand the lead to the first save that came in meanwhile, if any.

        Group commit: while one thread commits, the others' saves queue, and the next commit
        takes them all. Each statement lets go of the GIL, and under a busy server taking it
        back costs more than SQLite's own work, so a commit of several saves costs the server
        about what one did (docs/benchmarks.md). A save's call returns only once its commit has
        (or has failed): what a turn has acknowledged survives the process being killed. One
        thread alone commits its own save straight away, as it did before."""
        with self._saves_lock:
            batch, self._saves = self._saves[:_MAX_BATCH], self._saves[_MAX_BATCH:]
        failure: PersistenceException | None = None
        try:
            self._write(
                "write to",
                _save_statement(len(batch)),
                tuple(value for save in batch for value in (save.key, save.text, save.saved_at)),
                {save.key: save.text for save in batch},  # a later save of a key wins
            )
        except PersistenceException as exc:
            failure = exc
        except BaseException:  # an interrupt: the waiting threads hear of it, then it goes on
            failure = PersistenceException(f"could not write to the store {self.path}: stopped")
            raise
        finally:
            # Whatever happened, no thread is left waiting.
            for save in batch:
                if failure is not None:
                    save.error = PersistenceException(str(failure))
                    save.error.__cause__ = failure.__cause__
            with self._saves_lock:
                if self._saves:
                    self._saves[0].leads = True
                    self._saves[0].done.set()  # type: ignore[union-attr]  # queued ones wait
                else:
                    self._leading = False
            for save in batch:
                if save.done is not None:
                    save.done.set()

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        # A delete of a record that is not there commits nothing, which _RecordCache cannot tell
        # from someone else's commit: it drops what it holds (deletes are rare).
        self._write("delete from", _DELETE, (user_key(request_envelope),), None)

    def check_reachable(self, request_envelope: RequestEnvelope) -> None:
        """Read the record from the file itself, never from memory (for health checks)."""
        try:
            self._connection().execute(_READ, (user_key(request_envelope),)).fetchone()
        except sqlite3.Error as exc:
            raise self._failure("read from", exc) from exc

    # ---- connections -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection this adapter opened (in any thread)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
            shared, self._shared, self._cache = self._shared, None, None
            self._saver = None
        for connection in connections:
            connection.close()
        if shared is not None:  # only now: see _SharedMemoryFile
            shared.release()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, for reads."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        connection = self._open()
        self._local.connection = connection
        self._local.pid = os.getpid()
        return connection

    def _writing_connection(self) -> sqlite3.Connection:
        """The process's one connection for saves; only ever used holding ``_writer``.

        One rather than each thread's own: a connection must re-read the pages that any other
        connection's commit changed, so with saves spread over eight threads' connections each
        save re-read most of the pages it wrote to, and took SQLite's file locks afresh."""
        if self._saver is None or self._saver_pid != os.getpid():
            self._saver = self._open()
            self._saver_pid = os.getpid()
        return self._saver

    def _open(self) -> sqlite3.Connection:
        # isolation_level=None: sqlite3 opens no implicit transactions; saves open their own.
        # Each connection is used by one thread at a time (a thread's own, or the saving one
        # under ``_writer``); check_same_thread=False lets the saving one be shared that way, and
        # close() close them all from one thread.
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            wal = str(mode).lower() == "wal"
            if not wal:
                logger.warning("%s cannot use WAL (journal mode is %s)", self.path, mode)
            # In WAL mode NORMAL is still safe against corruption; it only gives up durability
            # of the very last commits on power loss, which for progress through a stretch is fine.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            # On every new connection, not only at start-up: a store that could not be written
            # when the server started gets its table once it can be.
            connection.execute(_SCHEMA)
            _add_revision(connection)
        except sqlite3.Error:
            connection.close()
            raise
        with self._connections_lock:
            self._connections.append(connection)
            if self._cache is not None and self._cache.pid != os.getpid():
                # A forked child starts with no records in memory, and a lock of its own.
                self._cache = _RecordCache(self._cache.header)
            if wal and self._shared is None:
                # Only now: the -shm file exists, and this connection keeps it from being reset.
                self._shared = _SharedMemoryFile.acquire(self.path)
                if self._shared is not None:
                    self._cache = _RecordCache(self._shared.mapping)
        return connection

    def _write(
        self,
        action: str,
        statement: str,
        parameters: tuple[str, ...],
        changes: dict[str, str] | None,
    ) -> None:
        """Run one writing statement in its own transaction, after which each key of ``changes``
        holds its record text (``changes`` None: the statement may change nothing, and what is in
        memory is dropped).

        Plain try blocks rather than context managers: the two generator-based ones this had
        (one transaction, one translating errors) were ~2 µs of a ~14 µs save.
        """
        try:
            with self._writer:
                connection = self._writing_connection()
                cache = self._cache
                connection.execute("BEGIN IMMEDIATE")
                try:
                    # The write lock is held: until COMMIT, nobody else can change the header.
                    before = cache.stamp() if cache is not None else None
                    if cache is not None and changes is not None:
                        cache.saving(changes, before)
                    connection.execute(statement, parameters)
                    connection.execute("COMMIT")
                except BaseException:
                    if cache is not None:
                        cache.forget()
                    # Leave the connection clean for the next turn whatever went wrong, the
                    # commit included.
                    if connection.in_transaction:
                        with suppress(sqlite3.Error):
                            connection.execute("ROLLBACK")
                    raise
                if cache is not None and changes is None:
                    cache.forget()
                elif cache is not None:
                    cache.committed(changes, before)
        except sqlite3.Error as exc:
            raise self._failure(action, exc) from exc

    def _failure(self, action: str, exc: sqlite3.Error) -> PersistenceException:
        """Log a failed use of the store, and say what failed in the exception to raise."""
        logger.error("SQLite store %s: could not %s it: %s", self.path, action, exc)
        return PersistenceException(f"could not {action} the store {self.path}: {exc}" + _hint(exc))


_UNKNOWN: Any = object()  # a key the cache cannot answer for (unlike None: "no record")
# The WAL-index header, as the SQLite file format documents it (sqlite.org/walformat.html): two
# copies of 48 bytes at the start of the -shm file, in the machine's byte order. A writer fills
# the second copy, then the first, so a reader that finds both equal has read a whole one.
_HEADER_COPY = 48
_HEADER = struct.Struct("=8xI?3xI4x8s8s8x")  # iChange, isInit, mxFrame, aFrameCksum, aSalt


class _SharedMemoryFile:
    """The start of a database's -shm file, mapped read-only: one mapping per file per process,
    shared by every adapter on that file.

    Its descriptors (the one opened here, and the copy ``mmap`` keeps) are closed only when the
    last adapter using it has closed its connections: closing any descriptor of a file drops all
    of the process's POSIX locks on it, SQLite's included, and another process could then reset
    the -shm file under SQLite's feet (sqlite.org/howtocorrupt.html, section 2.2). Files are
    told apart by device and inode, so a -shm file deleted and made anew is a new one.
    """

    _open: ClassVar[dict[tuple[int, int], _SharedMemoryFile]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    # Descriptors that were opened but could not be mapped: kept open for the same reason.
    _kept: ClassVar[list[int]] = []

    def __init__(self, key: tuple[int, int], descriptor: int, mapping: mmap.mmap) -> None:
        self.key = key
        self.descriptor = descriptor
        self.mapping = mapping
        self.users = 0

    @classmethod
    def acquire(cls, database: Path) -> _SharedMemoryFile | None:
        """The mapping for ``database``, or None if it cannot be made. Call while holding an open
        connection that has used the file: the -shm file then exists and cannot be replaced."""
        name = f"{database}-shm"
        with cls._lock:
            try:
                info = os.stat(name)
            except OSError as exc:
                logger.info("not keeping records in memory for %s: %s", database, exc)
                return None
            key = (info.st_dev, info.st_ino)
            shared = cls._open.get(key)
            if shared is None:
                if info.st_size < 2 * _HEADER_COPY:
                    return None
                try:
                    descriptor = os.open(name, os.O_RDONLY)
                except OSError as exc:
                    logger.info("not keeping records in memory for %s: %s", database, exc)
                    return None
                try:
                    mapping = mmap.mmap(descriptor, 2 * _HEADER_COPY, access=mmap.ACCESS_READ)
                except (OSError, ValueError) as exc:
                    cls._kept.append(descriptor)
                    logger.info("not keeping records in memory for %s: %s", database, exc)
                    return None
                shared = cls._open[key] = cls(key, descriptor, mapping)
            shared.users += 1
            return shared

    def release(self) -> None:
        """One adapter is done with the mapping, its connections closed."""
        with self._lock:
            self.users -= 1
            if self.users > 0 or self._open.get(self.key) is not self:
                return
            del self._open[self.key]
            self.mapping.close()
            os.close(self.descriptor)


# Every adapter of this process, for _after_fork_in_child.
_ADAPTERS: weakref.WeakSet[SQLiteAdapter] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child has only the thread that forked: no other thread of its parent will ever
    release a lock or finish a save in it, so each adapter starts there with free locks and no
    saves queued (the parent's own are the parent's to finish)."""
    _SharedMemoryFile._lock = threading.Lock()
    for adapter in list(_ADAPTERS):
        adapter._writer = threading.Lock()
        adapter._connections_lock = threading.Lock()
        adapter._saves_lock = threading.Lock()
        adapter._saves = []
        adapter._leading = False


os.register_at_fork(after_in_child=_after_fork_in_child)


class _RecordCache:
    """Records this process read or wrote, trusted only while the file has not changed otherwise.

    Why: every ``execute`` lets go of the GIL, and under a busy server's threads getting it back
    costs far more than SQLite's own work (docs/benchmarks.md). A turn's read mostly follows this
    process's own save of the same user a few seconds before, so it can often be answered from
    memory, provided nobody else has written since.

    How it knows, without running a statement: every commit rewrites the WAL-index header in the
    -shm file, which every connection to the database shares (memory-mapped here, read-only). The
    header counts commits (``iChange``) and names the WAL's content (its last frame's checksum and
    its salt, which a restarted WAL changes). So:

    - ``stamp`` is the header as it is now, or None when it cannot be read whole.
    - Every record held is what the database holds while the header reads the trusted one
      (``_view[0]``). A read uses them only if the header reads exactly that; otherwise it
      reads the file.
    - A record read after taking a stamp equal to the trusted one is kept: the read saw that
      state.
    - This process's own save takes a stamp once it holds the write lock (no one else can commit
      then) and another after COMMIT. If the second is exactly one commit on from the first, in
      the same WAL, that commit was ours: the saved record is kept, and the trusted header moves
      on to the second (the records held since the first are still right, or, if the first was
      not the trusted one because someone else had committed meanwhile, they are dropped).
      Otherwise someone else got in too, and everything is dropped.
    - While such a save is being committed, a read that finds the header exactly one commit on
      from the trusted one knows that commit is the save (which has held the write lock since
      the header read the trusted one): it gets the saved record for that user, and what is held
      for the others. Under a busy server that is much of the time, as the saving thread waits
      for the GIL after COMMIT.

    A record is never trusted on a guess: whatever is unclear becomes a read from the file.
    """

    def __init__(self, header: mmap.mmap | bytes) -> None:
        self.pid = os.getpid()
        self.header = header
        self._lock = threading.Lock()
        # (the header the records held are right for, the save being committed): one tuple,
        # replaced whole, so that a reader never sees half of a change.
        self._view: tuple[bytes | None, dict[str, str] | None] = (None, None)
        self._records: dict[str, str | None] = {}

    def stamp(self) -> bytes | None:
        try:
            first = self.header[:_HEADER_COPY]
            second = self.header[_HEADER_COPY : 2 * _HEADER_COPY]
        except ValueError:  # unmapped by the adapter's close() in another thread
            return None
        if first != second or not _HEADER.unpack_from(first)[1]:
            return None
        return first

    def get(self, key: str, stamp: bytes | None) -> str | None:
        """The record held for ``key`` if the header reads ``stamp`` and nothing but this
        process's saves has been committed, else ``_UNKNOWN``."""
        if stamp is None:
            return _UNKNOWN
        trusted, saving = self._view
        if stamp != trusted:
            # Between a save's COMMIT and committed(), the header is one commit on. That commit
            # can only be the save: it held the write lock from a header equal to ``trusted``.
            if saving is None or not _one_commit_on(trusted, stamp):
                return _UNKNOWN
            if key in saving:
                return saving[key]
        return self._records.get(key, _UNKNOWN)

    def keep(self, key: str, text: str | None, stamp: bytes | None) -> None:
        """Keep what a read found, if the header read ``stamp`` just before it and still does."""
        if stamp is None:
            return
        with self._lock:
            if stamp == self._view[0]:
                self._hold(key, text)

    def saving(self, changes: dict[str, str], before: bytes | None) -> None:
        """A save of ``changes`` (record text by key) holds the write lock, and the header read
        ``before``."""
        with self._lock:
            trusted, _ = self._view
            if before is not None and before == trusted:
                self._view = (trusted, changes)

    def committed(self, changes: dict[str, str], before: bytes | None) -> None:
        """This process committed ``changes``; ``before`` was taken under the write lock."""
        after = self.stamp()
        with self._lock:
            if before is None or after is None or not _one_commit_on(before, after):
                self._view = (None, None)
                self._records.clear()
                return
            if before != self._view[0]:
                self._records.clear()
            for key, text in changes.items():
                self._hold(key, text)
            self._view = (after, None)

    def forget(self) -> None:
        with self._lock:
            self._view = (None, None)
            self._records.clear()

    def _hold(self, key: str, text: str | None) -> None:
        if len(self._records) >= RECORD_CACHE_SIZE:
            self._records.clear()
        self._records[key] = text


@dataclass
class _Save:
    """A save waiting its turn: a thread that finds another committing leaves its save here."""

    key: str
    text: str
    saved_at: str
    done: threading.Event | None = None  # set when committed, or when this one is to lead
    leads: bool = False
    error: PersistenceException | None = None


def _one_commit_on(before: bytes, after: bytes) -> bool:
    """Whether header ``after`` is exactly one commit later than ``before``, in the same WAL."""
    changes_before, _, frames_before, _, salt_before = _HEADER.unpack(before)
    changes_after, _, frames_after, _, salt_after = _HEADER.unpack(after)
    return (
        changes_after == (changes_before + 1) & 0xFFFFFFFF
        and salt_after == salt_before
        and frames_after > frames_before
    )


def _add_revision(connection: sqlite3.Connection) -> None:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(user_state)")}
    if "revision" in columns:
        return
    try:
        connection.execute(_ADD_REVISION)
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc).lower():  # another process added it just now
            raise


def _may_pass(exc: BaseException | None) -> bool:
    """Whether an error opening the store can go away by itself or by an operator's fix while the
    server runs (read-only for now, locked by another process), unlike a damaged file."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(
        word in text for word in ("readonly", "read-only", "locked", "busy")
    )


def _hint(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return " (another process holds it; try again in a moment)"
    if "readonly" in text or "read-only" in text:
        return " (the file or its folder is read-only)"
    if "not a database" in text or "malformed" in text:
        return " (the file is damaged or is not a SQLite database)"
    return ""
