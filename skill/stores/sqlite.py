"""The embedded store: one SQLite file holding one JSON record per user.

WAL mode lets readers carry on while one writer writes. A read is one primary-key SELECT; a save
is one short transaction that has committed before the turn answers (``BEGIN IMMEDIATE`` takes
the write lock up front, so two writers queue on the busy timeout rather than fail half-way).
Saves are conditional on the revision the turn read (see :mod:`skill.stores.base`). Each thread
has its own connection (sqlite3 connections must not be shared by threads at once), and a
process that forks opens new ones. Every failure — a read-only or locked file, a file that is
not a database, a record too large to be one of ours — becomes ask-sdk's ``PersistenceException``
with a message naming the file, so the skill apologises instead of crashing and nothing already
stored is lost.
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

from skill.stores.base import (
    REVISION_KEY,
    UNDECODABLE_KEY,
    conflict,
    person_key,
    split_revision,
    user_key,
)

logger = logging.getLogger(__name__)

# Seconds a writer waits for another to finish before giving up: the longest a save can take,
# well inside the 8 seconds Alexa waits for an answer.
DEFAULT_BUSY_TIMEOUT = 3.0
# Page cache per connection, in KiB: a turn reads one record by its key, so the B-tree's upper
# pages are what is worth keeping; SQLite's default (2,000 KiB) per server thread is memory an
# operator would notice and no user would.
PAGE_CACHE_KIB = 512
# A record is well under 10 KB (62 days of dates per routine at most); a larger one was not
# written by this code, and is refused rather than read into memory or written.
MAX_RECORD_CHARS = 400_000
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
_READ = """
SELECT length(record) > :cap, CASE WHEN length(record) <= :cap THEN record END, revision
FROM user_state WHERE user_key = :key
"""
# Inserts a new record, or updates one still at the revision the turn read; anything else
# changes no row. (A record written before revisions were counted is at 0, as is a missing one.)
_SAVE = """
INSERT INTO user_state (user_key, record, updated_at, revision)
VALUES (:key, :record, :saved_at, :read + 1)
ON CONFLICT (user_key) DO UPDATE SET
    record = excluded.record, updated_at = excluded.updated_at, revision = excluded.revision
