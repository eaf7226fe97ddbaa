"""A simulated Echo: it builds request envelopes the way Alexa does and keeps its session between
turns.

Typed text is resolved to an intent and slots with the generated interaction model
(``coach_dev.nlu``) and wrapped in an envelope as Alexa builds one: the new-session flag, session
attributes carried between turns, stable user and device ids, entity-resolution ids in the slots,
the locale, and the device's clock. With an Alexa API stand-in (``coach_dev.alexa_standin``) the
device also carries an API access token and endpoint, the reminders consent once it is given, and
each exchange records the Alexa API calls the skill made during it.

The clock is the real one, or a :class:`DeviceClock` set to a chosen local time, which moves on
after each answer by as long as Alexa takes to speak it: a conversation runs in device time.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from coach_dev import model as model_builder
from coach_dev import nlu
from coach_dev.alexa_response import spoken_seconds
from coach_dev.alexa_standin import AlexaApiStandIn, ApiCall
from coach_dev.nlu import Resolution
from coach_dev.transport import ChatError, Transport
from skill.catalog.loader import default_catalog

LOCAL_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
API_ENDPOINT = "https://api.amazonalexa.com"
# What an Echo Show 8 tells a skill about itself: it shows APL, on a 1280 x 800 touch screen.
SCREEN_INTERFACES = {"Alexa.Presentation.APL": {"runtime": {"maxVersion": "2024.1"}}}
SCREEN_VIEWPORT = {
    "mode": "HUB",
    "shape": "RECTANGLE",
    "pixelWidth": 1280,
    "pixelHeight": 800,
    "currentPixelWidth": 1280,
    "currentPixelHeight": 800,
    "dpi": 213,
    "touch": ["SINGLE"],
}
FALLBACK_INTENT = "AMAZON.FallbackIntent"

ASK_FOR = "AskFor"  # the Connections.SendRequest name of Alexa's voice permission request

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock. A request's timestamp is the one place the skill's "now" comes from, and a
    simulated device should stamp requests the way a real one does: with the current time."""
    return dt.datetime.now(dt.UTC)


@dataclass
class DeviceClock:
    """A device's own clock, set to a chosen moment (aware). It moves on only as Alexa speaks:
    :meth:`advance` by the length of each answer, so each turn comes as late as it would on an
    Echo where the user answers as soon as Alexa stops talking."""

    moment: dt.datetime

    def __post_init__(self) -> None:
        if self.moment.tzinfo is None:
            raise ValueError("a device clock needs an aware datetime")

    def __call__(self) -> dt.datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)


def timestamp(moment: dt.datetime) -> str:
    """Alexa's timestamp format: ISO 8601 in UTC to the second, with a Z."""
    if moment.tzinfo is None:
        raise ValueError("a request timestamp needs an aware datetime")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_id(prefix: str, kind: str, name: str) -> str:
    """An Alexa-shaped id that is the same every run for the same --user name."""
    digest = hashlib.sha256(f"rls-coach-chat:{kind}:{name}".encode()).hexdigest().upper()
    return f"{prefix}{digest[:48]}"


# --------------------------------------------------------------------------------------------
# The interaction model, as the device needs it
# --------------------------------------------------------------------------------------------


# What to offer when typed words match nothing: the phrasings a newcomer tries first. Only those
# the model resolves are shown, so a suggestion never leads to another "no match".
TRY_SAYING = (
    "start my morning stretches",
    "how do I do a bridge",
    "can I swim tonight",
    "give me bedtime tips",
    "what exercises do you know",
    "help",
)


