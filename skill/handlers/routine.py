"""Starting guided routines and guided single exercises: start, start anyway, resume, the offers
on coming back, and the pain check before any start on a day something hurt.

Moving through a routine once it runs (next, back, skip, pace, questions) is
:mod:`skill.handlers.navigate`; the state both route on is :mod:`skill.handlers.guiding`. What
each turn says and shows is composed by :class:`skill.coach.compose.Composer`.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.coach.exercise_speech import spoken_number
from skill.handlers.common import LaunchHandler
from skill.handlers.guiding import (
    FRESH_OFFER,
    GUIDE_OFFER,
    GUIDING_KEY,
    PAIN_CHECK_OFFER,
    PENDING_START_KEY,
    RESUME_INTENTS,
    RESUME_OFFER,
    choice_words,
    composer,
    guiding,
    hurt_today,
    is_any_intent,
    lost_place,
    near_bedtime,
    nothing,
    nothing_left,
    offer_kind,
    past_bedtime,
    player,
    restore_routine,
    routine_for_now,
    speak_place,
)
from skill.logsafe import clip
from skill.turn import Turn

logger = logging.getLogger(__name__)

# Other handler modules (care) read the guiding state from here.
__all__ = ["GUIDING_KEY", "guiding", "near_bedtime", "player"]


# ---- starting ------------------------------------------------------------------------------------


def _bedtime_warning(turn: Turn, pending: str) -> Response:
    turn.session[PENDING_START_KEY] = pending
    turn.make_offer("tip", topic="bedtime", then=pending)
    return turn.send(composer(turn).bedtime_warning(past=past_bedtime(turn)))


def _pain_check(turn: Turn, pending: str) -> Response:
    """Before any start or resume on a day something hurt: do they feel fine now? "Yes" starts
    ``pending``; "no" leaves it for another day."""
    turn.make_offer(PAIN_CHECK_OFFER, then=pending)
    return turn.send(composer(turn).pain_check())


def start_routine(
    turn: Turn, routine_id: str, *, anyway: bool = False, skipped: tuple[str, ...] = ()
) -> Response:
    """Start a routine from its first exercise, as this user does it (without what they left
    out, or ``skipped`` for a short session), after the pain check on a day something hurt, and
    the bedtime check unless ``anyway`` or the routine is one its author marked as suiting
    bedtime. Another routine under way keeps its place for later ("actually, let's do the
    gentle strength one instead")."""
    if hurt_today(turn):
        return _pain_check(turn, f"routine:{routine_id}")
    suits_bedtime = turn.catalog.routines[routine_id].suits_bedtime
    if not anyway and not suits_bedtime and near_bedtime(turn):
        return _bedtime_warning(turn, f"routine:{routine_id}")
    turn.session.pop(PENDING_START_KEY, None)
    coach = player(turn)
    started = coach.start_routine(routine_id, turn.now, skipped)
    if started is None:
        turn.session.pop(GUIDING_KEY, None)
        return nothing_left(turn, routine_id)
    if skipped:
        started.later = list(skipped)
    current = turn.state.progress
    if current is not None and current.routine_id not in (None, routine_id):
        aside = coach.interrupted(current, turn.now)
        turn.state.routine_place = dataclasses.replace(aside, paused=True, prepared=False)
    else:
        turn.state.routine_place = None
    turn.state.progress = started
    return speak_place(turn, introduce=True)


def start_guided_exercise(turn: Turn, exercise_id: str, *, anyway: bool = False) -> Response:
    """Guide one exercise with the same counting and navigation as a routine. The answers'
    "how do I do a bridge?" offers this; "yes" to that offer lands here."""
    if exercise_id not in turn.catalog.exercises:
        return _unknown_exercise(turn, exercise_id)
    if hurt_today(turn):
        return _pain_check(turn, f"exercise:{exercise_id}")
    if not anyway and near_bedtime(turn):
        return _bedtime_warning(turn, f"exercise:{exercise_id}")
    turn.session.pop(PENDING_START_KEY, None)
    current = turn.state.progress
    if current is not None and current.routine_id is not None:
        # The routine's place waits for the single exercise: "resume my stretches" comes back.
        aside = player(turn).interrupted(current, turn.now)
        turn.state.routine_place = dataclasses.replace(aside, paused=True)
    turn.state.progress = player(turn).start_exercise(exercise_id, turn.now)
    return speak_place(turn, introduce=True)


def resume(turn: Turn, *, anyway: bool = False) -> Response:
    """Pick up the saved place at the first set not yet finished (an interrupted set from its
    start; a finished one is never taken again)."""
    progress = turn.state.progress
    if progress is None:
        return nothing(turn, "resume")
    if hurt_today(turn):
        return _pain_check(turn, "resume")
    if not anyway and near_bedtime(turn):
        return _bedtime_warning(turn, "resume")
    turn.session.pop(PENDING_START_KEY, None)
    coach = player(turn)
    to_do = coach.to_do(progress, turn.now)
    if to_do is None:
        return lost_place(turn)
    turn.state.progress = coach.resume(to_do, turn.now)
    return speak_place(turn, "resume", name_it=True)


def _start_pending(turn: Turn, pending: str, *, anyway: bool = False) -> Response:
    kind, _, target = pending.partition(":")
    if kind == "routine" and target in turn.catalog.routines:
        return start_routine(turn, target, anyway=anyway)
    if kind == "exercise" and target in turn.catalog.exercises:
        return start_guided_exercise(turn, target, anyway=anyway)
    if kind == "resume" and turn.state.progress is not None:
        return resume(turn, anyway=anyway)
    return start_routine(turn, routine_for_now(turn), anyway=anyway)


def _offer_comeback(turn: Turn) -> Response:
    """Saved progress in a new session: offer to pick up, or after a long gap to start fresh."""
    progress = turn.state.progress
    coach = player(turn)
    to_do = coach.to_do(progress, turn.now) if progress is not None else None
    place = coach.place(to_do)
    if progress is None or place is None:
        return lost_place(turn)
    if hurt_today(turn):
        return _pain_check(turn, "resume")
    words = composer(turn, coach)
    if near_bedtime(turn):
        # Not a resume that the bedtime check would then refuse: the place keeps for tomorrow.
        turn.make_offer("tip", topic="bedtime")
        return turn.send(
            words.comeback(place, progress, bedtime_past=past_bedtime(turn), stale=False)
        )
    stale = coach.is_stale(progress, turn.now)
    if stale:
        turn.make_offer(FRESH_OFFER, routine=progress.routine_id, exercise=progress.exercise_id)
    else:
        turn.make_offer(RESUME_OFFER)
    return turn.send(words.comeback(place, progress, bedtime_past=None, stale=stale))


def _spoken_words(words: str) -> str:
    """What the user said, safe to say back (no template braces, sensibly short)."""
    return " ".join(re.sub(r"[{}<>&]", " ", words).split()[:8])


def _unknown_routine(turn: Turn, words: str) -> Response:
    suggestion = turn.catalog.routines[routine_for_now(turn)]
    return turn.send(composer(turn).unknown_routine(_spoken_words(words), suggestion))


def _unknown_exercise(turn: Turn, words: str | None) -> Response:
    return turn.send(composer(turn).unknown_exercise(_spoken_words(words) if words else None))


def _exercise_named(turn: Turn, words: str) -> str | None:
    """An exercise the words name ("start my bridge" arrives as a routine slot)."""
    wanted = " ".join(words.lower().split())
    for exercise in turn.catalog.exercises.values():
        if wanted in (" ".join(n.lower().split()) for n in (exercise.name, *exercise.synonyms)):
            return exercise.id
    return None


# ---- handlers ------------------------------------------------------------------------------------


class YesToCoachOfferHandler(AbstractRequestHandler):
    """ "Yes" to picking up where they left off, to a fresh start, or to "walk me through it"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and offer_kind(
            Turn.of(handler_input)
        ) in (RESUME_OFFER, FRESH_OFFER, GUIDE_OFFER)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = turn.offer or {}
        kind = offer.get("kind")
        if kind == GUIDE_OFFER:
            return start_guided_exercise(turn, str(offer.get("exercise") or ""))
        if kind == RESUME_OFFER:
            return resume(turn)
        if offer.get("routine") in turn.catalog.routines:
            return start_routine(turn, offer["routine"])
        if offer.get("exercise") in turn.catalog.exercises:
            return start_guided_exercise(turn, offer["exercise"])
        return start_routine(turn, routine_for_now(turn))


class PainCheckAnswerHandler(AbstractRequestHandler):
    """ "Do you feel fine now?" on a day something hurt: yes goes on with what they asked for;
    no (or "not really") keeps the place for another day and ends the session."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_any_intent(handler_input, ("AMAZON.YesIntent", "AMAZON.NoIntent"))
            and offer_kind(Turn.of(handler_input)) == PAIN_CHECK_OFFER
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.intent_name == "AMAZON.YesIntent":
            turn.state.hurt_on = None
            return _start_pending(turn, str((turn.offer or {}).get("then") or ""))
        turn.session.pop(GUIDING_KEY, None)
        return turn.send(composer(turn).rest_today())


class NoToCoachOfferHandler(AbstractRequestHandler):
    """ "No" to picking up or starting fresh: forget the old place and ask what they'd like."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and offer_kind(
            Turn.of(handler_input)
        ) in (RESUME_OFFER, FRESH_OFFER)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.state.progress = None
        turn.session.pop(GUIDING_KEY, None)
        return turn.send(composer(turn).no_resume())


class LaunchWithProgressHandler(AbstractRequestHandler):
    """Opening the skill with a routine left unfinished: offer to pick it up (or start fresh)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = Turn.of(handler_input).state
        return is_request_type("LaunchRequest")(handler_input) and (
            state.progress is not None or state.routine_place is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.state.progress is None:
            restore_routine(turn)
        if player(turn).place(turn.state.progress) is None:
            # Nothing to pick up after all: forget it and give the ordinary welcome.
            turn.state.progress = None
            return LaunchHandler().handle(handler_input)
        return _offer_comeback(turn)


class StartRoutineHandler(AbstractRequestHandler):
    """ "Start my morning stretches", or "start my stretches" (picked by the time of day)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("StartRoutineIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        routine_id = turn.slot_id("routine")
        if routine_id is not None and routine_id in turn.catalog.routines:
            return start_routine(turn, routine_id)
        words = turn.slot_value("routine")
        if words is None:
            return start_routine(turn, routine_for_now(turn))
        exercise_id = _exercise_named(turn, words)
        if exercise_id is not None:
            return start_guided_exercise(turn, exercise_id)
        logger.info("unknown routine '%s' (resolved to '%s')", clip(words), clip(routine_id))
        return _unknown_routine(turn, words)


class GuideExerciseHandler(AbstractRequestHandler):
    """ "Walk me through the lunge and stretch", "do a bridge with me"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("GuideExerciseIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        exercise_id = turn.slot_id("exercise")
        if exercise_id is not None and exercise_id in turn.catalog.exercises:
            return start_guided_exercise(turn, exercise_id)
        return _unknown_exercise(turn, turn.slot_value("exercise"))


class StartAnywayHandler(AbstractRequestHandler):
    """ "Start anyway" after the bedtime warning: start what they asked for, without the check."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("StartAnywayIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        pending = turn.session.get(PENDING_START_KEY)
        if isinstance(pending, str):
            return _start_pending(turn, pending, anyway=True)
        return start_routine(turn, routine_for_now(turn), anyway=True)


class ResumeHandler(AbstractRequestHandler):
    """ "Resume my stretches" / "resume" with a saved place: pick it up; after a long gap, offer a
    fresh start (saying "resume" again then resumes anyway)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        state = Turn.of(handler_input).state
        return is_any_intent(handler_input, RESUME_INTENTS) and (
            state.progress is not None or state.routine_place is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.state.routine_place is not None and (
            turn.state.progress is None or turn.intent_name == "ResumeRoutineIntent"
        ):
            # "Resume my stretches" after (or during) a single exercise: back to the routine.
            turn.session.pop(GUIDING_KEY, None)
            restore_routine(turn)
        coach = player(turn)
        progress = turn.state.progress
        if coach.place(progress) is None:
            return lost_place(turn)
        if (
            progress is not None
            and not guiding(turn)
            and offer_kind(turn) != FRESH_OFFER
            and coach.is_stale(progress, turn.now)
        ):
            return _offer_comeback(turn)
        return resume(turn)


class ShortSessionHandler(AbstractRequestHandler):
    """ "I've only got five minutes", "just a quick one": the whole exercises of the routine for
    now that fit, in order (a set is never cut short); the rest wait for later."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ShortSessionIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        routine_id = routine_for_now(turn)
        routine = turn.catalog.routines[routine_id]
        coach = player(turn)
        steps = coach.routine_steps(routine)
        if not steps:
            return nothing_left(turn, routine_id)
        minutes = spoken_number(turn.slot_value("minutes")) or turn.catalog.rules.quick_minutes
        room = minutes * 60
        lengths = [(exercise.id, coach.step_seconds(exercise, reps)) for exercise, reps in steps]
        chosen = []
        for exercise_id, seconds in lengths:
            if seconds <= room:
                chosen.append(exercise_id)
                room -= seconds
        if not chosen:
            shortest = min(seconds for _, seconds in lengths)
            turn.make_offer("tip", topic="bedtime")
            return turn.send(choice_words(turn, coach).none_fit(routine, shortest))
        later = tuple(exercise_id for exercise_id, _ in lengths if exercise_id not in chosen)
        return start_routine(turn, routine_id, skipped=later)


class NothingToResumeHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, RESUME_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        return nothing(Turn.of(handler_input), "resume")
