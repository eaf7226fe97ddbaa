"""The embedded store: one SQLite file holding one JSON record per user.

WAL mode lets readers carry on while one writer writes; every save is its own short transaction
(``BEGIN IMMEDIATE`` takes the write lock up front, so two writers queue on the busy timeout rather
than fail half-way). Each thread gets its own connection (sqlite3 connections must not be shared
between threads), and a process that forks gets fresh ones. Every failure — a read-only or locked
file, a file that is not a database — becomes ask-sdk's ``PersistenceException`` with a message
naming the file, so the skill apologises instead of crashing and nothing already stored is lost.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

from skill.persistence import user_key

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0  # seconds a writer waits for another to finish before giving up
# Page cache per connection, in KiB. There is a connection per server thread, and SQLite's
# default (2,000 KiB each) grows with the file: 8 threads on a 20 MiB store held ~9 MiB more than
# with this, at no measurable cost per turn. A turn reads one record by its key, so what is worth
# keeping is the B-tree's upper pages (~200 KiB at 40,000 users); the OS caches the file itself.
# (Memory-mapped I/O stays off, as SQLite ships it.)
PAGE_CACHE_KIB = 512
_SCHEMA = """
CREATE TABLE IF NOT EXISTS user_state (
    user_key   TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
"""
_UPSERT = """
INSERT INTO user_state (user_key, record, updated_at) VALUES (?, ?, ?)
ON CONFLICT (user_key) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at
"""
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
            row = self._connection().execute(_READ, (key,)).fetchone()
        except sqlite3.Error as exc:
            raise self._failure("read from", exc) from exc
        if row is None:
            return {}
        try:
            record = json.loads(row[0])
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
        self._write("write to", _UPSERT, (key, record, saved_at))

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self._write("delete from", _DELETE, (user_key(request_envelope),))

    # ---- connections -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection this adapter opened (in any thread)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        # isolation_level=None: sqlite3 opens no implicit transactions; saves open their own.
        # Each connection is used only by the thread that opened it (it lives in a thread-local);
        # check_same_thread=False is only so that close() may close them all from one thread.
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("%s cannot use WAL (journal mode is %s)", self.path, mode)
            # In WAL mode NORMAL is still safe against corruption; it only gives up durability
            # of the very last commits on power loss, which for progress through a stretch is fine.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            # On every new connection, not only at start-up: a store that could not be written
            # when the server started gets its table once it can be.
            connection.execute(_SCHEMA)
        except sqlite3.Error:
            connection.close()
            raise
        self._local.connection = connection
        self._local.pid = os.getpid()
        with self._connections_lock:
            self._connections.append(connection)
        return connection

    def _write(self, action: str, statement: str, parameters: tuple[str, ...]) -> None:
        """Run one writing statement in its own transaction.

        Plain try blocks rather than context managers: the two generator-based ones this had
        (one transaction, one translating errors) were ~2 µs of a ~14 µs save.
        """
        try:
            connection = self._connection()
            with self._writer:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    connection.execute(statement, parameters)
                    connection.execute("COMMIT")
                except BaseException:
                    # Leave the connection clean for the next turn whatever went wrong, the
                    # commit included.
                    if connection.in_transaction:
                        with suppress(sqlite3.Error):
                            connection.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise self._failure(action, exc) from exc

    def _failure(self, action: str, exc: sqlite3.Error) -> PersistenceException:
        """Log a failed use of the store, and say what failed in the exception to raise."""
        logger.error("SQLite store %s: could not %s it: %s", self.path, action, exc)
        return PersistenceException(f"could not {action} the store {self.path}: {exc}" + _hint(exc))


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
