"""Moving through a guided routine or exercise: next, back, skip, start over, wait, pause, stop,
pace, repeat, the questions asked mid-set ("which leg?", "how many more?"), help and not
understood, and the same words when nothing is being guided.

"Next" means the next set while the coach is guiding in this session (see
:func:`skill.handlers.guiding.guiding`) and gets a helpful answer otherwise. The moves are
:class:`skill.coach.player.RoutinePlayer`'s; what each turn says and shows is composed by
:class:`skill.coach.compose.Composer`. A screen tap arrives here as the intent of its word.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.catalog.model import Pace
from skill.coach.player import Place, RoutinePlayer, faster, slower
from skill.handlers.guiding import (
    ADVANCE_INTENTS,
    GUIDING_KEY,
    NAVIGATION_INTENTS,
    STOP_INTENTS,
    choice_words,
    composer,
    cut_off,
    guiding,
    is_any_intent,
    lost_place,
    not_guiding,
    nothing,
    player,
    speak_place,
)
from skill.lookup import EXERCISE, lookup_for
from skill.turn import Turn


class NextHandler(AbstractRequestHandler):
    """ "Next", "continue", "carry on", "ready", "done" while guiding: the next segment, the next
    exercise, or the finish. A set still to do (after a pace change) is that set. "Yes" or "okay"
    when nothing was asked is the same: every set ends with "say next for …"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        turn = Turn.of(handler_input)
        if not guiding(turn):
            return False
        if is_intent_name("AMAZON.YesIntent")(handler_input):
            return turn.offer is None
        return is_any_intent(handler_input, ADVANCE_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        progress = turn.state.progress
        if progress is not None and not progress.spoken_until:
            return speak_place(turn)
        moved = player(turn).advance(progress, turn.now) if progress else None
        if moved is None:
            return lost_place(turn)
        turn.state.progress = moved
        return speak_place(turn)


class SkipExerciseHandler(AbstractRequestHandler):
    """ "Skip this exercise", "next exercise", "skip to the quad stretch": the next exercise (or
    the one named), from its start, not the other side of this one."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("SkipExerciseIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        coach = player(turn)
        progress = turn.state.progress
        place = coach.place(progress)
        if progress is None or place is None:
            return lost_place(turn)
        words = composer(turn, coach)
        wanted = turn.slot_id("exercise")
        skipped = turn.slot_id("skipped")
        if skipped not in turn.catalog.exercises and turn.slot_value("skipped"):
            # "skip the quad stretch when we get there": the exercise named among the words.
            found = lookup_for(turn.catalog).find(turn.slot_value("skipped"), kinds=(EXERCISE,))
            skipped = found.id if found else None
        if (
            skipped is not None
            and skipped in turn.catalog.exercises
            and skipped != place.exercise.id
        ):
            return _skip_ahead(turn, coach, skipped)
        if wanted is not None and wanted in turn.catalog.exercises and wanted != place.exercise.id:
            steps = [exercise.id for exercise, _ in place.steps] if place.routine else []
            later = [i for i, e in enumerate(steps) if e == wanted and i > place.step]
            anywhere = later or [i for i, e in enumerate(steps) if e == wanted]
            if not anywhere:
                name = turn.catalog.exercises[wanted].name
                return turn.send(words.skip_refused(place, "not_in_routine", name))
            target = anywhere[0]
        elif wanted == place.exercise.id:
            return turn.send(words.skip_refused(place, "already_on"))
        elif place.next_exercise is None:
            return turn.send(words.skip_refused(place, "last"))
        else:
            target = place.step + 1
        turn.state.progress = coach.step_start(progress, target, turn.now)
        return speak_place(turn, "skipping")


def _skip_ahead(turn: Turn, coach: RoutinePlayer, exercise_id: str) -> Response:
    """An exercise still to come, skipped this time: the routine goes on without it."""
    exercise = turn.catalog.exercises[exercise_id]
    progress = turn.state.progress
    assert progress is not None, "the skip handler only runs with a place to skip from"
    place = coach.place(progress)
    if place is None:
        return lost_place(turn)
    in_routine = any(e.id == exercise_id for e, _ in place.steps)
    if place.routine is None or not in_routine:
        refused = composer(turn, coach).skip_refused(place, "not_in_routine", exercise.name)
        return turn.send(refused)
    cut_off(turn)
    moved = coach.without(turn.state.progress or progress, exercise_id, turn.now)
    turn.state.progress = moved
    here = coach.place(coach.to_do(moved, turn.now)) if moved is not None else None
    if here is None:
        return lost_place(turn)
    spoken = bool(moved and moved.spoken_until)
    return turn.send(choice_words(turn, coach).skip_ahead([exercise], here, spoken=spoken))


class PreviousHandler(AbstractRequestHandler):
    """ "Go back": the previous segment, or the previous exercise from its start."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.PreviousIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        assert turn.state.progress is not None
        moved, went_back = player(turn).back(turn.state.progress, turn.now)
        turn.state.progress = moved
        return speak_place(turn, "going_back" if went_back else "already_first", name_it=True)


class StartOverHandler(AbstractRequestHandler):
    """ "Start over": the routine (or exercise) from the top, in this session or a later one."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_intent_name("AMAZON.StartOverIntent")(handler_input)
            and Turn.of(handler_input).state.progress is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        progress = turn.state.progress
        coach = player(turn)
        if progress is None or coach.place(progress) is None:
            return lost_place(turn)
        turn.state.progress = coach.start_over(progress, turn.now)
        return speak_place(turn, "start_over", introduce=True)


class PauseHandler(AbstractRequestHandler):
    """ "Pause" / "take a break": keep the place and close the session (a break outlasts the
    microphone); "resume my stretches" picks it up."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.PauseIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        return _hold_place(Turn.of(handler_input), paused=True)


class RoutineStopHandler(AbstractRequestHandler):
    """Stop / cancel / home while guiding: save the place and say so."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, STOP_INTENTS) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        return _hold_place(Turn.of(handler_input), paused=False)


class WaitHandler(AbstractRequestHandler):
    """ "Wait", "hold on", "one moment" while guiding: wait with the session open. If the
    microphone closes before they are back, the place is kept (every turn saves it)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WaitIntent")(handler_input) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        cut_off(turn)
        return turn.send(composer(turn).wait())


def _hold_place(turn: Turn, *, paused: bool) -> Response:
    cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    to_do = coach.to_do(progress, turn.now) if progress is not None else None
    place = coach.place(to_do)
    if to_do is None or place is None:
        return lost_place(turn)
    turn.state.progress = coach.pause(to_do, turn.now)
    turn.session.pop(GUIDING_KEY, None)
    return turn.send(composer(turn, coach).hold_place(place, paused=paused))


def _asked_mid_routine(turn: Turn) -> tuple[RoutinePlayer, Place | None, Place | None]:
    """For a question asked while guiding: the player, the place the progress points at, and
    the set to do next (that same one if the question cut it off)."""
    cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    current = coach.place(progress)
    return coach, current, coach.place(coach.to_do(progress, turn.now) if progress else None)


def _spoken(turn: Turn) -> bool:
    """The set at hand was spoken through (not cut off): "next" brings what follows it."""
    progress = turn.state.progress
    return progress is not None and bool(progress.spoken_until)


class WhereAmIHandler(AbstractRequestHandler):
    """ "Which leg?", "what exercise is this?" while guiding: the exercise and the side of the
    set at hand (the next one if this one is finished); the routine carries on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WhereAmIIntent")(handler_input) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        coach, current, place = _asked_mid_routine(turn)
        progress = turn.state.progress
        if current is None or place is None:
            return lost_place(turn)
        finished = progress is not None and coach.is_finished(progress, turn.now)
        return turn.send(
            composer(turn, coach).where_am_i(
                current, place, finished=finished, spoken=_spoken(turn)
            )
        )


class WhatsLeftHandler(AbstractRequestHandler):
    """ "How long is this?", "how many more?", "how many exercises are left?" while guiding:
    the exercises after this one and about how long the rest takes; the routine carries on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WhatsLeftIntent")(handler_input) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        coach, current, place = _asked_mid_routine(turn)
        if current is None or place is None:
            return lost_place(turn)
        return turn.send(composer(turn, coach).whats_left(current, place, spoken=_spoken(turn)))


class RoutineHelpHandler(AbstractRequestHandler):
    """Help while guiding: where they are and what they can say. The place stays, and "repeat"
    afterwards still repeats the exercise (help is not remembered as the last response)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.HelpIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place = player(turn).place(turn.state.progress)
        if place is None:
            return lost_place(turn)
        return turn.send(composer(turn).help(place))


class RoutineFallbackHandler(AbstractRequestHandler):
    """Not understood while guiding (or a "no" to no question): keep the place, say what works.
    The words may have been about pain, so the answer says to stop if anything hurts."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        turn = Turn.of(handler_input)
        if not guiding(turn):
            return False
        if is_intent_name("AMAZON.FallbackIntent")(handler_input):
            return True
        return is_intent_name("AMAZON.NoIntent")(handler_input) and turn.offer is None

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place = player(turn).place(turn.state.progress)
        if place is None:
            return lost_place(turn)
        heard_no = turn.intent_name == "AMAZON.NoIntent"
        return turn.send(composer(turn).not_understood(place, heard_no=heard_no))


class PaceHandler(AbstractRequestHandler):
    """ "Slow down" / "count slower" / "speed up": change the tempo of counts and holds for this
    and later exercises, remembered per user. While guiding, the current set is taken again."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, ("SlowDownIntent", "SpeedUpIntent"))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        rules = turn.catalog.rules
        old = player(turn)
        slowing = turn.intent_name == "SlowDownIntent"
        new_pace = (slower if slowing else faster)(rules.paces, old.pace)
        if new_pace is None:
            limit = composer(turn, old).pace_at_limit(slowing=slowing, guiding=guiding(turn))
            return turn.send(limit)
        return change_pace(turn, old, new_pace)


class NormalPaceHandler(AbstractRequestHandler):
    """ "Normal pace", "the usual speed": back to the normal pace, remembered per user."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("NormalPaceIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        old = player(turn)
        normal = turn.catalog.rules.normal_pace
        if old.pace.id == normal.id:
            place = old.place(turn.state.progress) if guiding(turn) else None
            spoken = bool(turn.state.progress and turn.state.progress.spoken_until)
            words = choice_words(turn, old)
            return turn.send(words.normal_pace(changed=False, place=place, spoken=spoken))
        return change_pace(turn, old, normal)


def change_pace(turn: Turn, old: RoutinePlayer, new_pace: Pace) -> Response:
    """A new pace, kept from now on. While guiding, a set still being spoken is taken again at
    the new pace, from its first rep; between sets, the new pace starts with the next set."""
    slowing = new_pace.factor > old.pace.factor
    turn.state.pace = new_pace.id
    coach = player(turn)
    if not guiding(turn):
        return turn.send(composer(turn, coach).pace_saved(slowing=slowing))
    progress = turn.state.progress
    assert progress is not None
    if progress.spoken_until and not old.is_finished(progress, turn.now):
        # Said during the set: take that set again at the new pace, from its first rep.
        turn.state.progress = coach.repace(progress, old, turn.now)
        return speak_place(turn, "slower_again" if slowing else "faster_again", name_it=True)
    # Between sets: a finished set is never taken again; the new pace starts with the next.
    old_place = old.place(progress)
    if progress.spoken_until:
        to_do = coach.repace_after(progress, old, turn.now)
    else:
        to_do = coach.repace(progress, old, turn.now)
    place = coach.place(to_do)
    if to_do is None or old_place is None or place is None:
        return lost_place(turn)
    turn.state.progress = to_do
    moved_on = place.step != old_place.step
    return turn.send(
        composer(turn, coach).pace_from_next_set(place, slowing=slowing, moved_on=moved_on)
    )


class RepeatHandler(AbstractRequestHandler):
    """ "Repeat": the last response again, exactly (inside a routine, the current segment)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.RepeatIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if guiding(turn) and _opens_the_routine(turn):
            return repeat_set(turn)
        replayed = turn.replay_last()
        if replayed is not None:
            progress = turn.state.progress
            if guiding(turn) and progress is not None and progress.spoken_until:
                # The set is being spoken again: it is finished only once this replay ends.
                turn.state.progress = player(turn).spoken_again(progress, turn.now)
            return replayed
        if turn.state.progress is not None:
            return not_guiding(turn)
        return nothing(turn, "repeat")


def _opens_the_routine(turn: Turn) -> bool:
    """The set at hand is a routine's first, which its introduction came before."""
    progress = turn.state.progress
    return (
        progress is not None
        and progress.routine_id is not None
        and progress.step == 0
        and progress.segment == 0
        and progress.from_rep == 0
    )


def repeat_set(turn: Turn) -> Response:
    """ "Repeat" at a routine's first set: that set again, not the routine's introduction (the
    last response said both). Any other set is replayed exactly."""
    return speak_place(turn)


class NotGuidingHandler(AbstractRequestHandler):
    """Next / go back / start over / pause with no routine running: say what would work."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, NAVIGATION_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        return not_guiding(Turn.of(handler_input))
