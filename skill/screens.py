"""What an Echo Show displays: APL documents from the content, filled from the turn.

The documents (``content/screens/*.json``) are data: layout only, every word bound to the
datasource. The datasource is built here from the catalog and the coach's own speech strings, so
the screen says what the voice says. A device without ``Alexa.Presentation.APL`` in its
supported interfaces is sent no document at all.

Touch comes back as an ``Alexa.Presentation.APL.UserEvent`` whose argument names the spoken word
the button stands for; :class:`TouchInterceptor` turns it into that word's intent before any
handler is chosen, so a tap and the word take the very same path.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Intent, IntentConfirmationStatus, IntentRequest
from ask_sdk_model.interfaces.alexa.presentation.apl import RenderDocumentDirective, UserEvent

from skill.catalog.model import CONTENT_DIR

logger = logging.getLogger(__name__)

SCREENS_DIR = CONTENT_DIR / "screens"
DOCUMENTS = ("step", "answer")
TOKEN_PREFIX = "rls-coach-"
# The one document with buttons: a tap is acted on only when it names this token.
BUTTONS_TOKEN = TOKEN_PREFIX + "step"
# A button sends one argument; an event with more than a few is not one of ours.
MAX_EVENT_ARGUMENTS = 4
# A button's event argument → the intent a user saying that word sends.
BUTTON_INTENTS = {
    "next": "AMAZON.NextIntent",
    "repeat": "AMAZON.RepeatIntent",
    "pause": "AMAZON.PauseIntent",
}


# The documents are content, read when the skill is loaded like the rest of it (two small
# files), not on every response that draws a screen.
_DOCUMENTS = {
    name: json.loads((SCREENS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    for name in DOCUMENTS
}


def document(name: str) -> dict[str, Any]:
    """An APL document from the content."""
    return _DOCUMENTS[name]


@dataclass(frozen=True, slots=True)
class Screen:
    """A document and the payload it shows: ``step`` (a guided set) or ``answer``."""

    document: str
    payload: dict[str, Any] = field(default_factory=dict)

    def datasources(self) -> dict[str, Any]:
        return {"payload": {self.document: self.payload}}

    def directive(self) -> RenderDocumentDirective:
        return RenderDocumentDirective(
            token=TOKEN_PREFIX + self.document,
            document=document(self.document),
            datasources=self.datasources(),
        )

    def to_json(self) -> list[Any]:
        return [self.document, self.payload]

    @classmethod
    def from_json(cls, value: Any) -> Screen | None:
        """A screen kept in the session (for "repeat"), or None if it is not one."""
        if (
            isinstance(value, list)
            and len(value) == 2
            and value[0] in DOCUMENTS
            and isinstance(value[1], dict)
        ):
            return cls(value[0], value[1])
        return None


def answer_screen(headline: str, text: str, *, safety: bool = False) -> Screen:
    """A headline and the answer's key sentence; ``safety`` marks the stop-and-rest answer."""
    return Screen("answer", {"headline": headline, "text": text, "safety": safety})


def step_screen(
    *,
    title: str,
    side: str,
    lines: list[str],
    set_text: str,
    progress: str,
    buttons: list[tuple[str, str]],
) -> Screen:
    """A guided set: ``buttons`` are (label, event) pairs, the event a key of BUTTON_INTENTS."""
    return Screen(
        "step",
        {
            "title": title,
            "side": side,
            "lines": lines,
            "set": set_text,
            "progress": progress,
            "buttons": [{"label": label, "event": event} for label, event in buttons],
        },
    )


def supports_apl(handler_input: HandlerInput) -> bool:
    """Whether the device can show APL (an Echo Show, a Fire TV), by its supported interfaces."""
    context = handler_input.request_envelope.context
    system = getattr(context, "system", None)
    device = getattr(system, "device", None)
    interfaces = getattr(device, "supported_interfaces", None)
    return getattr(interfaces, "alexa_presentation_apl", None) is not None


class TouchInterceptor(AbstractRequestInterceptor):
    """A tapped button becomes the intent of the word it stands for ("next" → NextIntent),
    before any handler is chosen. An event the coach did not send is left alone (and answered
    with an empty response by the catch-all): one from another document's token, from a device
    that shows no screen, with more arguments than a button sends, or naming no button."""

    def process(self, handler_input: HandlerInput) -> None:
        request = handler_input.request_envelope.request
        if not isinstance(request, UserEvent):
            return
        arguments = request.arguments if isinstance(request.arguments, list) else []
        intent_name = (
            BUTTON_INTENTS.get(arguments[0])
            if arguments and isinstance(arguments[0], str)
            else None
        )
        if request.token != BUTTONS_TOKEN or not supports_apl(handler_input):
            logger.info(
                "ignoring a screen event from %.80r, not this skill's screen", request.token
            )
            return
        if intent_name is None or len(arguments) > MAX_EVENT_ARGUMENTS:
            logger.info(
                "ignoring a screen event the coach did not send: %d argument(s), %.80r",
                len(arguments),
                arguments[:MAX_EVENT_ARGUMENTS],
            )
            return
        handler_input.request_envelope.request = IntentRequest(
            request_id=request.request_id,
            timestamp=request.timestamp,
            locale=request.locale,
            intent=Intent(
                name=intent_name, confirmation_status=IntentConfirmationStatus.NONE, slots={}
            ),
        )
