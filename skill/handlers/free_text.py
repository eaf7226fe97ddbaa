"""Free words: whatever a person said that no named intent owns reaches the coach here as text
(the SayingIntent and AskingIntent carriers, "tell me about …"), and the coach judges it in the
order of :mod:`skill.understand`, safety first. Each step's answer is the one the named intent
would give: pain stops a routine as PainIntent does, a condition gets the doctor answer, an
activity gets its verdict for the time the words name.

Also here: two requests in one sentence ("start my stretches then tell me a tip"), whichever
intent caught them, are split; the first is done and the second offered (yes answers it); and a
bedtime said with no clock time in it ("in the evening") is read as the free words it is.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response
from ask_sdk_model.ui import SsmlOutputSpeech

from skill.advice import read_clock
from skill.handlers.answers import (
    LAST_ACTIVITY_KEY,
    answer_about,
    can_i_answer,
    limit_answer,
    medication_answer,
    next_general_tip,
    nothing_found,
)
from skill.handlers.aside import THEN_KEY, THEN_OFFER
from skill.handlers.bedtime import bedtime_unclear
from skill.handlers.care import PainHandler, SymptomsNowHandler
from skill.handlers.choices import ask_to_leave_out
from skill.handlers.exercises import about_this_exercise
from skill.handlers.guiding import guiding, routine_for_now
from skill.handlers.routine import start_guided_exercise, start_routine
from skill.handlers.speaking import offer_kind_is
from skill.handlers.tips import give_tip
from skill.logsafe import clip
from skill.lookup import ACTIVITY, EXERCISE, ROUTINE, TIP, Found, find, lookup_for
from skill.reminder_words import read_clock_words
from skill.speech import Speech
from skill.turn import Turn
from skill.understand import (
    DOCTOR,
    LEAVE_OUT,
    SAFETY,
    START,
    SYMPTOMS,
    THIS_EXERCISE,
    Reading,
    TwoRequests,
    asks_limit,
    interpret,
    names_the_stretches,
    time_phrase_in,
    two_requests,
)

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
# Named intents whose slot may catch two requests ("start my {stretches then tell me a tip}"):
# the slot, and the kind of catalog entry the first request names.
REQUEST_SLOTS = {
    "StartRoutineIntent": ("routine", ROUTINE),
    "GuideExerciseIntent": ("exercise", EXERCISE),
    "ExplainExerciseIntent": ("exercise", EXERCISE),
    "CanIDoIntent": ("activity", ACTIVITY),
    "ActivityLimitIntent": ("activity", ACTIVITY),
    "TipIntent": ("topic", TIP),
}
BEDTIME_SLOT = ("SetBedtimeIntent", "bedtime")


def free_words(intent: str, words: str | None) -> str | None:
    """The words as said: a carrier's opening word put back before what its slot held."""
    opening = FREE_TEXT_SLOTS.get(intent, ("", ""))[1]
    return f"{opening} {words}" if words and opening else words


def answer_words(handler_input: HandlerInput, words: str | None) -> Response:
    """The answer for free ``words``, from the first step of the order that claims them; of two
    requests, the first, with the second offered."""
    turn = Turn.of(handler_input)
    in_routine = guiding(turn)
    reading = interpret(turn.catalog, words, guiding=in_routine)
    if reading is not None and reading.step != SAFETY and not in_routine:
        split = two_requests(turn.catalog, words)
        first = interpret(turn.catalog, split.first) if split else None
        if split is not None and first is not None:
            wait_for(turn, split)
            words, reading = split.first, first
    try:
        return _answer(handler_input, turn, words, reading)
    finally:
        turn.session.pop(THEN_KEY, None)  # offered by the answer's close, or not at all


