"""What "guiding" means, for the handlers that start a routine (:mod:`skill.handlers.routine`) and
those that move through one (:mod:`skill.handlers.navigate`): the conversation state they route
on, and the few steps both take (speak the place, finish, forget a lost place).

The predicates are pure: they read the request, the session attributes and the user state the
interceptor already loaded. The moves are :class:`skill.coach.player.RoutinePlayer`'s; what a turn
says and shows is :class:`skill.coach.compose.Composer`'s. Handlers decide and save.
"""

from __future__ import annotations

import dataclasses

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.catalog.model import Routine
from skill.clock import effective_bedtime, hours_before_bedtime, is_near_bedtime
from skill.coach.compose import Composer, Finish
from skill.coach.player import RoutinePlayer
from skill.handlers import reminders
from skill.speech import Speech
from skill.turn import Turn

# Session attribute: True while the coach is guiding a routine or exercise in this session, so
# that "next", "go back", "help" and the rest mean "in the routine". Saved progress from an
# earlier session is not "guiding" until it is resumed.
GUIDING_KEY = "guiding"
# Session attribute: what the user tried to start close to bedtime ("routine:<id>",
# "exercise:<id>" or "resume"), so that "start anyway" starts exactly that.
PENDING_START_KEY = "pending_start"
# Offer kinds these handlers make and answer (see skill.turn.OFFER_KEY); "tip" is the answers'.
RESUME_OFFER = "resume"
FRESH_OFFER = "start_fresh"
GUIDE_OFFER = "guide_exercise"
PAIN_CHECK_OFFER = "pain_check"
STOP_INTENTS = ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")
RESUME_INTENTS = ("ResumeRoutineIntent", "AMAZON.ResumeIntent")
# Words that move a routine forward while guiding: "continue" and "carry on" are Alexa's own
# AMAZON.ResumeIntent, and within a session that never ended they mean "next", not "welcome back".
ADVANCE_INTENTS = ("AMAZON.NextIntent", *RESUME_INTENTS)
QUESTION_INTENTS = ("WhereAmIIntent", "WhatsLeftIntent")
NAVIGATION_INTENTS = (
    "AMAZON.NextIntent",
    "AMAZON.PreviousIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.PauseIntent",
    "SkipExerciseIntent",
    "WaitIntent",
    *QUESTION_INTENTS,
)


# ---- state predicates (pure: they read what the interceptor already loaded) ----------------------


def is_any_intent(handler_input: HandlerInput, names: tuple[str, ...]) -> bool:
    return any(is_intent_name(name)(handler_input) for name in names)


def guiding(turn: Turn) -> bool:
    """The coach is walking the user through something in this session, and it isn't paused."""
    progress = turn.state.progress
    return bool(turn.session.get(GUIDING_KEY)) and progress is not None and not progress.paused


def offer_kind(turn: Turn) -> str | None:
    offer = turn.offer
    return offer.get("kind") if isinstance(offer, dict) else None


def small_hours(turn: Turn) -> bool:
    """Before the morning begins (rules.yaml's day parts): the night, whatever the bedtime."""
    morning = next(part.starts for part in turn.catalog.rules.day_parts if part.id == "morning")
    return turn.now.time() < morning


def near_bedtime(turn: Turn) -> bool:
    """Close to or past the user's bedtime, or in the small hours: no time to exercise."""
    rules = turn.catalog.rules
    bedtime = effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)
    return small_hours(turn) or is_near_bedtime(turn.now, bedtime, rules.bedtime_buffer_hours)


def past_bedtime(turn: Turn) -> bool:
    """After the user's bedtime, or in the small hours (rather than close to it)."""
    rules = turn.catalog.rules
    bedtime = effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)
    return small_hours(turn) or hours_before_bedtime(turn.now, bedtime) < 0


def hurt_today(turn: Turn) -> bool:
    """Whether the user said something hurt earlier today (and has not said since that they
    feel fine)."""
    return turn.state.hurt_on == turn.now.date().isoformat()


def routine_for_now(turn: Turn) -> str:
    rules = turn.catalog.rules
    return turn.catalog.routine_for_day_part(rules.day_part(turn.now.time())).id


# ---- the coach for this turn ---------------------------------------------------------------------