@dataclass(frozen=True)
class InteractionModel:
    """A generated interaction model, and what a device reads from it to build requests."""

    data: Mapping[str, Any]

    @property
    def _language_model(self) -> Mapping[str, Any]:
        return self.data["interactionModel"]["languageModel"]

    @property
    def invocation_name(self) -> str:
        return str(self._language_model.get("invocationName") or "")

    def _intent(self, name: str) -> Mapping[str, Any]:
        return next((i for i in self._language_model.get("intents", []) if i["name"] == name), {})

    def _values(self, slot_type: str) -> list[Mapping[str, Any]]:
        entry = next(
            (t for t in self._language_model.get("types", []) if t["name"] == slot_type), {}
        )
        return list(entry.get("values") or [])

    def slot_types(self, intent: str) -> dict[str, str]:
        """The slots an intent declares: name → slot type."""
        return {slot["name"]: slot["type"] for slot in self._intent(intent).get("slots") or []}

    def is_custom_type(self, slot_type: str) -> bool:
        return any(t["name"] == slot_type for t in self._language_model.get("types", []))

    def entity_name(self, slot_type: str, entity_id: str) -> str | None:
        """The canonical value of a custom slot type's entity, or None."""
        for value in self._values(slot_type):
            if value.get("id") == entity_id:
                return value["name"]["value"]
        return None

    def has_dialog(self, intent: str) -> bool:
        dialog = self.data["interactionModel"].get("dialog") or {}
        return any(entry.get("name") == intent for entry in dialog.get("intents") or [])

    @functools.cached_property
    def resolver(self) -> nlu.Resolver:
        """The model compiled for resolving typed text, built on first use and kept with it."""
        return nlu.Resolver(self.data)

    def resolve(self, text: str) -> Resolution | None:
        """Typed text said inside a session → intent and slots (with entity ids), or None."""
        return self.resolver.resolve(text)

    def resolve_invocation(self, text: str) -> Resolution | None:
        """Text that names the skill ("open …", "ask … to …") → a launch or an intent, or None."""
        return self.resolver.resolve_invocation(text)

    def suggestions(self) -> list[str]:
        """Things to try saying that this model resolves to an intent."""
        return [phrase for phrase in TRY_SAYING if self.resolve(phrase) is not None]


@functools.cache
def load_model(locale: str) -> InteractionModel:
    """The interaction model for a locale, generated from the content (the same pure function
    writes the committed skill-package/ models, whose drift ``make test`` checks), so it
    works from any install and always matches the skill's content."""
    if locale not in model_builder.LOCALES:
        raise ChatError(
            f"no interaction model for locale '{locale}'; "
            f"use one of {', '.join(model_builder.LOCALES)}"
        )
    return InteractionModel(_models()[locale])


@functools.cache
def _models() -> dict[str, dict[str, Any]]:
    return model_builder.build_models(default_catalog())


@dataclass
class Exchange:
    """One request and the skill's response, with what the device understood the user to say."""

    request: dict[str, Any]
    response: dict[str, Any]
    heard: str | None = None  # the typed text, for an utterance
    matched: bool = True  # False: the words matched no sample, and Alexa sent its fallback
    api_calls: list[ApiCall] = field(default_factory=list)  # the Alexa API calls the skill made

    @property
    def spoken_seconds(self) -> float:
        """How long Alexa takes to say the answer (its words and pauses)."""
        return spoken_seconds((self.response.get("response") or {}).get("outputSpeech"))

    @property
    def permission_request(self) -> dict[str, Any] | None:
        """The skill's request that Alexa ask the user for a permission by voice, if it made one."""
        for directive in (self.response.get("response") or {}).get("directives") or []:
            if directive.get("type") == "Connections.SendRequest" and (
                directive.get("name") == ASK_FOR
            ):
                return directive
        return None

    @property
    def request_type(self) -> str:
        return str(self.request["request"]["type"])

    @property
    def intent(self) -> str | None:
        intent = self.request["request"].get("intent")
        return intent["name"] if intent else None

    @property
    def ends_session(self) -> bool:
        """Whether the session closes. A response that leaves shouldEndSession unset closes it
        too: that is what an Echo without a screen does."""
        if self.request_type == "SessionEndedRequest":
            return True
        return (self.response.get("response") or {}).get("shouldEndSession") is not False