def _answer(
    handler_input: HandlerInput, turn: Turn, words: str | None, reading: Reading | None
) -> Response:
    if reading is None:
        # "What about tonight?" straight after a "can I …?": that activity at that time.
        when = time_phrase_in(turn.catalog, words)
        last = turn.catalog.activities.get(str(turn.session.get(LAST_ACTIVITY_KEY)))
        if when is not None and last is not None:
            return can_i_answer(turn, last, when=when)
        return nothing_found(turn, words)
    logger.info("free words answered by the %s step (heard '%s')", reading.step, reading.heard)
    if reading.step == SAFETY:
        return PainHandler().handle(handler_input)
    if reading.step == SYMPTOMS:
        return SymptomsNowHandler().handle(handler_input)
    if reading.step == THIS_EXERCISE:
        return about_this_exercise(turn)
    if reading.step == START:
        return _start_then_offer(turn, reading.found, _waiting(turn))
    if reading.step == LEAVE_OUT and reading.found is not None:
        return ask_to_leave_out(turn, [turn.catalog.exercises[reading.found.id]])
    if reading.step == DOCTOR and reading.topic is not None:
        asked = turn.intent_name != "SayingIntent"
        return medication_answer(turn, turn.catalog.tips[reading.topic], asked=asked)
    found = reading.found
    if found is None:  # "give me a tip": the next one not heard
        topic, point = next_general_tip(turn)
        return give_tip(turn, topic, point)
    if found.kind == ACTIVITY:
        activity = turn.catalog.activities[found.id]
        if asks_limit(turn.catalog, words):
            return limit_answer(turn, activity)
        return can_i_answer(turn, activity, when=time_phrase_in(turn.catalog, words))
    return answer_about(turn, found)


def wait_for(turn: Turn, split: TwoRequests) -> None:
    """Keep the second request for this turn's answer to offer (by the catalog's name for it,
    never the words as said)."""
    name = entry_name(turn, split.second_reading, split.second)
    turn.session[THEN_KEY] = {"words": split.second, "name": name}


def entry_name(turn: Turn, reading: Reading, words: str = "") -> str:
    """What a reading of ``words`` is about, in the catalog's words ("cycling tonight", "the
    bridge", "a tip"), never the words as said."""
    found = reading.found
    catalog = turn.catalog
    if reading.step == START and (found is None or found.kind == ROUTINE):
        routine = catalog.routines.get(found.id if found else routine_for_now(turn))
        return turn.phrase("answers.then_start", routine=routine.name if routine else "")
    if found is None or (found.kind == TIP and found.id not in catalog.tips):
        return turn.phrase("answers.then_a_tip")
    if found.kind == ACTIVITY:
        name = catalog.activities[found.id].name
        when = time_phrase_in(catalog, words)
        return f"{name} {catalog.time_phrases[when].name}" if when else name
    if found.kind == TIP:
        return catalog.tips[found.id].name
    if found.kind == EXERCISE:
        return turn.phrase("answers.the_exercise", name=catalog.exercises[found.id].name)
    if found.kind == ROUTINE:
        return catalog.routines[found.id].name
    return found.phrase


