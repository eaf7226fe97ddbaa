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
from skill.coach.choice_words import ChoiceWords
from skill.coach.compose import Composer, Finish
from skill.coach.exercise_speech import COUNT, PREPARE, WHOLE
from skill.coach.player import Choices, RoutinePlayer
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
    """The routine player at the user's pace, with the choices they made."""
    return RoutinePlayer.for_pace_id(
        turn.catalog, turn.state.pace, turn.language, Choices.of(turn.state)
    )


def composer(turn: Turn, coach: RoutinePlayer | None = None) -> Composer:
    """What this turn says, at the user's pace (or ``coach``'s) and in the turn's words."""
    return Composer(turn.catalog, coach or player(turn), turn.phrase, turn.language)


def choice_words(turn: Turn, coach: RoutinePlayer | None = None) -> ChoiceWords:
    """What this turn says about the user's choices (left out, reps, ready mode, pace, …)."""
    return ChoiceWords(composer(turn, coach))


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
    # In ready mode a set is said in two turns: its preparation, then after "ready" its count.
    part = WHOLE
    if coach.choices.ready:
        part = COUNT if progress.prepared else PREPARE
    if place.is_last and part != PREPARE:
        finish = _finish(turn, place.routine, progress.later)
        return turn.send(
            turn.cued(
                words.guided_set(
                    place, opening, name_it=name_it, introduce=introduce, finish=finish, part=part
                )
            )
        )
    composed = turn.cued(
        words.guided_set(place, opening, name_it=name_it, introduce=introduce, part=part)
    )
    unpaused = dataclasses.replace(progress, paused=False, prepared=part == PREPARE)
    if part == PREPARE:
        # Nothing is counted yet: the set is still to do, and waits for "ready".
        turn.state.progress = dataclasses.replace(unpaused, spoken_until="")
    else:
        # The set is finished once its speech has run; a request before then interrupted it.
        turn.state.progress = coach.spoken(unpaused, turn.now, composed.set_seconds)
    turn.session[GUIDING_KEY] = True
    return turn.send(composed)


def _finish(turn: Turn, routine: Routine | None, later: list[str] | None = None) -> Finish:
    """The last set is spoken: forget the place (a short session keeps what it left for later;
    a routine set aside for this one comes back), count the day (any finished routine or guided
    exercise counts), and ask the one-time reminder question after a first routine."""
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    today = turn.now.date()
    if routine is None:
        turn.state.record_exercise(today)
        return Finish(kept_routine=restore_routine(turn))
    later_names: tuple[str, ...] = ()
    if later:
        kept = [e for e in later if e in turn.catalog.exercises]
        done = [s.exercise for s in routine.steps if s.exercise not in kept]
        turn.state.record_exercise(today)
        turn.state.progress = player(turn).start_routine(routine.id, turn.now, tuple(done))
        if turn.state.progress is not None:
            turn.state.progress.paused = True
        later_names = tuple(turn.catalog.exercises[e].name for e in kept)
    else:
        turn.state.record_completion(routine.id, today)
    kept_routine = restore_routine(turn) if turn.state.progress is None else None
    days = turn.state.days_this_week(None, today)
    question = Speech()
    if reminders.offer_after_first_routine(turn, question):
        return Finish(
            days,
            kept_routine=kept_routine,
            question=question,
            question_reprompt=reminders.offer_reprompt(turn),
            later=later_names,
        )
    return Finish(days, kept_routine=kept_routine, later=later_names)


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


def nothing_left(turn: Turn, routine_id: str) -> Response:
    """Every exercise of the routine is left out: say so, and offer another routine that still
    has something in it."""
    coach = player(turn)
    routine = turn.catalog.routines[routine_id]
    others = [
        r for r in turn.catalog.routines.values() if r.id != routine_id and coach.routine_steps(r)
    ]
    left_out = coach.left_out_of(routine)
    if others:
        turn.make_offer(FRESH_OFFER, routine=others[0].id)
    suggestion = others[0] if others else None
    return turn.send(choice_words(turn, coach).nothing_left(routine, suggestion, left_out[0]))


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
