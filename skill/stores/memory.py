"""``memory://``: a process-local store, for tests and ``--store memory://``.

It keeps no revisions: every save wins (tests seed records with plain saves), and the revision a
turn hands back is dropped (see :mod:`skill.stores.base`).
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_model import RequestEnvelope

from skill.stores.base import REVISION_KEY, person_key, user_key


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
        record = attributes
        if isinstance(attributes, dict):  # tests also store odd values, to see them refused
            record = {key: value for key, value in attributes.items() if key != REVISION_KEY}
        with self._lock:
            self._records[user_key(request_envelope)] = copy.deepcopy(record)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        with self._lock:
            self._records.pop(user_key(request_envelope), None)

    def delete_account(self, account: str) -> int:
        """Erase the account's record and every person's under it; how many records went."""
        prefix = person_key(account, "")
        with self._lock:
            gone = [k for k in self._records if k == account or k.startswith(prefix)]
            for key in gone:
                del self._records[key]
        return len(gone)
