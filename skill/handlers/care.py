"""Answers that need care: pain or feeling unwell, restless legs right now, progress, the stored
bedtime, and thanks.

Pain comes first of every handler in the skill: whatever is going on, "ow, that hurts" stops it.
Every sentence comes from ``speech/en/care.yaml``. (Medicines go to the doctor answer in
:mod:`skill.handlers.answers`.)
"""

from __future__ import annotations

import dataclasses

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.advice import read_clock
from skill.clock import effective_bedtime
from skill.coach.exercise_speech import number_words
from skill.handlers.answers import (
    BEDTIME_CHECK_OFFER,
    clock_words,
    confirm_bedtime,
    offer_kind_is,
)
from skill.handlers.routine import GUIDING_KEY, guiding, near_bedtime, player
from skill.screens import answer_screen
from skill.speech import Speech
from skill.turn import Turn


def _closing(turn: Turn) -> Speech:
    return Speech().say(turn.phrase("common.anything_else"))


class PainHandler(AbstractRequestHandler):
    """Pain, a cramp, dizziness, feeling unwell: stop at once, rest, the doctor if it goes on.
    A routine's place is kept (paused) and the session ends: nobody should be asked to carry on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("PainIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.state.hurt_on = turn.now.date().isoformat()  # today's starts ask first
        speech = Speech().say(
            turn.phrase("care.stop_now"), turn.phrase("care.see_doctor_if_it_goes_on")
        )
        progress = turn.state.progress
        exercise = turn.catalog.exercises.get(progress.exercise_id or "") if progress else None
        if progress is not None and guiding(turn) and progress.routine_id and exercise is not None:
            # A set cut off mid-way is to do again; one already spoken through stays done.
            kept = player(turn).interrupted(progress, turn.now)
            turn.state.progress = dataclasses.replace(kept, paused=True)
            speech.say(turn.phrase("care.place_kept", exercise=exercise.name))
        else:
            if progress is not None and guiding(turn):
                # A single guided exercise is not worth keeping: it starts afresh any time.
                turn.state.progress = None
            speech.say(turn.phrase("care.take_care"))
        turn.session.pop(GUIDING_KEY, None)
        # On a screen, plainly: the headline and every word said.
        screen = answer_screen(turn.phrase("screen.pain_headline"), speech.words(), safety=True)
        return turn.respond(speech, screen=screen, end_session=True)


class SymptomsNowHandler(AbstractRequestHandler):
    """ "My legs are restless", "I can't sleep", "help me relax my legs": what may help this
    moment. At night (from bedtime) that is the articles' night advice, short, and then the
    session ends; close to bedtime a warm bath or a compress, not the stretches; by day, the
    stretches. Then: a doctor if it goes on for a few nights."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SymptomsNowIntent")(handler_input) or is_intent_name("RelaxIntent")(
            handler_input
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        relax = is_intent_name("RelaxIntent")(handler_input)
        speech = Speech()
        if not relax:
            speech.say(turn.phrase("care.symptoms_sorry"))
        if turn.night:
            if relax:
                speech.say(_bedtime_stretch(turn))
            speech.say(turn.phrase("care.symptoms_tonight"))
        elif near_bedtime(turn):  # close to bedtime, or the small hours
            speech.say(turn.phrase("care.symptoms_night"), turn.phrase("care.symptoms_not_now"))
        else:
            speech.say(turn.phrase("care.symptoms_day"))
        if not (relax and turn.night):  # asked to help relax at night: short, and sleep
            speech.say(turn.phrase("care.symptoms_doctor"))
        closing = _closing(turn)
        return turn.respond(speech.extend(closing), closing)


def _bedtime_stretch(turn: Turn) -> str:
    """At night, asked for help to relax: the one gentle routine that suits bedtime, and how to
    start it, if the content has one; else why the articles advise no stretch now."""
    suits = [r for r in turn.catalog.routines.values() if r.suits_bedtime]
    if not suits:
        return turn.phrase("care.relax_no_stretch")
    shortest = min(suits, key=lambda r: player(turn).estimated_seconds(r))
    return turn.phrase("care.relax_bedtime_routine", routine=shortest.name)


class ProgressHandler(AbstractRequestHandler):
    """ "How many days have I done this week?": days with any finished routine since Monday."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ProgressIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        today = turn.now.date()
        days = turn.state.days_this_week(None, today)
        speech = Speech()
        if days == 0:
            when = turn.phrase("answers.best_time_morning")
            speech.say(turn.phrase("care.progress_none", when=when))
        else:
            unit = turn.phrase("care.day_one" if days == 1 else "care.day_many")
            count = number_words(days, turn.language)
            speech.say(turn.phrase("care.progress_days", count=count, days=unit))
            if turn.state.done_on(None, today):
                speech.say(turn.phrase("care.progress_today"))
        speech.say(turn.phrase("care.progress_keep_going"))
        closing = _closing(turn)
        return turn.respond(speech.extend(closing), closing)


class BedtimeQueryHandler(AbstractRequestHandler):
    """ "What's my bedtime?": the stored one, or the default and how to set one."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("BedtimeQueryIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        stored = turn.state.bedtime_time()
        if stored is not None:
            sentence = turn.phrase("care.bedtime_is", clock=clock_words(turn, stored))
        else:
            default = effective_bedtime(None, turn.settings, turn.catalog.rules.default_bedtime)
            sentence = turn.phrase("care.bedtime_default", clock=clock_words(turn, default))
        screen = answer_screen(turn.phrase("screen.bedtime_headline"), sentence)
        closing = _closing(turn)
        return turn.respond(Speech().say(sentence).extend(closing), closing, screen=screen)


class BedtimeCheckHandler(AbstractRequestHandler):
    """ "Yes" or "no" to "your bedtime is 6 PM, is that right?": no means the morning time."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_intent_name("AMAZON.YesIntent")(handler_input)
            or is_intent_name("AMAZON.NoIntent")(handler_input)
        ) and offer_kind_is(handler_input, BEDTIME_CHECK_OFFER)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        morning = read_clock(str((turn.offer or {}).get("morning")))
        if is_intent_name("AMAZON.NoIntent")(handler_input) and morning is not None:
            return confirm_bedtime(turn, morning[0])
        closing = _closing(turn)
        return turn.respond(Speech().say(turn.phrase("care.bedtime_kept")).extend(closing), closing)


class ThanksHandler(AbstractRequestHandler):
    """ "Thank you": a short kind word. Mid-routine, where they are and how to carry on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ThanksIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        progress = turn.state.progress
        exercise = turn.catalog.exercises.get(progress.exercise_id or "") if progress else None
        if guiding(turn) and exercise is not None:
            sentence = Speech().say(turn.phrase("care.thanks_in_routine", exercise=exercise.name))
            return turn.respond(sentence, sentence, remember=False)
        closing = _closing(turn)
        return turn.respond(Speech().say(turn.phrase("care.thanks")).extend(closing), closing)


# Pain goes before every other handler of the skill (see skill.builder); the rest are ordinary
# intents that no routine state changes the meaning of.
SAFETY_HANDLERS: list[AbstractRequestHandler] = [PainHandler()]
HANDLERS: list[AbstractRequestHandler] = [
    BedtimeCheckHandler(),
    SymptomsNowHandler(),
    ProgressHandler(),
    BedtimeQueryHandler(),
    ThanksHandler(),
]
