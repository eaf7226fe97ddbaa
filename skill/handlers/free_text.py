"""Free words: whatever a person said that no named intent owns reaches the coach here as text
(the SayingIntent and AskingIntent carriers, "tell me about …"), and the coach judges it in the
order of :mod:`skill.understand`, safety first. Each step's answer is the one the named intent
would give: pain stops a routine as PainIntent does, a condition gets the doctor answer, an
activity gets its verdict for the time the words name.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.handlers.answers import (
    answer_about,
    can_i_answer,
    limit_answer,
    medication_answer,
    nothing_found,
)
from skill.handlers.care import PainHandler, SymptomsNowHandler
from skill.logsafe import clip
from skill.lookup import ACTIVITY
from skill.turn import Turn
from skill.understand import DOCTOR, SAFETY, SYMPTOMS, asks_limit, interpret, time_phrase_in

logger = logging.getLogger(__name__)

# The intents that carry free words, the slot each one carries them in, and the opening word
# its carrier phrase took from them, which the words need back ("why" + "do I get restless legs").
FREE_TEXT_SLOTS = {
    "SayingIntent": ("words", ""),
    "AskingIntent": ("words", ""),
    "WhyIntent": ("words", "why"),
    "WhatIntent": ("words", "what"),
    "HowIntent": ("words", "how"),
    "QuestionIntent": ("question", ""),
}


def free_words(intent: str, words: str | None) -> str | None:
    """The words as said: a carrier's opening word put back before what its slot held."""
    opening = FREE_TEXT_SLOTS.get(intent, ("", ""))[1]
    return f"{opening} {words}" if words and opening else words


def answer_words(handler_input: HandlerInput, words: str | None) -> Response:
    """The answer for free ``words``, from the first step of the order that claims them."""
    turn = Turn.of(handler_input)
    reading = interpret(turn.catalog, words)
    if reading is None:
        return nothing_found(turn, words)
    logger.info("free words answered by the %s step (heard '%s')", reading.step, reading.heard)
    if reading.step == SAFETY:
        return PainHandler().handle(handler_input)
    if reading.step == SYMPTOMS:
        return SymptomsNowHandler().handle(handler_input)
    if reading.step == DOCTOR and reading.topic is not None:
        asked = turn.intent_name != "SayingIntent"
        return medication_answer(turn, turn.catalog.tips[reading.topic], asked=asked)
    found = reading.found
    assert found is not None  # every other step names a catalog entry
    if found.kind == ACTIVITY:
        activity = turn.catalog.activities[found.id]
        if asks_limit(turn.catalog, words):
            return limit_answer(turn, activity)
        return can_i_answer(turn, activity, when=time_phrase_in(turn.catalog, words))
    return answer_about(turn, found)


class FreeTextHandler(AbstractRequestHandler):
    """ "My ankle is throbbing", "can I play tennis tonight", "what causes restless legs"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        intent = getattr(request, "intent", None)
        return getattr(intent, "name", None) in FREE_TEXT_SLOTS

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        slot, _ = FREE_TEXT_SLOTS[turn.intent_name or ""]
        words = free_words(turn.intent_name or "", turn.slot_value(slot))
        if words:
            logger.debug("free words: '%s'", clip(words))
        return answer_words(handler_input, words)


HANDLERS: list[AbstractRequestHandler] = [FreeTextHandler()]
