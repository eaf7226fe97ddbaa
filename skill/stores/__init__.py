"""Store URL → ask-sdk persistence adapter.

``sqlite:///path`` (the embedded default), ``memory://`` (tests) and ``dynamodb://table`` (Lambda).
Adapters are imported lazily so the webhook never imports boto3 and Lambda never imports sqlite3
work it does not need.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.stores.base import REVISION_KEY, StoreURLError, user_key
from skill.stores.memory import MemoryAdapter

__all__ = ["REVISION_KEY", "MemoryAdapter", "StoreURLError", "open_store", "user_key"]
SCHEMES = ("sqlite", "memory", "dynamodb")


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
        return SQLiteAdapter(path)
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
