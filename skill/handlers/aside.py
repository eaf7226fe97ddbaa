"""What follows an answer: the one place an answer is closed.

Outside a routine an answer ends with "Anything else?". Mid-routine it is an aside: the answer is
kept short, the set in progress is never lost (one cut off is to do again), and the coach says
where they are and how to go on, composed by :meth:`skill.coach.compose.Composer.where_am_i`,
instead of "Anything else?". An aside is not remembered, so "repeat" still repeats the set.

When one sentence held two requests ("how do I do a bridge and can I do it tonight"), the first
is answered and the second offered: the answer closes with a yes/no offer of it (kind
:data:`THEN_OFFER`), which :mod:`skill.handlers.free_text` answers.
"""

from __future__ import annotations

from ask_sdk_model import Response

from skill.handlers.guiding import composer, cut_off, guiding, lost_place, player
from skill.handlers.speaking import anything_else
from skill.screens import Screen
from skill.speech import Speech
from skill.turn import Turn

# Session, for this turn only: the second of two requests, and what it names, to offer once the
# first is answered.
THEN_KEY = "then"
THEN_OFFER = "then"


def answered(
    turn: Turn,
    speech: Speech,
    *,
    screen: Screen | None = None,
    card: tuple[str, str] | None = None,
) -> Response:
    """``speech`` answered; closed with the second request's offer, where they are in the
    routine, or "Anything else?"."""
    then = turn.session.pop(THEN_KEY, None)
    if guiding(turn):
        return back_to_the_set(turn, speech)
    if isinstance(then, dict) and then.get("words"):
        turn.make_offer(THEN_OFFER, words=then["words"])
        name = then.get("name")
        offer = Speech().say(
            turn.phrase("answers.then_offer_named", name=name)
            if name
            else turn.phrase("answers.then_offer")
        )
        return turn.respond(speech.extend(offer), offer, screen=screen, card=card)
    closing = anything_else(turn)
    return turn.respond(speech.extend(closing), closing, screen=screen, card=card)


def second_request_waits(turn: Turn) -> bool:
    """A second request waits to be offered after this answer (which then makes no offer of
    its own)."""
    return isinstance(turn.session.get(THEN_KEY), dict)


def back_to_the_set(turn: Turn, speech: Speech) -> Response:
    """An aside mid-routine: ``speech``, then where they are and how to go on. The set on the
    screen stays."""
    cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    current = coach.place(progress)
    place = coach.place(coach.to_do(progress, turn.now) if progress else None)
    if progress is None or current is None or place is None:
        return lost_place(turn)
    finished = coach.is_finished(progress, turn.now)
    where = composer(turn, coach).where_am_i(
        current, place, finished=finished, spoken=bool(progress.spoken_until)
    )
    return turn.respond(speech.extend(where.speech), where.reprompt, remember=False)
