"""Talk to the skill without a device: ``rls-coach chat`` and ``rls-coach say``.

A :class:`SimulatedDevice` plays Alexa's part. Typed text is resolved to an intent and slots with
the generated interaction model (``coach_dev.nlu``), wrapped in a request envelope the way Alexa
builds one (new-session flag, session attributes carried between turns, stable user and device ids,
entity-resolution ids in the slots, the current timestamp, the locale), and sent either to the skill
in this process or over HTTP to a running webhook. Answers are printed as readable text: the speech
with pauses as "(3 s)", the card, the reprompt, and whether the session stays open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import ipaddress
import json
import logging
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from coach_dev import model as model_builder
from coach_dev import nlu
from coach_dev.alexa_response import SSMLError, output_text, response_problems
from coach_dev.nlu import Resolution
from skill.catalog.loader import default_catalog
from skill.settings import Settings

logger = logging.getLogger(__name__)

# Used when no skill id is configured: the shape of a real one, so the envelope is well-formed.
LOCAL_SKILL_ID = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"
API_ENDPOINT = "https://api.amazonalexa.com"
HTTP_TIMEOUT_SECONDS = 15.0
LAUNCH_WORDS = ("open", "launch")
NEW_SESSION_COMMAND = ":new"
END_SESSION_COMMAND = ":end"
TAP_COMMAND = ":tap"
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
QUIT_COMMANDS = (":quit", ":q", ":exit")
HELP_COMMANDS = (":help", ":?")
FALLBACK_INTENT = "AMAZON.FallbackIntent"

Clock = Callable[[], dt.datetime]


class ChatError(Exception):
    """Something the person at the terminal must fix (a bad URL, a webhook that is down, …)."""


def utc_now() -> dt.datetime:
    """The real clock. A request's timestamp is the one place the skill's "now" comes from, and a
    simulated device should stamp requests the way a real one does: with the current time."""
    return dt.datetime.now(dt.UTC)


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
    writes the committed interaction_models/*.json, whose drift ``make test`` checks), so it
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


# --------------------------------------------------------------------------------------------
# Transports: where envelopes go
# --------------------------------------------------------------------------------------------


class Transport(Protocol):
    description: str

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Deliver a request envelope; return the response envelope as JSON data."""
        ...


class InProcessTransport:
    """The skill built in this process, invoked through the SDK's own serializer, exactly as the
    webhook and the Lambda entry invoke it."""

    def __init__(self, skill: Any, description: str = "in-process") -> None:
        from ask_sdk_core.serialize import DefaultSerializer  # noqa: PLC0415

        self.skill = skill
        self.description = description
        self._serializer = DefaultSerializer()

    @classmethod
    def from_settings(cls, settings: Settings) -> InProcessTransport:
        from skill.builder import build_skill  # noqa: PLC0415
        from skill.stores import StoreURLError  # noqa: PLC0415

        try:
            skill = build_skill(settings=settings)
        except StoreURLError as exc:
            raise ChatError(str(exc)) from None
        except ImportError as exc:
            raise ChatError(f"the store '{settings.store_url}' cannot be opened: {exc}") from None
        return cls(skill, description=f"in-process, store {settings.store_url}")

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        from ask_sdk_model import RequestEnvelope  # noqa: PLC0415

        request = self._serializer.deserialize(json.dumps(envelope), RequestEnvelope)
        try:
            response = self.skill.invoke(request_envelope=request, context=None)
        except Exception as exc:
            logger.debug("the skill raised", exc_info=exc)
            raise ChatError(f"the skill failed: {type(exc).__name__}: {exc}") from None
        return self._serializer.serialize(response)


