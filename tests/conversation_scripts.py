"""Conversation scripts (``tests/conversations/*.yaml``): loading, running, and checking answers.

A script is a list of turns. Each turn does one thing — ``say`` an utterance, ``launch`` the skill,
``end_session`` (the user walks away: Alexa sends SessionEndedRequest and the next turn opens a new
session), or ``wait`` (the clock moves on) — and may say what the answer must show:

    at: "2026-11-17 08:15"            # local time in the tests' zone (America/New_York)
    locale: en-IN                     # optional; the device's locale (default en-US)
    alexa_api:                        # optional: the Alexa APIs answer (a stand-in on 127.0.0.1)
      reminders_permission: granted   # or not_granted: the skill must ask for it by voice
    turns:
      - say: start my morning stretches
        intent: StartRoutineIntent    # what the utterance must resolve to
        contains: [calf stretch]      # every one of these, case-insensitive
        contains_any: [ready, begin]  # at least one of these (for varied wording)
        not_contains: [bedtime]       # none of these
        reprompt: [next]              # every one of these in the reprompt
        session: open                 # or: ends
        card: Morning stretches       # words in the card's title or text

A ``permission: accepted`` (or ``denied``) turn is the user's answer to Alexa's own question
for the reminders permission, which reaches the skill as a Connections.Response.

The answer is what a person hears, as text with pauses shown as "(3 s)". The same script runs
in-process and over HTTP with virtual-alexa; both produce :class:`Heard` answers checked here,
and every response is also checked against Alexa's response rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from coach_dev.alexa_response import output_text, response_problems

SCRIPT_DIR = Path(__file__).parent / "conversations"
SCRIPT_ZONE = ZoneInfo("America/New_York")
ACTIONS = ("say", "launch", "end_session", "wait", "permission")
PERMISSION_ANSWERS = {"accepted": "ACCEPTED", "denied": "DENIED"}


@dataclass(frozen=True)
class Turn:
    action: str  # one of ACTIONS
    text: str = ""
    wait: dt.timedelta = dt.timedelta(0)
    intent: str | None = None
    contains: tuple[str, ...] = ()
    contains_any: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    reprompt: tuple[str, ...] = ()
    session: str | None = None
    card: str | None = None

    @property
    def label(self) -> str:
        if self.action == "permission":
            return f"permission {self.text.lower()}"
        return f'say "{self.text}"' if self.action == "say" else self.action

    @property
    def expects_answer(self) -> bool:
        return bool(
            self.intent
            or self.contains
            or self.contains_any
            or self.not_contains
            or self.reprompt
            or self.session
            or self.card
        )


@dataclass(frozen=True)
class Script:
    name: str
    description: str
    start: dt.datetime  # aware, local
    turns: tuple[Turn, ...]
    locale: str = "en-US"
    # None: no Alexa API behind the device; else whether the reminders permission is granted
    # ("granted" or "not_granted") when the script starts.
    alexa_api: str | None = None

    def timeline(self) -> list[tuple[Turn, dt.datetime]]:
        """Each turn with the moment it happens: the clock starts at ``start``, each turn takes
        a few seconds, and ``wait`` turns move it on."""
        now = self.start
        out = []
        for turn in self.turns:
            now += turn.wait if turn.action == "wait" else dt.timedelta(seconds=5)
            out.append((turn, now))
        return out


class _WaitSchema(Schema):
    class Meta:
        unknown = RAISE

    hours = fields.Float(load_default=0, validate=validate.Range(min=0, max=24 * 14))
    minutes = fields.Float(load_default=0, validate=validate.Range(min=0, max=60 * 24))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> dt.timedelta:
        return dt.timedelta(hours=data["hours"], minutes=data["minutes"])


class _Utterance(fields.String):
    """Words to say. YAML reads an unquoted yes, no, on or off as a boolean: say so plainly."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise ValidationError(
                'YAML reads an unquoted yes/no/on/off as true/false; quote it: say: "yes"'
            )
        return super()._deserialize(value, attr, data, **kwargs)


def _phrases() -> fields.List:
    return fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)


class _TurnSchema(Schema):
    class Meta:
        unknown = RAISE

    say = _Utterance(validate=validate.Length(min=1))
    launch = fields.Boolean(validate=validate.Equal(True, error="write launch: true"))
    end_session = fields.Boolean(validate=validate.Equal(True, error="write end_session: true"))
    wait = fields.Nested(_WaitSchema)
    permission = fields.String(validate=validate.OneOf(tuple(PERMISSION_ANSWERS)))
    intent = fields.String(load_default=None)
    contains = _phrases()
    contains_any = _phrases()
    not_contains = _phrases()
    reprompt = _phrases()
    session = fields.String(load_default=None, validate=validate.OneOf(("open", "ends")))
    card = fields.String(load_default=None)

    @validates_schema
    def one_action(self, data: dict[str, Any], **_: Any) -> None:
        actions = [name for name in ACTIONS if name in data]
        if len(actions) != 1:
            raise ValidationError(f"a turn does exactly one of {', '.join(ACTIONS)}", "_schema")
        if data.get("intent") and "say" not in data:
            raise ValidationError("only a say turn resolves to an intent", "intent")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Turn:
        action = next(name for name in ACTIONS if name in data)
        text = data.get("say", "")
        if action == "permission":
            text = PERMISSION_ANSWERS[data["permission"]]
        return Turn(
            action=action,
            text=text,
            wait=data.get("wait", dt.timedelta(0)),
            intent=data["intent"],
            contains=tuple(data["contains"]),
            contains_any=tuple(data["contains_any"]),
            not_contains=tuple(data["not_contains"]),
            reprompt=tuple(data["reprompt"]),
            session=data["session"],
            card=data["card"],
        )


