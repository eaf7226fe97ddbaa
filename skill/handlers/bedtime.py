""" "My bedtime is ten thirty": the bedtime stored and said back, and the check of an early evening
bedtime that may have been meant as a morning one.
"""

from __future__ import annotations

import datetime as dt
import logging

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.advice import likely_bedtime, read_clock
from skill.clock import effective_bedtime
from skill.coach.exercise_speech import number_words
from skill.handlers.aside import answered
from skill.handlers.speaking import clock_words, offer_kind_is
from skill.logsafe import clip
from skill.reminder_words import read_clock_words
from skill.screens import answer_screen
from skill.speech import Speech
from skill.turn import Turn

logger = logging.getLogger(__name__)

BEDTIME_CHECK_OFFER = "bedtime_check"
# Evening bedtimes this early (17:00 to 19:59) were perhaps said as a morning time: ask.
EARLY_EVENING_BEDTIMES = (17, 20)


class SetBedtimeHandler(AbstractRequestHandler):
    """ "My bedtime is ten thirty": stored as "22:30", and said back so a wrong guess is heard."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SetBedtimeIntent")(handler_input) or is_intent_name(
            "SetMorningBedtimeIntent"
        )(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        read = read_clock_words(turn.slot_value("bedtime")) or read_clock(
            turn.slot_value("bedtime")
        )
        if read is not None and is_intent_name("SetMorningBedtimeIntent")(handler_input):
            read = (read[0].replace(hour=read[0].hour % 12), True)  # "8 am": as said
        if read is None:
            return bedtime_unclear(turn)
        bedtime = likely_bedtime(read[0], meridiem_said=read[1])
        return confirm_bedtime(turn, bedtime, ask_if_morning=not read[1])


def bedtime_unclear(turn: Turn) -> Response:
    """No clock time in what was said for the bedtime: ask for one."""
    logger.info("could not read a bedtime from '%s'", clip(turn.slot_value("bedtime")))
    return turn.respond(
        turn.phrase("answers.bedtime_unclear"), turn.phrase("answers.bedtime_reprompt")
    )


def confirm_bedtime(turn: Turn, bedtime: dt.time, *, ask_if_morning: bool = False) -> Response:
    """Store the bedtime and say it back. "Six" comes from Alexa as 06:00 whether or not "am" was
    said; it is taken as the evening, but an early evening bedtime is checked with a yes/no
    question, so a night-shift worker's morning bedtime can be said too."""
    turn.state.bedtime = f"{bedtime.hour:02d}:{bedtime.minute:02d}"
    hours = turn.catalog.rules.bedtime_buffer_hours
    speech = Speech().say(
        turn.phrase(
            "answers.bedtime_set",
            clock=clock_words(turn, bedtime),
            hours=number_words(int(hours), turn.language) if float(hours).is_integer() else hours,
        )
    )
    if ask_if_morning and EARLY_EVENING_BEDTIMES[0] <= bedtime.hour < EARLY_EVENING_BEDTIMES[1]:
        morning = bedtime.replace(hour=bedtime.hour - 12)
        question = Speech().say(
            turn.phrase("answers.bedtime_check", morning=clock_words(turn, morning))
        )
        turn.make_offer(BEDTIME_CHECK_OFFER, morning=morning.strftime("%H:%M"))
        screen = answer_screen(turn.phrase("screen.bedtime_headline"), speech.words())
        return turn.respond(speech.extend(question), question, screen=screen)
    screen = answer_screen(turn.phrase("screen.bedtime_headline"), speech.words())
    return answered(turn, speech, screen=screen)


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
        return answered(turn, Speech().say(sentence), screen=screen)


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
        return answered(turn, Speech().say(turn.phrase("care.bedtime_kept")))
