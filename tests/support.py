"""Test helpers: real Alexa request envelopes (as JSON dicts) and a multi-turn conversation driver.

Envelopes go through the SDK's own serializer and the real skill, exactly as the webhook and the
Lambda entry do, so tests exercise the real path rather than calling handlers directly.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope, ResponseEnvelope

from coach_dev.chat import SCREEN_INTERFACES, SCREEN_VIEWPORT
from skill.catalog.loader import default_catalog
from skill.speech import WORDS_PER_SECOND

SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
SERIALIZER = DefaultSerializer()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_json(
    name: str, value: str | None, resolved_id: str | None = None, slot_type: str = "X"
) -> dict:
    slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
    if value is not None:
        slot["value"] = value
    if resolved_id is not None:
        slot["resolutions"] = {
            "resolutionsPerAuthority": [
                {
                    "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.{slot_type}",
                    "status": {"code": "ER_SUCCESS_MATCH"},
                    "values": [{"value": {"name": value, "id": resolved_id}}],
                }
            ]
        }
    elif value is not None:
        slot["resolutions"] = {
            "resolutionsPerAuthority": [
                {
                    "authority": f"amzn1.er-authority.echo-sdk.{SKILL_ID}.{slot_type}",
                    "status": {"code": "ER_SUCCESS_NO_MATCH"},
                }
            ]
        }
    return slot


def envelope(
    request: dict[str, Any],
    *,
    user_id: str = "amzn1.ask.account.TESTUSER",
    device_id: str = "amzn1.ask.device.TESTDEVICE",
    session_attributes: dict[str, Any] | None = None,
    new_session: bool = False,
    session_id: str = "amzn1.echo-api.session.TEST",
    api_endpoint: str = "https://api.amazonalexa.com",
    api_access_token: str | None = None,
    consent_token: str | None = None,
    skill_id: str = SKILL_ID,
    screen: bool = False,
) -> dict[str, Any]:
    """A request envelope. Without ``api_access_token`` the skill cannot call Alexa's APIs, so by
    default it uses its configured time zone and no test reaches out to the real Alexa API;
    tests of the Settings API pass a token and point ``api_endpoint`` at their own server."""
    application = {"applicationId": skill_id}
    user: dict[str, Any] = {"userId": user_id}
    if consent_token is not None:  # the user granted a permission (reminders)
        user["permissions"] = {"consentToken": consent_token}
    system: dict[str, Any] = {
        "application": application,
        "user": user,
        "device": {"deviceId": device_id, "supportedInterfaces": {}},
        "apiEndpoint": api_endpoint,
    }
    if api_access_token is not None:
        system["apiAccessToken"] = api_access_token
    context: dict[str, Any] = {"System": system}
    if screen:  # an Echo Show 8
        system["device"]["supportedInterfaces"] = SCREEN_INTERFACES
        context["Viewport"] = SCREEN_VIEWPORT
    return {
        "version": "1.0",
        "session": {
            "new": new_session,
            "sessionId": session_id,
            "application": application,
            "attributes": session_attributes or {},
            "user": user,
        },
        "context": context,
        "request": request,
    }


def launch_request(moment: dt.datetime, locale: str = "en-US") -> dict[str, Any]:
    return {
        "type": "LaunchRequest",
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": iso(moment),
        "locale": locale,
    }


def intent_request(
    name: str,
    moment: dt.datetime,
    slots: dict[str, dict[str, Any]] | None = None,
    locale: str = "en-US",
) -> dict[str, Any]:
    return {
        "type": "IntentRequest",
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": iso(moment),
        "locale": locale,
        "dialogState": "COMPLETED",
        "intent": {"name": name, "confirmationStatus": "NONE", "slots": slots or {}},
    }


def session_ended_request(moment: dt.datetime, reason: str = "USER_INITIATED") -> dict[str, Any]:
    return {
        "type": "SessionEndedRequest",
        "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
        "timestamp": iso(moment),
        "locale": "en-US",
        "reason": reason,
    }


def user_envelope(user_id: str = "amzn1.ask.account.TESTUSER") -> RequestEnvelope:
    """A request envelope for ``user_id``: what a store needs to find that user's record."""
    moment = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    body = envelope(launch_request(moment), user_id=user_id)
    return SERIALIZER.deserialize(json.dumps(body), RequestEnvelope)


def stored_record(
    store: AbstractPersistenceAdapter, user_id: str = "amzn1.ask.account.TESTUSER"
) -> dict[str, Any]:
    return store.get_attributes(user_envelope(user_id))


def store_record(
    store: AbstractPersistenceAdapter,
    record: Any,
    user_id: str = "amzn1.ask.account.TESTUSER",
) -> None:
    store.save_attributes(user_envelope(user_id), record)


def invoke(skill: CustomSkill, body: dict[str, Any]) -> dict[str, Any]:
    """One envelope through the SDK serializer and the skill, as JSON in and JSON out."""
    request = SERIALIZER.deserialize(json.dumps(body), RequestEnvelope)
    response: ResponseEnvelope = skill.invoke(request_envelope=request, context=None)
    return SERIALIZER.serialize(response)


_TAG = re.compile(r"<[^>]+>")