class HttpTransport:
    """POST to a running webhook, as Alexa does (without a signature: the webhook must be
    started with --no-verify)."""

    def __init__(self, url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChatError(f"--url '{url}' is not an http(s) URL; try http://127.0.0.1:5000/alexa")
        self.url = url
        self.timeout = timeout
        self.description = url
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parts.hostname) else []
        self._opener = urllib.request.build_opener(*handlers)

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as exc:
            reason = _http_reason(exc)
            hint = ""
            if "verification" in reason:
                # Only Alexa can sign requests; a local client needs a webhook that skips it.
                hint = "; to talk to it from here, start it with `rls-coach serve --no-verify`"
            raise ChatError(
                f"the skill at {self.url} answered HTTP {exc.code}: {reason}{hint}"
            ) from None
        except urllib.error.URLError as exc:
            raise ChatError(
                f"cannot reach the skill at {self.url}: {exc.reason}. "
                "Is `rls-coach serve` running there?"
            ) from None
        except TimeoutError:
            raise ChatError(
                f"the skill at {self.url} did not answer within {self.timeout:g} s"
            ) from None
        except OSError as exc:
            raise ChatError(f"talking to the skill at {self.url} failed: {exc}") from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ChatError(f"the skill at {self.url} did not answer with a JSON envelope")
        return body


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_reason(error: urllib.error.HTTPError) -> str:
    """The reason a webhook gave for refusing a request: its JSON error message, its text, or
    the status line."""
    try:
        raw = error.read().decode("utf-8", "replace")
    except OSError:
        raw = ""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("reason", "error", "message", "detail"):
            if isinstance(data.get(key), str) and data[key].strip():
                return data[key].strip()
    text = " ".join(raw.split())
    if text and not text.startswith("<"):
        return text[:300]
    return str(error.reason or "no reason given")


# --------------------------------------------------------------------------------------------
# The simulated device
# --------------------------------------------------------------------------------------------


@dataclass
class Exchange:
    """One request and the skill's response, with what the device understood the user to say."""

    request: dict[str, Any]
    response: dict[str, Any]
    heard: str | None = None  # the typed text, for an utterance
    matched: bool = True  # False: the words matched no sample, and Alexa sent its fallback

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

    def permission_answer(self, status: str) -> Exchange:
        """The user's answer to Alexa's own permission question (ACCEPTED, DENIED or
        NOT_ANSWERED), as the Connections.Response Alexa then sends the skill."""
        asked = next(
            (
                directive
                for exchange in reversed(self.exchanges)
                for directive in (exchange.response.get("response") or {}).get("directives") or []
                if directive.get("type") == "Connections.SendRequest"
            ),
            None,
        )
        if asked is None:
            raise ChatError("the skill has not asked for a permission")
        if status == "ACCEPTED":
            self.consent_token = "consent-granted-by-voice"
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
                # No apiAccessToken unless one is given: a simulated device has no Alexa
                # account, so the skill falls back to its configured time zone.
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
        try:
            body = self.transport.send(envelope)
        except ChatError:
            self._close_session()
            raise
        exchange = Exchange(envelope, body, heard=heard)
        self.exchanges.append(exchange)
        if exchange.ends_session:
            self._close_session()
        else:
            self.session_is_new = False
            self.session_attributes = dict(body.get("sessionAttributes") or {})
        return exchange

    def _close_session(self) -> None:
        self.session_id = None
        self.session_attributes = {}


