"""The peer: the hello-world skill built the standard way, doing the work ours must do each turn.

What a developer would write instead of the coach, with the same duties per turn:

- read the user's record and save it again, through the SDK's persistence adapter interface (on
  the webhook a plain ``sqlite3`` adapter, below; on Lambda the official ``DynamoDbAdapter``,
  ``bench/peer_lambda.py``);
- on a session's first turn, ask the Alexa Settings API for the device's time zone with the SDK's
  own ``DefaultApiClient``, and keep it in the session attributes for the turns that follow.

The handlers are the hello world's own (``bench/hello_skill.py``); the record and the time zone
are the two interceptors, as Amazon's samples do it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import Any
from zoneinfo import ZoneInfo

from ask_sdk_core.api_client import DefaultApiClient
from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.dispatch_components import (
    AbstractRequestInterceptor,
    AbstractResponseInterceptor,
)
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.skill import CustomSkill
from ask_sdk_core.skill_builder import CustomSkillBuilder
from ask_sdk_core.utils import get_device_id
from ask_sdk_model import RequestEnvelope, Response

from bench.hello_skill import HelloWorldIntentHandler, LaunchRequestHandler

TIME_ZONE = "time_zone"


class TimeZoneInterceptor(AbstractRequestInterceptor):
    """On a session's first turn, ask the Settings API for the device's time zone."""

    def process(self, handler_input: HandlerInput) -> None:
        session = handler_input.attributes_manager.session_attributes
        if TIME_ZONE not in session:
            ups = handler_input.service_client_factory.get_ups_service()
            session[TIME_ZONE] = ups.get_system_time_zone(get_device_id(handler_input))


class LoadRecordInterceptor(AbstractRequestInterceptor):
    """Read the user's record and note this visit in it."""

    def process(self, handler_input: HandlerInput) -> None:
        attributes = handler_input.attributes_manager
        record = attributes.persistent_attributes
        zone = ZoneInfo(attributes.session_attributes[TIME_ZONE])
        timestamp = handler_input.request_envelope.request.timestamp
        record["last_seen"] = timestamp.astimezone(zone).isoformat()
        record["turns"] = record.get("turns", 0) + 1


class SaveRecordInterceptor(AbstractResponseInterceptor):
    def process(self, handler_input: HandlerInput, response: Response | None) -> None:
        handler_input.attributes_manager.save_persistent_attributes()


class SqlitePersistenceAdapter(AbstractPersistenceAdapter):
    """One JSON row per user in a WAL-mode SQLite file: a primary-key read, a commit per save.

    One connection per thread, since the webhook serves turns from several.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        with self._connection() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS attributes (id TEXT PRIMARY KEY, data TEXT NOT NULL)"
            )

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=10)
            # WAL with synchronous=NORMAL, as SQLite recommends for WAL: a commit survives the
            # process dying (not a power cut), the same promise the coach's store makes.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            self._local.connection = connection
        return connection

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        row = (
            self._connection()
            .execute("SELECT data FROM attributes WHERE id = ?", (_user(request_envelope),))
            .fetchone()
        )
        return json.loads(row[0]) if row else {}

    def save_attributes(self, request_envelope: RequestEnvelope, attributes: dict) -> None:
        with self._connection() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO attributes (id, data) VALUES (?, ?)",
                (_user(request_envelope), json.dumps(attributes)),
            )

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        with self._connection() as connection:
            connection.execute("DELETE FROM attributes WHERE id = ?", (_user(request_envelope),))


def _user(request_envelope: RequestEnvelope) -> str:
    return request_envelope.context.system.user.user_id


def skill_builder(persistence_adapter: AbstractPersistenceAdapter) -> CustomSkillBuilder:
    builder = CustomSkillBuilder(
        persistence_adapter=persistence_adapter, api_client=DefaultApiClient()
    )
    builder.add_request_handler(LaunchRequestHandler())
    builder.add_request_handler(HelloWorldIntentHandler())
    # Order matters: the record notes the visit in the time zone the first interceptor found.
    builder.add_global_request_interceptor(TimeZoneInterceptor())
    builder.add_global_request_interceptor(LoadRecordInterceptor())
    builder.add_global_response_interceptor(SaveRecordInterceptor())
    return builder


def build_skill(persistence_adapter: AbstractPersistenceAdapter) -> CustomSkill:
    return skill_builder(persistence_adapter).create()