class _AlexaApiSchema(Schema):
    class Meta:
        unknown = RAISE

    reminders_permission = fields.String(
        required=True, validate=validate.OneOf(("granted", "not_granted"))
    )


class _ScriptSchema(Schema):
    class Meta:
        unknown = RAISE

    description = fields.String(required=True, validate=validate.Length(min=3))
    at = fields.String(required=True)
    locale = fields.String(
        load_default="en-US",
        validate=validate.OneOf(("en-US", "en-GB", "en-CA", "en-AU", "en-IN")),
    )
    turns = fields.List(fields.Nested(_TurnSchema), required=True, validate=validate.Length(min=1))
    alexa_api = fields.Nested(_AlexaApiSchema, load_default=None)

    @validates_schema
    def local_time(self, data: dict[str, Any], **_: Any) -> None:
        try:
            dt.datetime.strptime(data.get("at", ""), "%Y-%m-%d %H:%M")
        except ValueError:
            raise ValidationError('must be a local time like "2026-11-17 08:15"', "at") from None


def load_script(path: Path) -> Script:
    """A script file, or ValueError naming the file and every problem in it."""
    try:
        data = _ScriptSchema().load(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        raise ValueError(f"{path.name}: {exc.messages}") from None
    start = dt.datetime.strptime(data["at"], "%Y-%m-%d %H:%M").replace(tzinfo=SCRIPT_ZONE)
    api = data["alexa_api"]
    return Script(
        path.stem,
        data["description"],
        start,
        tuple(data["turns"]),
        data["locale"],
        api["reminders_permission"] if api else None,
    )


def script_paths() -> list[Path]:
    return sorted(SCRIPT_DIR.glob("*.yaml"))


# --------------------------------------------------------------------------------------------
# Checking answers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    """One turn's request and response envelopes (None when the turn sent nothing)."""

    turn: Turn
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def intent(self) -> str | None:
        intent = ((self.request or {}).get("request") or {}).get("intent")
        return intent.get("name") if intent else None

    @property
    def text(self) -> str:
        return output_text(((self.response or {}).get("response") or {}).get("outputSpeech"))

    @property
    def reprompt_text(self) -> str:
        reprompt = ((self.response or {}).get("response") or {}).get("reprompt") or {}
        return output_text(reprompt.get("outputSpeech"))

    @property
    def session_open(self) -> bool:
        return ((self.response or {}).get("response") or {}).get("shouldEndSession") is False

    @property
    def card_words(self) -> str:
        card = ((self.response or {}).get("response") or {}).get("card") or {}
        return " ".join(str(card.get(k) or "") for k in ("title", "text", "content"))


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").lower().split())


def check(heard: Heard) -> list[str]:
    """Every way an answer differs from what its turn expects, or breaks Alexa's rules."""
    turn = heard.turn
    problems: list[str] = []
    if heard.response is not None:
        problems += [f"Alexa rule: {p}" for p in response_problems(heard.response)]
    if not turn.expects_answer:
        return problems
    if heard.response is None:
        return [*problems, "no answer was sent for this turn"]
    text, reprompt = _norm(heard.text), _norm(heard.reprompt_text)
    if turn.intent and heard.intent != turn.intent:
        problems.append(f"resolved to {heard.intent}, expected {turn.intent}")
    problems += [f"does not say '{w}'" for w in turn.contains if _norm(w) not in text]
    if turn.contains_any and not any(_norm(w) in text for w in turn.contains_any):
        problems.append(f"says none of {list(turn.contains_any)}")
    problems += [f"should not say '{w}'" for w in turn.not_contains if _norm(w) in text]
    problems += [f"reprompt lacks '{w}'" for w in turn.reprompt if _norm(w) not in reprompt]
    if turn.session == "open" and not heard.session_open:
        problems.append("the session ends, expected it to stay open")
    if turn.session == "ends" and heard.session_open:
        problems.append("the session stays open, expected it to end")
    if turn.card and _norm(turn.card) not in _norm(heard.card_words):
        problems.append(f"the card does not mention '{turn.card}'")
    return problems


def report(script: Script, heard: list[Heard]) -> str:
    """Every failed expectation with the whole conversation, for a readable test failure."""
    lines = [f"{script.name}: {script.description}"]
    failed = False
    for number, answer in enumerate(heard, 1):
        problems = check(answer)
        failed = failed or bool(problems)
        lines.append(
            f"{number:>2}. {answer.turn.label}" + (f" → {answer.intent}" if answer.intent else "")
        )
        if answer.response is not None and answer.turn.action != "end_session":
            lines.append(f"      heard: {answer.text}")
            if answer.reprompt_text:
                lines.append(f"      reprompt: {answer.reprompt_text}")
        lines.extend(f"      note: {note}" for note in answer.notes)
        lines.extend(f"      FAIL: {problem}" for problem in problems)
    return "\n".join(lines) if failed else ""