# --------------------------------------------------------------------------------------------
# What the person typed
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One line of input: ``kind`` is launch, utterance, end, quit, help or empty."""

    kind: str
    text: str = ""


def interpret(line: str) -> Command:
    """Read a line as a chat command, or as words said to Alexa."""
    text = " ".join(line.split())
    lowered = text.lower()
    if not text:
        return Command("empty")
    if lowered in QUIT_COMMANDS:
        return Command("quit")
    if lowered in HELP_COMMANDS:
        return Command("help")
    if lowered == END_SESSION_COMMAND:
        return Command("end")
    if lowered.split()[0] == TAP_COMMAND:
        return Command("tap", " ".join(lowered.split()[1:]))
    # "open" and "launch" start the skill afresh, whatever follows them, except in the one-shot
    # form "open restless legs coach and …", which the model resolves.
    opens = lowered.split()[0] in LAUNCH_WORDS and " and " not in f" {lowered} "
    if lowered == NEW_SESSION_COMMAND or opens:
        return Command("launch")
    return Command("utterance", text)


# --------------------------------------------------------------------------------------------
# Showing the answer
# --------------------------------------------------------------------------------------------


def _describe_request(exchange: Exchange) -> str:
    request = exchange.request["request"]
    if exchange.request_type != "IntentRequest":
        return f"[{exchange.request_type}]"
    parts = [request["intent"]["name"]]
    for name, slot in sorted((request["intent"].get("slots") or {}).items()):
        if "value" not in slot:
            continue
        ids = [
            value["value"]["id"]
            for authority in (slot.get("resolutions") or {}).get("resolutionsPerAuthority", [])
            for value in authority.get("values") or []
        ]
        resolved = f" → {ids[0]}" if ids else ""
        parts.append(f'{name}="{slot["value"]}"{resolved}')
    return "[" + " ".join(parts) + "]"


def _readable(speech: dict[str, Any] | None) -> str:
    try:
        return output_text(speech)
    except SSMLError as exc:
        return f"(unreadable SSML: {exc}) {(speech or {}).get('ssml', '')}"


def render(exchange: Exchange) -> list[str]:
    """The lines a person reads for one exchange: what was understood, what Alexa says, the
    card, the reprompt, whether the session stays open, and any broken Alexa rule."""
    response = exchange.response.get("response") or {}
    lines = [f"  {_describe_request(exchange)}"]
    speech = _readable(response.get("outputSpeech"))
    lines.append(f"Alexa: {speech}" if speech else "Alexa: (says nothing)")
    card = response.get("card")
    if card:
        title = card.get("title") or ""
        body = " ".join(str(card.get("text") or card.get("content") or "").split())
        lines.append(f"  card: {title}" + (f" | {body}" if body else ""))
    reprompt = _readable((response.get("reprompt") or {}).get("outputSpeech"))
    if reprompt:
        lines.append(f"  reprompt: {reprompt}")
    lines.extend(_screen_lines(response))
    lines.append("  (session ends)" if exchange.ends_session else "  (session stays open)")
    lines.extend(f"  warning: {problem}" for problem in response_problems(exchange.response))
    return lines


def _screen_lines(response: dict[str, Any]) -> list[str]:
    """What an Echo Show would display: each document's words, buttons in brackets."""
    lines = []
    for directive in response.get("directives") or []:
        if directive.get("type") != "Alexa.Presentation.APL.RenderDocument":
            continue
        for screen, data in ((directive.get("datasources") or {}).get("payload") or {}).items():
            words: list[str] = []
            for key, value in data.items():
                if key == "buttons":
                    words.append(" ".join(f"[{button.get('label')}]" for button in value))
                elif isinstance(value, list):
                    words.extend(str(item) for item in value)
                elif isinstance(value, str) and value:
                    words.append(value)
            lines.append(f"  screen ({screen}): " + " | ".join(words))
    return lines


def _unmatched(text: str, model: InteractionModel, sent: Exchange | None) -> list[str]:
    what_happens = (
        f"so Alexa sends {FALLBACK_INTENT}"
        if sent is not None
        else "and with no session open, Alexa would not open the skill for it"
    )
    lines = [f'No intent in the interaction model matches "{text}", {what_happens}.']
    lines.append("Things to try:")
    lines += [f"  {suggestion}" for suggestion in model.suggestions()]
    lines.append("  and, during a routine: next · pause · resume · slow down · repeat · stop")
    return lines


CHAT_HELP = (
    'Type what you would say to Alexa. "open" (or "launch", ":new") starts a session; a phrase on\n'
    'its own starts one too, like "Alexa, ask restless legs coach to …". ":end" ends the session\n'
    'as if you walked away; ":tap next" (or repeat, pause) taps a button on a --screen device;\n'
    "Ctrl-D (or :quit) leaves."
)


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------


def connect(
    settings: Settings,
    url: str | None,
    locale: str,
    user: str,
    clock: Clock = utc_now,
    *,
    screen: bool = False,
) -> SimulatedDevice:
    """A device talking to the skill in this process, or to the webhook at ``url``; with
    ``screen``, an Echo Show."""
    model = load_model(locale)
    transport: Transport = HttpTransport(url) if url else InProcessTransport.from_settings(settings)
    if not user.strip():
        raise ChatError("--user needs a name")
    return SimulatedDevice(
        transport=transport,
        model=model,
        locale=locale,
        user=user.strip(),
        skill_id=settings.skill_id or LOCAL_SKILL_ID,
        clock=clock,
        screen=screen,
    )


def _quiet_logging(settings: Settings) -> None:
    """The transcript is the output; the skill's own INFO logs would bury it. Warnings and
    errors still reach stderr, and RLS_COACH_LOG_LEVEL=DEBUG shows everything."""
    level = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)


