"""A user's routine, their way: choices kept from now on, and their days of exercise.

- Leave an exercise out of every routine ("leave out the lunge", "I can't kneel", "nothing on the
  floor": which exercises kneel, sit or lie comes from the catalog's ``position``), after a yes;
  put it back; say what is left out.
- A skip that gives pain as its reason ("skip the lunge, my knee hurts"): the safety answer, the
  exercise skipped this time (never started, never counted), and an offer to leave it out.
- Reps within the source's range ("do eight lunges", "more reps"); outside it, the limit in the
  source's words.
- Ready mode ("wait until I say ready"), the normal pace and which pace this is.
- What has been changed, and resetting it; how many days in a row, yesterday, last week.

What each answer says is :class:`skill.coach.choice_words.ChoiceWords`'s; these decide and save.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.catalog.model import Exercise
from skill.coach.exercise_speech import spoken_number
from skill.coach.player import Place
from skill.handlers.answers import clock_words
from skill.handlers.care import PainHandler
from skill.handlers.guiding import (
    GUIDING_KEY,
    choice_words,
    composer,
    cut_off,
    guiding,
    is_any_intent,
    offer_kind,
    player,
    speak_place,
)
from skill.lookup import EXERCISE, lookup_for
from skill.turn import Turn
from skill.understand import SAFETY, interpret

LEAVE_OUT_OFFER = "leave_out"
RESET_OFFER = "reset_settings"
# The positions (the catalog's `position` values) each way of ruling a position out covers.
POSITION_INTENTS = {
    "LeaveOutKneelingIntent": ("kneeling",),
    "LeaveOutFloorIntent": ("kneeling", "seated", "lying"),
}


# ---- small readers ---------------------------------------------------------------------------


def guided_place(turn: Turn) -> tuple[Place | None, bool]:
    """While guiding: the set at hand (the next one if this one is finished; a set cut off by
    this request is to do again) and whether it was spoken through. Else (None, False)."""
    if not guiding(turn):
        return None, False
    cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    to_do = coach.to_do(progress, turn.now) if progress is not None else None
    return coach.place(to_do), bool(progress and progress.spoken_until)


def exercise_in(turn: Turn, slot: str) -> Exercise | None:
    """The exercise a slot names: resolved, or found among its words."""
    exercise_id = turn.slot_id(slot)
    if exercise_id not in turn.catalog.exercises:
        found = lookup_for(turn.catalog).find(turn.slot_value(slot), kinds=(EXERCISE,))
        exercise_id = found.id if found else None
    return turn.catalog.exercises.get(exercise_id or "")


def _exercises(turn: Turn, ids: list[str]) -> list[Exercise]:
    return [turn.catalog.exercises[e] for e in ids if e in turn.catalog.exercises]


def _rebase(turn: Turn) -> None:
    """The saved place after the routine's steps changed for this user."""
    progress = turn.state.progress
    if progress is not None and progress.routine_id is not None:
        turn.state.progress = player(turn).rebased(progress, turn.now)
        if turn.state.progress is None:
            turn.session.pop(GUIDING_KEY, None)


# ---- leaving out ------------------------------------------------------------------------------


class LeaveOutHandler(AbstractRequestHandler):
    """ "Leave out the lunge", "I can't kneel", "nothing on the floor": ask once, then leave the
    matching exercises out of every routine from now on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, ("LeaveOutIntent", *POSITION_INTENTS))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        positions = POSITION_INTENTS.get(turn.intent_name or "")
        if positions is not None:
            matching = [e for e in turn.catalog.exercises.values() if e.position in positions]
        else:
            exercise = exercise_in(turn, "exercise")
            if exercise is None:
                return turn.send(composer(turn).unknown_exercise(turn.slot_value("exercise")))
            matching = [exercise]
        return ask_to_leave_out(turn, matching)


def ask_to_leave_out(turn: Turn, matching: list[Exercise]) -> Response:
    """Ask once whether to leave these exercises out of every routine from now on."""
    place, _ = guided_place(turn)
    words = choice_words(turn)
    if not matching:
        return turn.send(words.nothing_to_leave_out(place))
    new = [e for e in matching if e.id not in turn.state.left_out]
    if not new:
        return turn.send(words.already_left_out(matching, place))
    turn.make_offer(LEAVE_OUT_OFFER, exercises=[e.id for e in new])
    return turn.send(words.leave_out_confirm(new))


class LeaveOutAnswerHandler(AbstractRequestHandler):
    """Yes or no to leaving exercises out from now on (asked by a leave-out or after a skip
    for pain, which then ends the session for rest)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_any_intent(handler_input, ("AMAZON.YesIntent", "AMAZON.NoIntent"))
            and offer_kind(Turn.of(handler_input)) == LEAVE_OUT_OFFER
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = turn.offer or {}
        exercises = _exercises(turn, list(offer.get("exercises") or []))
        agreed = turn.intent_name == "AMAZON.YesIntent"
        if agreed:
            turn.state.left_out = sorted({*turn.state.left_out, *(e.id for e in exercises)})
            _rebase(turn)
        if offer.get("after_pain"):
            return turn.send(choice_words(turn).left_out_and_rest(exercises if agreed else None))
        place, spoken = guided_place(turn)
        words = choice_words(turn)
        if not agreed:
            return turn.send(words.kept_in(exercises, place))
        return turn.send(words.left_out(exercises, place, spoken=spoken))