class FreeTextHandler(AbstractRequestHandler):
    """ "My ankle is throbbing", "can I play tennis tonight", "what causes restless legs"; and a
    bedtime with no clock time in it ("I'm in bed in the evening")."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        request = handler_input.request_envelope.request
        intent = getattr(request, "intent", None)
        name = getattr(intent, "name", None)
        if name == BEDTIME_SLOT[0]:
            slot = (getattr(intent, "slots", None) or {}).get(BEDTIME_SLOT[1])
            value = getattr(slot, "value", None)
            # Words that hold a clock time in any form ("22:30", "half ten") are a bedtime.
            return read_clock(value) is None and read_clock_words(value) is None
        return name in FREE_TEXT_SLOTS

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.intent_name == BEDTIME_SLOT[0]:
            words = turn.slot_value(BEDTIME_SLOT[1])
            if interpret(turn.catalog, words) is None:
                return bedtime_unclear(turn)
            return answer_words(handler_input, words)
        slot, _ = FREE_TEXT_SLOTS[turn.intent_name or ""]
        words = free_words(turn.intent_name or "", turn.slot_value(slot))
        if words:
            logger.debug("free words: '%s'", clip(words))
        return answer_words(handler_input, words)


class SlotWordsHandler(AbstractRequestHandler):
    """Words a named intent's slot caught that are no value of it: "start my {stretches then
    tell me a tip}", "how do I do {a bridge and can I do it tonight}" (do the first, offer the
    second), or "I'd like to start my {routine}" (the routine for the time of day). Never the
    words back as a routine's or an exercise's name."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        turn = Turn.of(handler_input)
        slot_kind = REQUEST_SLOTS.get(turn.intent_name or "")
        if slot_kind is None or guiding(turn) or turn.slot_id(slot_kind[0]) is not None:
            return False
        words = turn.slot_value(slot_kind[0])
        if two_requests(turn.catalog, words) is not None:
            return True
        return slot_kind[1] == ROUTINE and names_the_stretches(turn.catalog, words)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        slot, kind = REQUEST_SLOTS[turn.intent_name or ""]
        split = two_requests(turn.catalog, turn.slot_value(slot))
        if split is None:  # "my routine", "the exercises": the routine for the time of day
            return _start_then_offer(turn, None)
        found = lookup_for(turn.catalog).value(split.first, kind) or find(
            turn.catalog, split.first, prefer=(kind,)
        )
        if kind in (ROUTINE, EXERCISE) and turn.intent_name != "ExplainExerciseIntent":
            return _start_then_offer(turn, found, split)
        if found is None:
            return answer_words(handler_input, split.first)
        wait_for(turn, split)
        try:
            return answer_about(turn, found, limit=turn.intent_name == "ActivityLimitIntent")
        finally:
            turn.session.pop(THEN_KEY, None)


def _waiting(turn: Turn) -> TwoRequests | None:
    """The second request this turn's words held, kept by :func:`wait_for`, if any."""
    then = turn.session.get(THEN_KEY)
    if not isinstance(then, dict) or not then.get("words"):
        return None
    reading = interpret(turn.catalog, str(then["words"]))
    return TwoRequests("", str(then["words"]), reading) if reading is not None else None


def _start_then_offer(
    turn: Turn, found: Found | None, split: TwoRequests | None = None
) -> Response:
    """Start the routine (or exercise) the first request names, the one for the time of day if
    it names none, and end its first set with the offer of the second request, if any."""
    if found is not None and found.kind == EXERCISE:
        response = start_guided_exercise(turn, found.id)
    else:
        routine_id = found.id if found is not None and found.kind == ROUTINE else None
        response = start_routine(turn, routine_id or routine_for_now(turn))
    if split is None or not guiding(turn) or turn.offer is not None:
        return response  # not started (a bedtime or pain check asks first): that question stands
    name = entry_name(turn, split.second_reading, split.second)
    offer = Speech().say(turn.phrase("answers.then_offer_in_routine", name=name))
    turn.make_offer(THEN_OFFER, words=split.second)
    return _said_after(response, offer)


def _said_after(response: Response, more: Speech) -> Response:
    """The response with ``more`` said at the end of its speech and its reprompt."""
    inner = more.ssml().removeprefix("<speak>").removesuffix("</speak>")
    for speech in (response.output_speech, getattr(response.reprompt, "output_speech", None)):
        if not isinstance(speech, SsmlOutputSpeech) or not speech.ssml:
            continue
        if speech.ssml.endswith("</speak>"):
            speech.ssml = f"{speech.ssml.removesuffix('</speak>')} {inner}</speak>"
    return response


class ThenYesHandler(AbstractRequestHandler):
    """ "Yes" to the offer of the second of two requests: its answer (mid-routine, an aside)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and offer_kind_is(
            handler_input, THEN_OFFER
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        words = str((turn.offer or {}).get("words") or "")
        return answer_words(handler_input, words)


HANDLERS: list[AbstractRequestHandler] = [
    ThenYesHandler(),
    FreeTextHandler(),
    SlotWordsHandler(),
]
