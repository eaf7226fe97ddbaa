"""Store URL → ask-sdk persistence adapter.

``sqlite:///path`` (the embedded default), ``memory://`` (tests) and ``dynamodb://table`` (Lambda).
Adapters are imported lazily so the webhook never imports boto3 and Lambda never imports sqlite3
work it does not need.
"""

from __future__ import annotations

import copy
import threading
from typing import Any
from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

SCHEMES = ("sqlite", "memory", "dynamodb")


class StoreURLError(ValueError):
    """The store URL cannot be used; the message says what form it should take."""


def user_key(request_envelope: RequestEnvelope) -> str:
    """The record key: the Alexa user id (stable per account and skill)."""
    try:
        return request_envelope.context.system.user.user_id
    except AttributeError:
        raise PersistenceException("the request has no context.System.user.userId") from None


class MemoryAdapter(AbstractPersistenceAdapter):
    """A process-local dict; deep-copies so callers can't mutate what is stored."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._records.get(user_key(request_envelope), {}))

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        with self._lock:
            self._records[user_key(request_envelope)] = copy.deepcopy(attributes)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        with self._lock:
            self._records.pop(user_key(request_envelope), None)


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
        from skill.store_sqlite import SQLiteAdapter  # noqa: PLC0415

        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        if parts.netloc or not path:
            raise StoreURLError(
                f"store URL '{url}' names no file: use sqlite:///relative/path.sqlite3 "
                "or sqlite:////absolute/path.sqlite3"
            )
        return SQLiteAdapter(path)
    if scheme == "dynamodb":
        from skill.store_dynamodb import open_dynamodb_store  # noqa: PLC0415

        table = parts.netloc or parts.path.strip("/")
        if not table:
            raise StoreURLError(f"store URL '{url}' names no table: use dynamodb://table-name")
        return open_dynamodb_store(table)
    raise StoreURLError(
        f"unknown store URL '{url}': use sqlite:///path/to/file.sqlite3, dynamodb://table-name "
        "or memory://"
    )