class PutBackHandler(AbstractRequestHandler):
    """ "Put the lunge back"; with none named, every exercise."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("PutBackIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        exercise = exercise_in(turn, "exercise")
        place, _ = guided_place(turn)
        if exercise is None:
            turn.state.left_out = []
            return turn.send(choice_words(turn).put_back([], place, was_out=True))
        was_out = exercise.id in turn.state.left_out
        turn.state.left_out = [e for e in turn.state.left_out if e != exercise.id]
        return turn.send(choice_words(turn).put_back([exercise], place, was_out=was_out))


class LeftOutQueryHandler(AbstractRequestHandler):
    """ "What have you left out?" """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("LeftOutQueryIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place, _ = guided_place(turn)
        left_out = _exercises(turn, turn.state.left_out)
        return turn.send(choice_words(turn).left_out_list(left_out, place))


# ---- skipping because it hurts ------------------------------------------------------------------


def _skip_words(turn: Turn) -> str | None:
    return turn.slot_value("skipped") or turn.slot_value("exercise")


class PainSkipHandler(AbstractRequestHandler):
    """ "Skip the lunge, my knee hurts": the pain is answered first (stop and rest), the exercise
    is skipped this time without ever being started, the place waits at the next one, and the
    coach offers to leave the exercise out from now on. In any state: pain is never ignored."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if is_intent_name("PainSkipIntent")(handler_input):
            return True
        if not is_intent_name("SkipExerciseIntent")(handler_input):
            return False
        turn = Turn.of(handler_input)
        reading = interpret(turn.catalog, _skip_words(turn))
        return reading is not None and reading.step == SAFETY

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        coach = player(turn)
        progress = turn.state.progress
        exercise = exercise_in(turn, "exercise")
        if exercise is None:
            found = lookup_for(turn.catalog).find(_skip_words(turn), kinds=(EXERCISE,))
            exercise = turn.catalog.exercises.get(found.id) if found else None
        if exercise is None and progress is not None and guiding(turn):
            exercise = turn.catalog.exercises.get(progress.exercise_id or "")
        if exercise is None:
            return PainHandler().handle(handler_input)
        turn.state.hurt_on = turn.now.date().isoformat()  # today's starts ask first
        following = None
        if progress is not None and progress.routine_id is not None:
            moved = coach.without(coach.interrupted(progress, turn.now), exercise.id, turn.now)
            to_do = coach.to_do(moved, turn.now) if moved is not None else None
            if moved is not None and to_do is not None:
                moved = dataclasses.replace(moved, paused=True, prepared=False)
                place = coach.place(to_do)
                following = place.exercise if place is not None else None
            else:
                moved = None  # nothing of the routine is left to do
            turn.state.progress = moved
        elif progress is not None and progress.exercise_id == exercise.id:
            turn.state.progress = None
        turn.session.pop(GUIDING_KEY, None)
        turn.make_offer(LEAVE_OUT_OFFER, exercises=[exercise.id], after_pain=True)
        return turn.send(choice_words(turn, coach).skipped_for_pain(exercise, following))


# ---- reps ---------------------------------------------------------------------------------------


