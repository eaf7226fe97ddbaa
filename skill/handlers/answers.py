"""Answers: which words get which answer. The named intents for exercises, activities, tips and
medicines, and :func:`answer_about`, the catalog's answer about whatever entry some words named,
whichever intent caught them. The answers themselves are in :mod:`skill.handlers.exercises`,
:mod:`~skill.handlers.activities`, :mod:`~skill.handlers.tips` and :mod:`~skill.handlers.bedtime`;
every answer closes in one place, :func:`skill.handlers.aside.answered`.

``can_handle`` reads only the request and the session's pending offer, never storage or the
network. The helpers other modules import from here are re-exported below.
"""

from __future__ import annotations

import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.coach.exercise_speech import number_words
from skill.handlers.activities import (
    LAST_ACTIVITY_KEY,
    allowed_activities,
    can_i_answer,
    limit_answer,
    named_condition,
    verdict_speech,
)
from skill.handlers.aside import answered
from skill.handlers.bedtime import (
    BEDTIME_CHECK_OFFER,
    BedtimeCheckHandler,
    BedtimeQueryHandler,
    SetBedtimeHandler,
    confirm_bedtime,
)
from skill.handlers.exercises import (
    EXAMPLES_TO_NAME,
    ListExercisesHandler,
    ListRoutinesHandler,
    describe_exercise,
    example_exercises,
    exercise_examples_words,
    explain_exercise,
)
from skill.handlers.guiding import composer, guiding, lost_place, player
from skill.handlers.speaking import (
    anything_else,
    best_times_words,
    clock_words,
    local_units,
    offer_kind_is,
    pending_offer,
    short_list,
    spoken_list,
    user_bedtime,
)
from skill.handlers.tips import (
    MEDICATION_TOPIC,
    DeclineOfferHandler,
    TipYesHandler,
    give_tip,
    medication_answer,
    next_general_tip,
)
from skill.logsafe import clip
from skill.lookup import ACTIVITY, EXERCISE, MEDICINE, ROUTINE, TIP, Found, find
from skill.speech import Speech
from skill.turn import Turn

logger = logging.getLogger(__name__)

__all__ = [
    "BEDTIME_CHECK_OFFER",
    "LAST_ACTIVITY_KEY",
    "MEDICATION_TOPIC",
    "allowed_activities",
    "answer_about",
    "answered",
    "anything_else",
    "best_times_words",
    "can_i_answer",
    "clock_words",
    "confirm_bedtime",
    "describe_exercise",
    "example_exercises",
    "explain_exercise",
    "give_tip",
    "limit_answer",
    "local_units",
    "medication_answer",
    "next_general_tip",
    "nothing_found",
    "offer_kind_is",
    "pending_offer",
    "short_list",
    "spoken_list",
    "user_bedtime",
    "verdict_speech",
]


# --------------------------------------------------------------------------------------------
# Words that named no exercise, no activity: whatever else the catalog knows about them
# --------------------------------------------------------------------------------------------


def unknown_exercise(turn: Turn) -> Response:
    """No exercise resolved: the entry the words are about, if the catalog has one (an activity,
    a tip, a medicine's doctor answer), else which exercises the coach can explain."""
    words = turn.slot_value("exercise")
    if found := find(turn.catalog, words, prefer=(EXERCISE,)):
        logger.debug("no exercise, but the words '%s' name %s", clip(words), found.id)
        return answer_about(turn, found)
    if words:
        logger.info("asked about an exercise the catalog does not have: '%s'", clip(words))
    examples = exercise_examples_words(turn)
    speech = Speech().say(turn.phrase("answers.which_exercise", examples=examples))
    reprompt = turn.phrase("answers.exercise_reprompt", example=example_exercises(turn)[0].name)
    return turn.respond(speech, Speech().say(reprompt))


class ExplainExerciseHandler(AbstractRequestHandler):
    """ "How do I do a bridge?": a short description, then an offer to walk them through it."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ExplainExerciseIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        exercise = turn.catalog.exercises.get(turn.slot_id("exercise") or "")
        if exercise is None:
            return unknown_exercise(turn)
        return explain_exercise(turn, exercise)


def unknown_activity(turn: Turn, *, limit: bool = False) -> Response:
    """No activity resolved: the entry the words are about, if the catalog has one, else which
    activities the coach can advise on. ``limit``: the question was "how fast/far/much"."""
    words = turn.slot_value("activity")
    if found := find(turn.catalog, words, prefer=(ACTIVITY,)):
        logger.debug("no activity slot value, but the words '%s' name %s", clip(words), found.id)
        return answer_about(turn, found, limit=limit)
    if words:
        logger.info("asked about an activity the catalog does not have: '%s'", clip(words))
    known = allowed_activities(turn)
    examples = spoken_list(turn, [a.name for a in known[:EXAMPLES_TO_NAME]], "or")
    speech = Speech().say(turn.phrase("answers.which_activity", examples=examples))
    reprompt = turn.phrase("answers.activity_reprompt", example=known[0].name)
    return turn.respond(speech, Speech().say(reprompt))


class CanIDoHandler(AbstractRequestHandler):
    """ "Can I swim tonight?": a verdict for the activity at that time, given the user's bedtime."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("CanIDoIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if (sensitive := named_condition(turn)) is not None:
            return answer_about(turn, sensitive)  # "can I swim with a bad knee": the doctor
        activity = turn.catalog.activities.get(turn.slot_id("activity") or "")
        if activity is None:
            return unknown_activity(turn)
        return can_i_answer(turn, activity)


