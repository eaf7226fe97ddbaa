"""Store URL → ask-sdk persistence adapter.

``sqlite:///path`` (the embedded default), ``memory://`` (tests) and ``dynamodb://table`` (Lambda).
Adapters are imported lazily so the webhook never imports boto3 and Lambda never imports sqlite3
work it does not need.
"""

from __future__ import annotations

import os
import stat
from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

from skill.stores.base import (
    QUARANTINE_KEY,
    REVISION_KEY,
    UNDECODABLE_KEY,
    SaveConflictError,
    StoreURLError,
    user_key,
)
from skill.stores.memory import MemoryAdapter

__all__ = [
    "QUARANTINE_KEY",
    "REVISION_KEY",
    "UNDECODABLE_KEY",
    "MemoryAdapter",
    "SaveConflictError",
    "StoreURLError",
    "open_store",
    "user_key",
]
SCHEMES = ("sqlite", "memory", "dynamodb")
SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def open_store(url: str) -> AbstractPersistenceAdapter:
    """The adapter for a store URL, or StoreURLError naming what is wrong with it.

    ``sqlite:///relative/path`` and ``sqlite:////absolute/path`` (the SQLAlchemy convention),
    ``dynamodb://table-name`` and ``memory://``. Each adapter module is imported only when used.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return MemoryAdapter()
    if scheme == "sqlite":
        from skill.stores.sqlite import SQLiteAdapter  # noqa: PLC0415

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise StoreURLError(
                f"store URL '{url}' names no file: use sqlite:///relative/path.sqlite3 "
                "or sqlite:////absolute/path.sqlite3"
            )
        check_sqlite_path(url, path)
        try:
            return SQLiteAdapter(path)
        except PersistenceException as exc:
            raise StoreURLError(f"store URL '{url}': {exc}") from None
    if scheme == "dynamodb":
        from skill.stores.dynamodb import open_dynamodb_store  # noqa: PLC0415

        table = parts.netloc or parts.path.strip("/")
        if not table:
            raise StoreURLError(f"store URL '{url}' names no table: use dynamodb://table-name")
        return open_dynamodb_store(table)
    raise StoreURLError(
        f"unknown store URL '{url}': use sqlite:///path/to/file.sqlite3, dynamodb://table-name "
        "or memory://"
    )


def check_sqlite_path(url: str, path: str) -> None:
    """Refuse, before SQLite touches it, a path that exists and is not a SQLite database: a
    directory, a device such as /dev/null (SQLite would create /dev/null-journal beside it), a
    file that cannot be read (/proc/self/mem) or a file with other contents (/etc/passwd). A
    missing or empty file is fine: SQLite makes the database there."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreURLError(f"store URL '{url}': cannot use {path}: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        kind = "a directory" if stat.S_ISDIR(status.st_mode) else "not a regular file"
        raise StoreURLError(f"store URL '{url}': {path} is {kind}, not a SQLite database file")
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreURLError(f"store URL '{url}': cannot read {path}: {exc.strerror}") from None
    if header and header != SQLITE_HEADER:
        raise StoreURLError(f"store URL '{url}': {path} is not a SQLite database file")
