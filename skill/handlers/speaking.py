"""Small speaking helpers every answer uses: lists, clock times, speeds in the user's unit, and
the pending yes/no offer. Pure: they read the turn and its words, never storage or the network.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from ask_sdk_core.handler_input import HandlerInput

from skill.clock import effective_bedtime
from skill.coach.exercise_speech import number_words
from skill.speech import Speech
from skill.speech import spoken_list as speech_list
from skill.turn import OFFER_KEY, Turn

MAX_NAMES_IN_A_LIST = 4  # "a short list, not a wall of names"


def spoken_list(turn: Turn, items: Sequence[str], conjunction: str = "and") -> str:
    """ "a, b and c" (or "a, b or c") in this turn's words: :func:`skill.speech.spoken_list`."""
    return speech_list(turn.phrase, items, conjunction)


def short_list(turn: Turn, names: Sequence[str]) -> str:
    """At most a few names; the rest counted ("a, b, c and 4 more")."""
    if len(names) > MAX_NAMES_IN_A_LIST:
        shown = list(names[: MAX_NAMES_IN_A_LIST - 1])
        rest = len(names) - len(shown)
        return spoken_list(
            turn,
            [*shown, turn.phrase("answers.list_more", count=number_words(rest, turn.language))],
        )
    return spoken_list(turn, names)


def clock_words(turn: Turn, clock: dt.time) -> str:
    """22:30 → "10:30 PM", 07:00 → "7 AM": how Alexa reads a time aloud naturally."""
    hour = clock.hour % 12 or 12
    time = str(hour) if clock.minute == 0 else f"{hour}:{clock.minute:02d}"
    return turn.phrase("answers.clock_pm" if clock.hour >= 12 else "answers.clock_am", time=time)


def best_times_words(turn: Turn, parts: Sequence[str]) -> str:
    return spoken_list(turn, [turn.phrase(f"answers.best_time_{p}") for p in parts], "or")


MPH = re.compile(r"\{mph:(\d+)\}")
KM_PER_MILE = 1.609344


def local_units(turn: Turn, text: str) -> str:
    """A catalog sentence with each speed ("{mph:10}") in the unit of the user's country: miles
    per hour where people measure speed in miles, else kilometres per hour (10 mph → 16)."""
    if turn.locale in turn.catalog.rules.mph_locales:
        return MPH.sub(lambda m: turn.phrase("answers.speed_mph", mph=m[1]), text)
    return MPH.sub(
        lambda m: turn.phrase("answers.speed_kmh", kmh=round(int(m[1]) * KM_PER_MILE)), text
    )


def anything_else(turn: Turn) -> Speech:
    return Speech().say(turn.phrase("answers.anything_else"))


def pending_offer(handler_input: HandlerInput) -> dict[str, Any] | None:
    offer = (handler_input.attributes_manager.session_attributes or {}).get(OFFER_KEY)
    return offer if isinstance(offer, dict) else None


def offer_kind_is(handler_input: HandlerInput, *kinds: str) -> bool:
    offer = pending_offer(handler_input)
    return offer is not None and offer.get("kind") in kinds


def user_bedtime(turn: Turn) -> dt.time:
    """The user's bedtime: the one they told, else the device's or the coach's default."""
    return effective_bedtime(
        turn.state.bedtime_time(), turn.settings, turn.catalog.rules.default_bedtime
    )