@dataclass
class SimulatedDevice:
    """One user's Echo: builds request envelopes as Alexa does and keeps the session between
    turns (its id, its attributes, whether it is new)."""

    transport: Transport
    model: InteractionModel
    locale: str = "en-US"
    user: str = "local-user"
    skill_id: str = LOCAL_SKILL_ID
    clock: Clock = utc_now
    api_endpoint: str = API_ENDPOINT
    screen: bool = False  # an Echo Show: shows APL documents, and its buttons can be tapped
    # With a token, the skill may call the Alexa APIs at api_endpoint (time zone, reminders); a
    # consent token says the user granted the reminders permission.
    api_access_token: str | None = None
    consent_token: str | None = None
    # The stand-in that answers those calls, when the skill runs in this process: each exchange
    # lists the calls made during it, and a permission granted by voice is granted there too.
    alexa_api: AlexaApiStandIn | None = None
    session_id: str | None = None  # None: no session is open
    session_attributes: dict[str, Any] = field(default_factory=dict)
    session_is_new: bool = True
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return stable_id("amzn1.ask.account.", "user", self.user)

    @property
    def device_id(self) -> str:
        return stable_id("amzn1.ask.device.", "device", self.user)

    @property
    def in_session(self) -> bool:
        return self.session_id is not None

    # ---- what the user does ---------------------------------------------------------------

    def launch(self) -> Exchange:
        """ "Alexa, open restless legs coach": a LaunchRequest in a new session."""
        self.end_session()
        return self._send({"type": "LaunchRequest"})

    def say(self, text: str) -> Exchange | None:
        """Typed words as Alexa would hear them: "open restless legs coach" launches, "ask
        restless legs coach to …" is a one-shot request in a new session, anything else is an
        intent in the open session (or a one-shot if none is open).

        Words that match nothing in the model reach an open session as AMAZON.FallbackIntent, as
        Alexa sends them (the exchange is marked ``matched=False``); with no session open, Alexa
        would answer them itself, so nothing is sent and this returns None."""
        invocation = self.model.resolve_invocation(text)
        if invocation is not None:
            if invocation.intent == nlu.LAUNCH_REQUEST:
                return self.launch()
            self.end_session()
            return self.intent(invocation.intent, invocation.slots, heard=text)
        resolution = self.model.resolve(text)
        if resolution is not None:
            return self.intent(resolution.intent, resolution.slots, heard=text)
        if not self.in_session:
            return None
        exchange = self.intent(FALLBACK_INTENT, heard=text)
        exchange.matched = False
        return exchange

    def intent(
        self,
        name: str,
        slots: Mapping[str, tuple[str, str | None]] | None = None,
        *,
        heard: str | None = None,
    ) -> Exchange:
        request: dict[str, Any] = {
            "type": "IntentRequest",
            "intent": {
                "name": name,
                "confirmationStatus": "NONE",
                "slots": self._slots_json(name, slots or {}),
            },
        }
        if self.model.has_dialog(name):
            # Alexa sends a dialog state only for intents with a dialog model. A typed request
            # carries every slot at once, as a finished dialog would.
            request["dialogState"] = "COMPLETED"
        return self._send(request, heard=heard)

    def tap(self, event: str) -> Exchange:
        """A tap on a screen button: the UserEvent an Echo Show sends, with the button's event."""
        if not self.screen:
            raise ChatError("this device has no screen to tap (start it with --screen)")
        if not event:
            raise ChatError("say which button to tap: :tap next, :tap repeat or :tap pause")
        if not self.in_session:
            raise ChatError("nothing is on the screen: open the skill first")
        return self._send(
            {
                "type": "Alexa.Presentation.APL.UserEvent",
                "token": "rls-coach-step",
                "arguments": [event],
                "source": {"type": "TouchWrapper", "handler": "Press"},
            },
            heard=f"(tap {event})",
        )

    @property
    def awaiting_permission(self) -> bool:
        """Whether Alexa is asking the user for a permission the skill requested last turn."""
        return bool(self.exchanges) and self.exchanges[-1].permission_request is not None

    def permission_answer(self, status: str) -> Exchange:
        """The user's answer to Alexa's own permission question (ACCEPTED, DENIED or
        NOT_ANSWERED), as the Connections.Response Alexa then sends the skill."""
        asked = next(
            (
                exchange.permission_request
                for exchange in reversed(self.exchanges)
                if exchange.permission_request is not None
            ),
            None,
        )
        if asked is None:
            raise ChatError("the skill has not asked for a permission")
        if status == "ACCEPTED":
            self.consent_token = "consent-granted-by-voice"
            if self.alexa_api is not None:
                self.alexa_api.reminders_permission = True
        scopes = (asked.get("payload") or {}).get("permissionScopes") or [{}]
        return self._send(
            {
                "type": "Connections.Response",
                "name": asked.get("name"),
                "status": {"code": "200", "message": "OK"},
                "payload": {"status": status, "permissionScope": scopes[0].get("permissionScope")},
                "token": asked.get("token"),
            },
            heard=f"(permission {status.lower()})",
        )

    def end_session(self, reason: str = "USER_INITIATED") -> Exchange | None:
        """Close an open session the way Alexa does, with a SessionEndedRequest."""
        if not self.in_session:
            return None
        return self._send({"type": "SessionEndedRequest", "reason": reason})

    # ---- envelopes ------------------------------------------------------------------------

    def _slots_json(
        self, intent: str, slots: Mapping[str, tuple[str, str | None]]
    ) -> dict[str, Any]:
        """Every slot the intent declares, as Alexa sends them: empty ones with no value,
        custom types with an entity-resolution block (a match with the entity id, or no match)."""
        declared = self.model.slot_types(intent)
        out: dict[str, Any] = {}
        for name in sorted({*declared, *slots}):
            slot: dict[str, Any] = {"name": name, "confirmationStatus": "NONE"}
            if name in slots:
                words, entity_id = slots[name]
                slot["value"] = words
                slot_type = declared.get(name, "")
                if self.model.is_custom_type(slot_type):
                    slot["resolutions"] = self._resolutions(slot_type, words, entity_id)
            out[name] = slot
        return out

    def _resolutions(self, slot_type: str, words: str, entity_id: str | None) -> dict[str, Any]:
        authority: dict[str, Any] = {
            "authority": f"amzn1.er-authority.echo-sdk.{self.skill_id}.{slot_type}",
            "status": {"code": "ER_SUCCESS_NO_MATCH"},
        }
        if entity_id is not None:
            name = self.model.entity_name(slot_type, entity_id) or words
            authority["status"] = {"code": "ER_SUCCESS_MATCH"}
            authority["values"] = [{"value": {"name": name, "id": entity_id}}]
        return {"resolutionsPerAuthority": [authority]}

    def envelope(self, request: dict[str, Any]) -> dict[str, Any]:
        """A full request envelope around ``request`` for the current session."""
        if self.session_id is None:
            self.session_id = f"amzn1.echo-api.session.{uuid.uuid4()}"
            self.session_attributes = {}
            self.session_is_new = True
        application = {"applicationId": self.skill_id}
        user: dict[str, Any] = {"userId": self.user_id}
        if self.consent_token:
            user["permissions"] = {"consentToken": self.consent_token}
        interfaces = dict(SCREEN_INTERFACES) if self.screen else {}
        context: dict[str, Any] = {
            "System": {
                "application": application,
                "user": user,
                "device": {"deviceId": self.device_id, "supportedInterfaces": interfaces},
                # No apiAccessToken unless one is given (a device talking to a webhook has no
                # Alexa APIs behind it): the skill then uses its configured time zone.
                "apiEndpoint": self.api_endpoint,
            }
        }
        if self.api_access_token:
            context["System"]["apiAccessToken"] = self.api_access_token
        if self.screen:
            context["Viewport"] = dict(SCREEN_VIEWPORT)
        return {
            "version": "1.0",
            "session": {
                "new": self.session_is_new,
                "sessionId": self.session_id,
                "application": application,
                "attributes": dict(self.session_attributes),
                "user": user,
            },
            "context": context,
            "request": {
                "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
                "timestamp": timestamp(self.clock()),
                "locale": self.locale,
                **request,
            },
        }

    def _send(self, request: dict[str, Any], heard: str | None = None) -> Exchange:
        envelope = self.envelope(request)
        calls_before = len(self.alexa_api.calls) if self.alexa_api is not None else 0
        try:
            body = self.transport.send(envelope)
        except ChatError:
            self._close_session()
            raise
        exchange = Exchange(envelope, body, heard=heard)
        if self.alexa_api is not None:
            exchange.api_calls = self.alexa_api.calls[calls_before:]
        self.exchanges.append(exchange)
        if isinstance(self.clock, DeviceClock):
            self.clock.advance(exchange.spoken_seconds)
        if exchange.ends_session:
            self._close_session()
        else:
            self.session_is_new = False
            self.session_attributes = dict(body.get("sessionAttributes") or {})
        return exchange

    def _close_session(self) -> None:
        self.session_id = None
        self.session_attributes = {}