def player(turn: Turn) -> RoutinePlayer:
    return RoutinePlayer.for_pace_id(turn.catalog, turn.state.pace, turn.language)


def composer(turn: Turn, coach: RoutinePlayer | None = None) -> Composer:
    """What this turn says, at the user's pace (or ``coach``'s) and in the turn's words."""
    return Composer(turn.catalog, coach or player(turn), turn.phrase, turn.language)


# ---- steps both kinds of handler take ------------------------------------------------------------


def speak_place(
    turn: Turn, opening: str | None = None, *, name_it: bool = False, introduce: bool = False
) -> Response:
    """Speak the set the user's progress points at, with what comes next; finish the routine if
    this is its last set. ``opening`` says what this turn did (a key of the composer's OPENINGS);
    ``name_it`` names the exercise even mid-way (after a resume, a pace change or going back);
    ``introduce`` opens with the routine's introduction (only when it starts)."""
    coach = player(turn)
    progress = turn.state.progress
    place = coach.place(progress)
    if progress is None or place is None:
        return lost_place(turn)
    words = composer(turn, coach)
    if place.is_last:
        finish = _finish(turn, place.routine)
        return turn.send(
            turn.cued(
                words.guided_set(
                    place, opening, name_it=name_it, introduce=introduce, finish=finish
                )
            )
        )
    composed = turn.cued(words.guided_set(place, opening, name_it=name_it, introduce=introduce))
    # The set is finished once its speech has run; a request before then interrupted it.
    unpaused = dataclasses.replace(progress, paused=False)
    turn.state.progress = coach.spoken(unpaused, turn.now, composed.set_seconds)
    turn.session[GUIDING_KEY] = True
    return turn.send(composed)


def _finish(turn: Turn, routine: Routine | None) -> Finish:
    """The last set is spoken: forget the place, count the day, and ask the one-time reminder
    question after a first routine."""
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    if routine is None:
        return Finish(kept_routine=restore_routine(turn))
    today = turn.now.date()
    turn.state.record_completion(routine.id, today)
    days = turn.state.days_this_week(routine.id, today)
    question = Speech()
    if reminders.offer_after_first_routine(turn, question):
        return Finish(days, question=question, question_reprompt=reminders.offer_reprompt(turn))
    return Finish(days)


def restore_routine(turn: Turn) -> Routine | None:
    """Bring back the routine's place set aside for a single exercise; the routine, if any."""
    kept = turn.state.routine_place
    turn.state.routine_place = None
    if kept is None:
        return None
    turn.state.progress = dataclasses.replace(kept, paused=True)
    return turn.catalog.routines.get(kept.routine_id or "")


def lost_place(turn: Turn) -> Response:
    """Saved progress that points at nothing (changed content, a corrupt record): say so, forget
    it, and keep the session usable."""
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    return turn.send(composer(turn).lost_place())


def nothing(turn: Turn, why: str) -> Response:
    """A navigation word with nothing to navigate (``why``: "resume", "running" or "repeat"):
    say what would work instead. Close to bedtime that is a bedtime tip, not the routine the
    start would then warn against."""
    if near_bedtime(turn):
        turn.make_offer("tip", topic="bedtime")
        composed = composer(turn).nothing(why, bedtime_past=past_bedtime(turn))
    else:
        routine_id = routine_for_now(turn)
        composed = composer(turn).nothing(
            why,
            routine=turn.catalog.routines[routine_id],
            done_today=turn.state.done_on(routine_id, turn.now.date()),
        )
    return turn.send(composed)


def not_guiding(turn: Turn) -> Response:
    """A navigation word when nothing is being guided in this session."""
    progress = turn.state.progress or turn.state.routine_place
    to_do = player(turn).to_do(progress, turn.now) if progress else None
    place = player(turn).place(to_do)
    if place is None:
        if progress is not None:
            return lost_place(turn)
        return nothing(turn, "running")
    return turn.send(composer(turn).not_guiding(place))


def cut_off(turn: Turn) -> None:
    """A request that came while the set was still being spoken: that set is to do again."""
    if turn.state.progress is not None:
        turn.state.progress = player(turn).interrupted(turn.state.progress, turn.now)