WHERE user_state.revision = :read
"""
_DELETE = "DELETE FROM user_state WHERE user_key = ?"
# An account's own record and every recognised person's under it (see skill.stores.base).
_DELETE_ACCOUNT = """
DELETE FROM user_state
WHERE user_key = :account OR substr(user_key, 1, length(:prefix)) = :prefix
"""
# Records no turn has saved since a moment (ISO 8601 UTC, as updated_at is written).
_COUNT_UNTOUCHED = "SELECT count(*) FROM user_state WHERE updated_at < :before"
_DELETE_UNTOUCHED = "DELETE FROM user_state WHERE updated_at < :before"


class SQLiteAdapter(AbstractPersistenceAdapter):
    """ask-sdk persistence in a local SQLite file; safe across threads and processes."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, for close()
        # This process's threads take turns to write: a thread waiting here is woken as soon as
        # the lock is free, where SQLite's busy handler sleeps in growing steps (up to 100 ms),
        # which showed in the webhook's tail latency under load. Other processes are kept apart
        # by SQLite's own lock.
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
            self._connection()
        except sqlite3.Error as exc:
            failure = self._failure("open", exc)
            if not _may_pass(exc):
                raise failure from exc
            logger.error(
                "starting with the store %s unusable for now; turns will apologise until it "
                "can be written",
                self.path,
            )

    # ---- AbstractPersistenceAdapter ----------------------------------------------------------

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        """The user's record and its revision; ``{}`` for a user with no record."""
        parameters = {"key": user_key(request_envelope), "cap": MAX_RECORD_CHARS}
        try:
            row = self._connection().execute(_READ, parameters).fetchone()
        except sqlite3.Error as exc:
            raise self._failure("read from", exc) from exc
        if row is None:
            return {}
        too_large, text, revision = row
        if too_large:
            raise PersistenceException(
                f"the record in the store {self.path} is larger than {MAX_RECORD_CHARS} "
                "characters; refusing to read it"
            )
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            # Not written by this code: the turn keeps it aside (skill.builder) and the user
            # starts fresh, rather than the next save silently replacing it.
            logger.warning("stored record in %s is not a JSON object", self.path)
            record = {UNDECODABLE_KEY: text}
        record[REVISION_KEY] = revision
        return record

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        """Store the record if the stored one is still at the revision it carries (see
        :mod:`skill.stores.base`); committed when this returns."""
        key = user_key(request_envelope)
        record, read = split_revision(attributes)
        try:
            text = json.dumps(record, separators=(",", ":"), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise PersistenceException(f"cannot store these attributes as JSON: {exc}") from exc
        if len(text) > MAX_RECORD_CHARS:
            raise PersistenceException(
                f"refusing to store a record of {len(text)} characters in {self.path} "
                f"(at most {MAX_RECORD_CHARS})"
            )
        saved_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        parameters = {"key": key, "record": text, "saved_at": saved_at, "read": read}
        if not self._write("write to", _SAVE, parameters):
            raise conflict(f"the store {self.path}")

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self._write("delete from", _DELETE, (user_key(request_envelope),))

    # ---- erasing an account, and retention (skill.stores.retention) ---------------------------

    def delete_account(self, account: str) -> int:
        """Erase the account's record and every person's under it; how many records went."""
        parameters = {"account": account, "prefix": person_key(account, "")}
        return self._write("delete from", _DELETE_ACCOUNT, parameters)

    def untouched_since(self, before: dt.datetime, *, delete: bool) -> int:
        """How many records no turn has saved since ``before`` (aware); with ``delete``, erase
        them too. Counted and erased in one transaction, so the number is what went."""
        parameters = {"before": before.astimezone(dt.UTC).isoformat(timespec="seconds")}
        if delete:
            return self._write("delete from", _DELETE_UNTOUCHED, parameters)
        try:
            return self._connection().execute(_COUNT_UNTOUCHED, parameters).fetchone()[0]
        except sqlite3.Error as exc:
            raise self._failure("read from", exc) from exc

    # ---- connections -------------------------------------------------------------------------

    def close(self) -> None:
        """Close every connection this adapter opened (in any thread)."""
        connections, self._connections = self._connections, []
        self._local = threading.local()
        for connection in connections:
            connection.close()

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use (and again in a forked child)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None and self._local.pid == os.getpid():
            return connection
        # isolation_level=None: sqlite3 opens no implicit transactions; saves open their own.
        # check_same_thread=False only so that close() can close every thread's connection.
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                logger.warning("%s cannot use WAL (journal mode is %s)", self.path, mode)
            # In WAL mode NORMAL is still safe against corruption, and a commit survives the
            # process being killed; only power loss may take the very last commits.
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            # On every new connection, not only at start-up: a store that could not be written
            # when the server started gets its table once it can be.
            connection.execute(_SCHEMA)
            _add_revision(connection)
        except sqlite3.Error:
            connection.close()
            raise
        self._connections.append(connection)
        self._local.connection = connection
        self._local.pid = os.getpid()
        return connection

    def _write(self, action: str, statement: str, parameters: Any) -> int:
        """Run one writing statement in its own committed transaction; the rows it changed."""
        if not self._writer.acquire(timeout=self.busy_timeout):
            raise PersistenceException(
                f"could not {action} the store {self.path}: other saves in this process took "
                f"longer than {self.busy_timeout} s"
            )
        try:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                changed = connection.execute(statement, parameters).rowcount
                connection.execute("COMMIT")
            finally:
                # Leave the connection clean for the next turn whatever went wrong, the commit
                # included.
                if connection.in_transaction:
                    with suppress(sqlite3.Error):
                        connection.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise self._failure(action, exc) from exc
        finally:
            self._writer.release()
        return changed

    def _failure(self, action: str, exc: sqlite3.Error) -> PersistenceException:
        """Log a failed use of the store, and say what failed in the exception to raise."""
        logger.error("SQLite store %s: could not %s it: %s", self.path, action, exc)
        return PersistenceException(f"could not {action} the store {self.path}: {exc}" + _hint(exc))


def _add_revision(connection: sqlite3.Connection) -> None:
    columns = {row[1] for row in connection.execute("PRAGMA table_info(user_state)")}
    if "revision" in columns:
        return
    try:
        connection.execute(_ADD_REVISION)
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc).lower():  # another process added it just now
            raise


def _may_pass(exc: sqlite3.Error) -> bool:
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
