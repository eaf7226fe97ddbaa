"""The turns the benchmarks send: the coach's realistic mix, and the hello-world equivalent.

Envelopes come from the test suite's builder (real Alexa shapes). A :class:`Session` carries the
session attributes from each answer into the next request, as Alexa does, so "next" really is
"next" inside a routine, and the peer finds the time zone it asked for on the session's first turn.
Every user has a device of their own, and the benchmark's requests carry an API token and endpoint,
as real ones do: the skills may ask the Settings API (a stand-in on loopback) for the time zone.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.hello_skill import HELLO_INTENT
from tests.support import envelope, intent_request, launch_request, slot_json

RequestFactory = Callable[[dt.datetime], dict[str, Any]]


def _intent(name: str, **slots: tuple[str, str]) -> RequestFactory:
    def make(now: dt.datetime) -> dict[str, Any]:
        slot_map = {key: slot_json(key, words, slot_id) for key, (words, slot_id) in slots.items()}
        return intent_request(name, now, slot_map)

    return make


@dataclass(frozen=True)
class TurnSpec:
    label: str
    make: RequestFactory
    opens_session: bool = False  # a launch always starts a new session


# The five turns the issue names, in the order a user would say them.
MEASURED_TURNS: tuple[TurnSpec, ...] = (
    TurnSpec("launch", launch_request, opens_session=True),
    TurnSpec(
        "start routine",
        _intent("StartRoutineIntent", routine=("morning stretches", "morning_stretches")),
    ),
    TurnSpec("next", _intent("AMAZON.NextIntent")),
    TurnSpec(
        "can-I question",
        _intent("CanIDoIntent", activity=("swim", "swimming"), when=("tonight", "tonight")),
    ),
    TurnSpec("bedtime tips", _intent("TipIntent", topic=("bedtime", "bedtime"))),
)

# A whole visit, for load and for the Lambda: open, start, step through, ask, get a tip, leave.
LOAD_VISIT: tuple[TurnSpec, ...] = (
    MEASURED_TURNS[0],
    MEASURED_TURNS[1],
    MEASURED_TURNS[2],
    MEASURED_TURNS[2],
    MEASURED_TURNS[2],
    MEASURED_TURNS[3],
    MEASURED_TURNS[4],
    TurnSpec("stop", _intent("AMAZON.StopIntent")),
)


def hello_equivalent(turns: Sequence[TurnSpec]) -> tuple[TurnSpec, ...]:
    """The hello world knows a launch and one intent: each of our intents becomes that intent."""
    return tuple(
        turn if turn.opens_session else TurnSpec(turn.label, _intent(HELLO_INTENT))
        for turn in turns
    )


@dataclass
class Session:
    """One user's conversation: builds each request from the previous answer.

    ``follows_answers``: the coach's session ends when its answer says so. The hello world ends
    the session after every hello, so for it (``False``) a visit stays one session from its
    launch to its last turn, as the coach's does: the peer then asks for the time zone once per
    visit, as the coach's users would make it.
    """

    user_id: str
    api_endpoint: str = "https://api.amazonalexa.com"
    api_token: str | None = None  # None: the skill cannot call Alexa's APIs
    follows_answers: bool = True
    number: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    open: bool = False

    @property
    def device_id(self) -> str:
        return self.user_id.replace("amzn1.ask.account.", "amzn1.ask.device.")

    def body(self, turn: TurnSpec, now: dt.datetime) -> bytes:
        return json.dumps(self.event(turn, now)).encode()

    def event(self, turn: TurnSpec, now: dt.datetime) -> dict[str, Any]:
        if turn.opens_session or not self.open:
            self.open = False
            self.number += 1
            self.attributes = {}
        return envelope(
            turn.make(now),
            user_id=self.user_id,
            device_id=self.device_id,
            session_attributes=self.attributes,
            new_session=not self.open,
            session_id=f"amzn1.echo-api.session.{self.user_id}.{self.number}",
            api_endpoint=self.api_endpoint,
            api_access_token=self.api_token,
        )

    def heard(self, response_body: bytes) -> None:
        answer = json.loads(response_body)
        self.attributes = answer.get("sessionAttributes") or {}
        ended = (answer.get("response") or {}).get("shouldEndSession", False)
        self.open = not ended if self.follows_answers else True