@dataclass
class Reply:
    """A response, with helpers to read what the user would hear."""

    body: dict[str, Any]

    @property
    def response(self) -> dict[str, Any]:
        return self.body.get("response") or {}

    @property
    def ssml(self) -> str:
        return (self.response.get("outputSpeech") or {}).get("ssml", "")

    @property
    def screens(self) -> list[dict[str, Any]]:
        """The APL RenderDocument directives sent."""
        return [
            d
            for d in self.response.get("directives") or []
            if d.get("type") == "Alexa.Presentation.APL.RenderDocument"
        ]

    @property
    def screen(self) -> tuple[str, dict[str, Any]] | None:
        """(document, payload) of the one screen sent, or None."""
        if not self.screens:
            return None
        assert len(self.screens) == 1, "one screen per response"
        ((name, payload),) = self.screens[0]["datasources"]["payload"].items()
        return name, payload

    @property
    def text(self) -> str:
        return " ".join(_TAG.sub(" ", self.ssml).split())

    @property
    def answer(self) -> str:
        """What was said after the one-time disclaimer that opens a new user's first turn."""
        for disclaimer in default_catalog().phrases("common.disclaimer"):
            if self.text.startswith(disclaimer):
                return self.text.removeprefix(disclaimer).lstrip()
        return self.text

    @property
    def reprompt(self) -> str:
        speech = ((self.response.get("reprompt") or {}).get("outputSpeech") or {}).get("ssml", "")
        return " ".join(_TAG.sub(" ", speech).split())

    @property
    def ends_session(self) -> bool:
        return bool(self.response.get("shouldEndSession"))

    @property
    def card(self) -> dict[str, Any] | None:
        return self.response.get("card")

    @property
    def breaks_ms(self) -> list[int]:
        return [int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', self.ssml)]

    @property
    def estimated_seconds(self) -> float:
        """How long the speech runs, estimated the way the speech builder does."""
        return len(self.text.split()) / WORDS_PER_SECOND + sum(self.breaks_ms) / 1000


@dataclass
class Conversation:
    """Turns of one user against one skill: session attributes carry between turns of a session,
    the store carries across sessions, and the clock moves forward as the test says."""

    skill: CustomSkill
    now: dt.datetime
    user_id: str = "amzn1.ask.account.TESTUSER"
    device_id: str = "amzn1.ask.device.TESTDEVICE"
    locale: str = "en-US"
    api_endpoint: str = "https://api.amazonalexa.com"
    api_access_token: str | None = None
    consent_token: str | None = None
    screen: bool = False  # an Echo Show: asks for APL screens
    session_attributes: dict[str, Any] = field(default_factory=dict)
    in_session: bool = False
    session_number: int = 0
    last: Reply | None = None

    def _send(self, request: dict[str, Any]) -> Reply:
        if not self.in_session:
            self.session_number += 1
            self.session_attributes = {}
        body = envelope(
            request,
            user_id=self.user_id,
            device_id=self.device_id,
            session_attributes=self.session_attributes,
            new_session=not self.in_session,
            session_id=f"amzn1.echo-api.session.{self.user_id}.{self.session_number}",
            api_endpoint=self.api_endpoint,
            api_access_token=self.api_access_token,
            consent_token=self.consent_token,
            screen=self.screen,
        )
        reply = Reply(invoke(self.skill, body))
        self.session_attributes = reply.body.get("sessionAttributes") or {}
        self.in_session = not reply.ends_session
        self.last = reply
        return reply

    def launch(self) -> Reply:
        self.in_session = False
        return self._send(launch_request(self.now, self.locale))

    def intent(self, name: str, **slots: str | tuple[str, str] | None) -> Reply:
        """Send an intent. A slot given as (words, id) carries an entity-resolution match;
        a plain string is unresolved words; None leaves the slot empty."""
        slot_json_map = {}
        for slot_name, value in slots.items():
            if isinstance(value, tuple):
                slot_json_map[slot_name] = slot_json(slot_name, value[0], value[1])
            else:
                slot_json_map[slot_name] = slot_json(slot_name, value)
        return self._send(intent_request(name, self.now, slot_json_map, self.locale))

    def one_shot(self, name: str, **slots: str | tuple[str, str] | None) -> Reply:
        """ "Alexa, ask restless legs coach to …": an intent that opens a new session."""
        self.in_session = False
        return self.intent(name, **slots)

    def permission_answer(self, answer: str, token: str | None, code: str = "200") -> Reply:
        """Alexa's Connections.Response to the skill's AskFor request: ACCEPTED, DENIED or
        NOT_ANSWERED (``code`` other than "200": the device could not ask)."""
        request = {
            "type": "Connections.Response",
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": iso(self.now),
            "locale": self.locale,
            "name": "AskFor",
            "status": {"code": code, "message": "OK" if code == "200" else "not supported"},
            "payload": {
                "status": answer,
                "permissionScope": "alexa::alerts:reminders:skill:readwrite",
            },
            "token": token,
        }
        return self._send(request)

    def tap(self, *arguments: Any) -> Reply:
        """A tap on a screen button: the APL UserEvent with the button's arguments."""
        request = {
            "type": "Alexa.Presentation.APL.UserEvent",
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": iso(self.now),
            "locale": self.locale,
            "token": "rls-coach-step",
            "arguments": list(arguments),
            "source": {"type": "TouchWrapper", "handler": "Press", "id": ""},
        }
        return self._send(request)

    def end_session(self, reason: str = "USER_INITIATED") -> None:
        if self.in_session:
            self._send(session_ended_request(self.now, reason))
        self.in_session = False

    def wait(self, **delta: float) -> None:
        self.now = self.now + dt.timedelta(**delta)