def _step(device: SimulatedDevice, command: Command) -> tuple[Exchange | None, bool]:
    """Carry out one input: the exchange (None when nothing was sent), and whether the words
    matched the model."""
    if command.kind == "launch":
        return device.launch(), True
    if command.kind == "end":
        device.end_session()
        return None, True
    if command.kind == "tap":
        return device.tap(command.text), True
    if command.kind == "utterance":
        exchange = device.say(command.text)
        return exchange, exchange is not None and exchange.matched
    return None, True


def _input_lines(stdin: TextIO, out: TextIO, prompt: str) -> Iterator[str]:
    """Lines typed at a terminal (with line editing), or piped in (echoed, so the transcript
    reads like a conversation)."""
    if stdin.isatty():
        # Importing readline gives input() line editing and history, where the platform has it.
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401, PLC0415
        while True:
            try:
                yield input(prompt)
            except EOFError:
                print(file=out)
                return
    else:
        for line in stdin:
            print(prompt + line.rstrip("\n"), file=out)
            yield line


def _stops_quietly_when_output_closes(command: Callable[..., int]) -> Callable[..., int]:
    """`rls-coach say … | head` closes the pipe early: stop there, as other command-line tools
    do, rather than with a BrokenPipeError traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> int:
        try:
            status = command(*args, **kwargs)
            sys.stdout.flush()  # here, not at interpreter exit, where the error can't be caught
            return status
        except BrokenPipeError:
            # Python's documented remedy: point stdout at devnull so the interpreter's final
            # flush at exit does not raise again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1

    return run


@_stops_quietly_when_output_closes
def run_chat(
    settings: Settings,
    url: str | None,
    locale: str,
    user: str,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    clock: Clock = utc_now,
    screen: bool = False,
) -> int:
    """An interactive conversation. Returns 0, or 1 if any turn could not be delivered."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    _quiet_logging(settings)
    try:
        device = connect(settings, url, locale, user, clock, screen=screen)
    except ChatError as exc:
        print(f"rls-coach chat: {exc}", file=sys.stderr)
        return 2
    print(f"Restless Legs Coach ({device.transport.description}, {locale}, user {user}).", file=out)
    print(CHAT_HELP, file=out)
    failed = False
    for line in _input_lines(stdin, out, "you> "):
        command = interpret(line)
        if command.kind == "quit":
            break
        if command.kind == "help":
            print(CHAT_HELP, file=out)
            continue
        try:
            exchange, matched = _step(device, command)
        except ChatError as exc:
            print(f"error: {exc}", file=out)
            failed = True
            continue
        if not matched:
            print("\n".join(_unmatched(command.text, device.model, exchange)), file=out)
        if exchange is not None:
            print("\n".join(render(exchange)), file=out)
        elif command.kind == "end":
            print("  (session ended)", file=out)
    try:
        device.end_session()
    except ChatError:
        failed = True
    return 1 if failed else 0


@_stops_quietly_when_output_closes
def run_say(
    settings: Settings,
    utterances: Sequence[str],
    url: str | None,
    locale: str,
    user: str,
    as_json: bool,
    *,
    out: TextIO | None = None,
    clock: Clock = utc_now,
    screen: bool = False,
) -> int:
    """Each utterance a turn of one session. Returns 0, 1 if a turn failed or matched nothing,
    2 if the device could not be set up."""
    out = out or sys.stdout
    _quiet_logging(settings)
    try:
        device = connect(settings, url, locale, user, clock, screen=screen)
    except ChatError as exc:
        print(f"rls-coach say: {exc}", file=sys.stderr)
        return 2
    status = 0
    for utterance in utterances:
        command = interpret(utterance)
        if not as_json:
            print(f"> {utterance}", file=out)
        try:
            exchange, matched = _step(device, command)
        except ChatError as exc:
            print(f"rls-coach say: {exc}", file=sys.stderr)
            return 1
        if not matched:
            status = 1
            # In the transcript where it happened; with --json, stdout is only the envelopes.
            notice = "\n".join(_unmatched(command.text, device.model, exchange))
            print(notice, file=sys.stderr if as_json else out)
        if exchange is not None and not as_json:
            print("\n".join(render(exchange)), file=out)
    if as_json:
        turns = [{"request": e.request, "response": e.response} for e in device.exchanges]
        print(json.dumps(turns, indent=2), file=out)
    return status