class RepsHandler(AbstractRequestHandler):
    """ "Do eight lunges", "just three bridges", "more reps", "fewer reps": the count for that
    exercise (the one at hand if none is named) from now on, within its source's range."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, ("RepsIntent", "MoreRepsIntent", "FewerRepsIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place, spoken = guided_place(turn)
        exercise = exercise_in(turn, "exercise") or (place.exercise if place else None)
        if exercise is None:
            return turn.send(choice_words(turn).reps_which())
        coach = player(turn)
        current = coach.reps_for(exercise)
        if turn.intent_name == "RepsIntent":
            count = spoken_number(turn.slot_value("count"))
        else:
            count = current + (1 if turn.intent_name == "MoreRepsIntent" else -1)
        reps = exercise.reps
        if count is None or not reps.lowest <= count <= reps.max:
            return turn.send(choice_words(turn).reps_limit(exercise, place, spoken=spoken))
        turn.state.reps = {**turn.state.reps, exercise.id: count}
        progress = turn.state.progress
        if place is not None and progress is not None and place.exercise.id == exercise.id:
            # The exercise at hand starts again with the new count: both sides get the same.
            turn.state.progress = player(turn).step_start(progress, place.step, turn.now)
            return speak_place(turn, "new_count", name_it=True)
        return turn.send(choice_words(turn).reps_set(exercise, count, place, spoken=spoken))


# ---- ready mode and pace -----------------------------------------------------------------------


class ReadyModeHandler(AbstractRequestHandler):
    """ "Wait until I say ready" / "count straight away": whether each set waits for "ready"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, ("ReadyModeIntent", "CountStraightAwayIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        on = turn.intent_name == "ReadyModeIntent"
        place, spoken = guided_place(turn)
        turn.state.ready_mode = on
        progress = turn.state.progress
        if progress is not None and progress.prepared and not on:
            turn.state.progress = dataclasses.replace(progress, prepared=False)
        return turn.send(choice_words(turn).ready_mode(on=on, place=place, spoken=spoken))


class WhichPaceHandler(AbstractRequestHandler):
    """ "What pace is this?" """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WhichPaceIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place, spoken = guided_place(turn)
        pace = player(turn).pace.id
        return turn.send(choice_words(turn).which_pace(pace, place, spoken=spoken))


# ---- what you've changed -----------------------------------------------------------------------


class SettingsHandler(AbstractRequestHandler):
    """ "What have you changed for me?": every choice kept from now on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SettingsIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        state = turn.state
        reps = [
            (turn.catalog.exercises[e], count)
            for e, count in sorted(state.reps.items())
            if e in turn.catalog.exercises
        ]
        bedtime = state.bedtime_time()
        spoken_bedtime = clock_words(turn, bedtime) if bedtime else None
        return turn.send(
            choice_words(turn).settings(
                _exercises(turn, state.left_out),
                reps,
                ready=state.ready_mode,
                pace_id=player(turn).pace.id,
                bedtime=spoken_bedtime,
                sounds=state.sounds,
            )
        )


class ResetSettingsHandler(AbstractRequestHandler):
    """ "Reset my settings": asks first."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ResetSettingsIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.make_offer(RESET_OFFER)
        return turn.send(choice_words(turn).reset_confirm())


class ResetAnswerHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_any_intent(handler_input, ("AMAZON.YesIntent", "AMAZON.NoIntent"))
            and offer_kind(Turn.of(handler_input)) == RESET_OFFER
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        done = turn.intent_name == "AMAZON.YesIntent"
        if done:
            turn.state.reset_choices()
            progress = turn.state.progress
            if progress is not None:
                turn.state.progress = dataclasses.replace(progress, prepared=False)
        return turn.send(choice_words(turn).reset(done=done))


# ---- days of exercise ---------------------------------------------------------------------------


class HistoryHandler(AbstractRequestHandler):
    """ "How many days in a row?", "what did I do yesterday?", "how did last week go?" """

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, ("StreakIntent", "YesterdayIntent", "LastWeekIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        state = turn.state
        today = turn.now.date()
        words = choice_words(turn)
        if turn.intent_name == "StreakIntent":
            return turn.send(words.streak(state.days_in_a_row(today)))
        if turn.intent_name == "YesterdayIntent":
            yesterday = (today - dt.timedelta(days=1)).isoformat()
            routines = [
                turn.catalog.routines[r]
                for r, dates in sorted(state.completions.items())
                if yesterday in dates and r in turn.catalog.routines
            ]
            return turn.send(words.yesterday(routines, yesterday in state.exercise_days))
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return turn.send(words.last_week(state.days_between(monday, monday + dt.timedelta(6))))


# Offers first (they route on the question asked); the rest on their own intents.
OFFER_HANDLERS: list[AbstractRequestHandler] = [LeaveOutAnswerHandler(), ResetAnswerHandler()]
HANDLERS: list[AbstractRequestHandler] = [
    LeaveOutHandler(),
    PutBackHandler(),
    LeftOutQueryHandler(),
    RepsHandler(),
    ReadyModeHandler(),
    WhichPaceHandler(),
    SettingsHandler(),
    ResetSettingsHandler(),
    HistoryHandler(),
]