class ActivityLimitHandler(AbstractRequestHandler):
    """ "How fast should I cycle?": the activity's limit (below 10 mph), and when it works best."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ActivityLimitIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if (sensitive := named_condition(turn)) is not None:
            return answer_about(turn, sensitive)
        activity = turn.catalog.activities.get(turn.slot_id("activity") or "")
        if activity is None and turn.slot_value("activity") is None:
            # "How fast?" straight after an answer about cycling: about cycling.
            activity = turn.catalog.activities.get(str(turn.session.get(LAST_ACTIVITY_KEY)))
        if activity is None:
            return unknown_activity(turn, limit=True)
        return limit_answer(turn, activity)


class TipHandler(AbstractRequestHandler):
    """ "Give me bedtime tips", "what about cold packs", "give me a tip"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("TipIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        topic = turn.catalog.tips.get(turn.slot_id("topic") or "")
        if topic is not None and topic.sensitive:
            return medication_answer(turn, topic)
        if topic is not None:
            return give_tip(turn, topic)
        words = turn.slot_value("topic")
        if found := find(turn.catalog, words, prefer=(TIP,)):
            return answer_about(turn, found)
        prefix = None
        if words:
            logger.info("asked for a tip on a topic the catalog does not have: '%s'", clip(words))
            prefix = turn.phrase("answers.tip_unknown_topic")
        general, point = next_general_tip(turn)
        return give_tip(turn, general, point, prefix=prefix)


class MedicationHandler(AbstractRequestHandler):
    """ "Should I take my medication?" / "can you diagnose me?": only ever "ask your doctor"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("MedicationIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        medicine = turn.catalog.medicines.get(turn.slot_id("medicine") or "")
        if medicine is None:
            # "Can I have a soda" is caught here too: words the catalog has another answer for
            # get that answer. Anything else asked about taking stays with the doctor.
            found = find(turn.catalog, turn.slot_value("medicine"), prefer=(MEDICINE,))
            if found is not None and not (found.kind == TIP and found.id == MEDICATION_TOPIC):
                return answer_about(turn, found)
        return medication_answer(turn, medicine=medicine)


# --------------------------------------------------------------------------------------------
# Any words: whatever the catalog knows about them
# --------------------------------------------------------------------------------------------


def answer_about(turn: Turn, found: Found, *, limit: bool = False) -> Response:
    """The catalog's answer about an entry some words named, whichever intent caught them:
    a medicine or sensitive topic → the doctor; an exercise → how to do it; an activity → can I
    (or, for "how fast", its limit); a routine → how to start it; a tip topic → its next tip."""
    catalog = turn.catalog
    if found.kind == MEDICINE:
        return medication_answer(turn, medicine=catalog.medicines[found.id])
    if found.kind == EXERCISE:
        return explain_exercise(turn, catalog.exercises[found.id])
    if found.kind == ACTIVITY:
        activity = catalog.activities[found.id]
        return limit_answer(turn, activity) if limit else can_i_answer(turn, activity)
    if found.kind == ROUTINE:
        routine = catalog.routines[found.id]
        speech = Speech().say(
            turn.phrase(
                "answers.routine_named",
                routine=routine.name,
                count=number_words(len(routine.steps), turn.language),
            )
        )
        reprompt = turn.phrase("answers.list_routines_reprompt", routine=routine.name)
        return turn.respond(speech.say(reprompt), Speech().say(reprompt))
    topic = catalog.tips[found.id]
    return medication_answer(turn, topic) if topic.sensitive else give_tip(turn, topic)


def nothing_found(turn: Turn, words: str | None) -> Response:
    """Words that name nothing the catalog knows: what the coach can do (never the words back)."""
    if words:
        logger.info("a question the catalog has no answer for: '%s'", clip(words))
    if guiding(turn):
        # Mid-routine: the place stays, as for words Alexa itself did not understand, and the
        # answer names feeling unwell as well as pain.
        place = player(turn).place(turn.state.progress)
        if place is None:
            return lost_place(turn)
        return turn.send(composer(turn).not_understood(place, heard_no=False))
    speech = Speech().say(turn.phrase("answers.not_found"))
    return turn.respond(speech, Speech().say(turn.phrase("answers.not_found_reprompt")))


# Order matters: the first handler whose can_handle is true takes the request. The routine
# handlers come before these (they route on a routine in progress); the Yes/No handlers here take
# only the offers these modules make ("tip", "bedtime_check", the second of two requests, and "no"
# to "guide_exercise", whose "yes" the routine handlers start); common.HANDLERS, with the
# catch-alls, come after.
HANDLERS: list[AbstractRequestHandler] = [
    TipYesHandler(),
    DeclineOfferHandler(),
    ExplainExerciseHandler(),
    ListExercisesHandler(),
    ListRoutinesHandler(),
    CanIDoHandler(),
    ActivityLimitHandler(),
    TipHandler(),
    MedicationHandler(),
    SetBedtimeHandler(),
    BedtimeQueryHandler(),
    BedtimeCheckHandler(),
]
