"""Guided routines and guided single exercises: start, navigate, pace, pause, resume, finish.

The handlers route on the conversation state in ``can_handle`` (pure predicates over the request,
the session attributes and the user state the interceptor already loaded): "next" means the next
segment while the coach is guiding in this session, and gets a helpful answer otherwise. The moves
themselves are :class:`skill.coach.player.RoutinePlayer`'s; the words are in speech/en/routine.yaml.
"""

from __future__ import annotations

import logging
import re

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.clock import effective_bedtime, is_near_bedtime
from skill.coach.exercise_speech import estimated_minutes, list_words, locate, number_words
from skill.coach.player import Place, RoutinePlayer, faster, slower
from skill.handlers.common import LaunchHandler
from skill.logsafe import clip
from skill.speech import Speech
from skill.turn import Turn

logger = logging.getLogger(__name__)

# Session attribute: True while the coach is guiding a routine or exercise in this session, so
# that "next", "go back", "help" and the rest mean "in the routine". Saved progress from an
# earlier session is not "guiding" until it is resumed.
GUIDING_KEY = "guiding"
# Session attribute: what the user tried to start close to bedtime ("routine:<id>",
# "exercise:<id>" or "resume"), so that "start anyway" starts exactly that.
PENDING_START_KEY = "pending_start"
# Offer kinds this module makes and answers (see skill.turn.OFFER_KEY); "tip" is the answers'.
RESUME_OFFER = "resume"
FRESH_OFFER = "start_fresh"
GUIDE_OFFER = "guide_exercise"
STOP_INTENTS = ("AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent")
RESUME_INTENTS = ("ResumeRoutineIntent", "AMAZON.ResumeIntent")
NAVIGATION_INTENTS = (
    "AMAZON.NextIntent",
    "AMAZON.PreviousIntent",
    "AMAZON.StartOverIntent",
    "AMAZON.PauseIntent",
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


# ---- speaking a place ----------------------------------------------------------------------------


def player(turn: Turn) -> RoutinePlayer:
    return RoutinePlayer.for_pace_id(turn.catalog, turn.state.pace, turn.language)


def counted(turn: Turn, key: str, count: int) -> str:
    """ "one exercise" from ``key + "_one"``; "seven exercises" from ``key`` with the count."""
    if count == 1:
        return turn.phrase(f"{key}_one")
    return turn.phrase(key, count=number_words(count, turn.language))


def speak_place(turn: Turn, opening: Speech | None = None, *, name_it: bool = False) -> Response:
    """Speak the segment the user's progress points at, with what comes next; finish the routine
    if this is its last segment. ``name_it`` names the exercise even mid-way (after a resume, a
    pace change or going back), where plain "next" within an exercise does not need to."""
    coach = player(turn)
    place = coach.place(turn.state.progress)
    if place is None:
        return lost_place(turn)
    speech = Speech().extend(opening or Speech())
    if place.step == 0 and place.segment_index == 0:
        speech.say(_routine_intro(turn, coach, place))
    if place.segment_index == 0 or name_it:
        speech.say(_exercise_intro(turn, place))
    voice = coach.voice(place.exercise, place.reps, turn.phrase)
    speech.extend(voice.body(place.segment))
    card = (_title(place.exercise.name), voice.card_text(voice.side(place.segment.first)))
    if place.is_last:
        return _finish(turn, place, speech, card)
    turn.session[GUIDING_KEY] = True
    close, reprompt = _close(turn, place)
    return turn.respond(speech.say(close), Speech().say(reprompt), card=card)


def _routine_intro(turn: Turn, coach: RoutinePlayer, place: Place) -> str:
    routine = place.routine
    if routine is None:
        return turn.phrase("routine.guided_intro", exercise=place.exercise.name)
    minutes = estimated_minutes(coach.estimated_seconds(routine))
    return turn.phrase(
        "routine.routine_intro",
        routine=routine.name,
        exercises=counted(turn, "routine.exercise_count", len(routine.steps)),
        minutes=counted(turn, "routine.minutes", minutes),
    )


def _exercise_intro(turn: Turn, place: Place) -> str:
    name = place.exercise.name
    if place.segment_index > 0:
        return turn.phrase("routine.exercise_now", exercise=name)
    if place.routine is None:
        return ""  # the guided intro already named it
    if place.step == 0:
        return turn.phrase("routine.exercise_first", exercise=name)
    if place.next_exercise is None:
        return turn.phrase("routine.exercise_last", exercise=name)
    return turn.phrase(
        "routine.exercise_next",
        exercise=name,
        number=number_words(place.step + 1, turn.language),
        count=number_words(place.step_count, turn.language),
    )


def _close(turn: Turn, place: Place) -> tuple[str, str]:
    """What the turn closes with, and its reprompt: what "next" will bring."""
    following = place.next_segment
    if following is None:
        assert place.next_exercise is not None
        key, values = "routine.close_next_exercise", {"exercise": place.next_exercise.name}
    else:
        side_index, rep = locate(following.first, place.reps)
        if rep == 1 and side_index > 0:
            key, values = (
                "routine.close_other_side",
                {"side": place.exercise.sides.order[side_index]},
            )
        else:
            key, values = "routine.close_more", {}
    return turn.phrase(key, **values), turn.phrase(f"{key}_reprompt", **values)


def _finish(turn: Turn, place: Place, speech: Speech, card: tuple[str, str]) -> Response:
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    if place.routine is None:
        speech.say(
            turn.phrase("routine.exercise_done", exercise=place.exercise.name),
            turn.phrase("common.anything_else"),
        )
        return turn.respond(speech, Speech().say(turn.phrase("common.welcome_reprompt")), card=card)
    today = turn.now.date()
    turn.state.record_completion(place.routine.id, today)
    days = turn.state.days_this_week(place.routine.id, today)
    speech.say(
        turn.phrase("routine.finished", routine=place.routine.name),
        counted(turn, "routine.days_this_week", days),
        turn.phrase("routine.finished_goodbye"),
    )
    return turn.respond(speech, card=card, end_session=True)


def _title(name: str) -> str:
    return name[:1].upper() + name[1:]


def lost_place(turn: Turn) -> Response:
    """Saved progress that points at nothing (changed content, a corrupt record): say so, forget
    it, and keep the session usable."""
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    return turn.respond(turn.phrase("routine.lost_place"), turn.phrase("routine.nothing_reprompt"))


# ---- starting ------------------------------------------------------------------------------------


def near_bedtime(turn: Turn) -> bool:
    rules = turn.catalog.rules
    bedtime = effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)
    return is_near_bedtime(turn.now, bedtime, rules.bedtime_buffer_hours)


def _bedtime_warning(turn: Turn, pending: str) -> Response:
    turn.session[PENDING_START_KEY] = pending
    turn.make_offer("tip", topic="bedtime", then=pending)
    return turn.respond(
        turn.phrase("routine.bedtime_warning"), turn.phrase("routine.bedtime_warning_reprompt")
    )


def start_routine(turn: Turn, routine_id: str, *, anyway: bool = False) -> Response:
    """Start a routine from its first exercise (after the bedtime check, unless ``anyway`` or
    the routine is one its author marked as suiting bedtime)."""
    suits_bedtime = turn.catalog.routines[routine_id].suits_bedtime
    if not anyway and not suits_bedtime and near_bedtime(turn):
        return _bedtime_warning(turn, f"routine:{routine_id}")
    turn.session.pop(PENDING_START_KEY, None)
    turn.state.progress = player(turn).start_routine(routine_id, turn.now)
    return speak_place(turn, Speech())


def start_guided_exercise(turn: Turn, exercise_id: str, *, anyway: bool = False) -> Response:
    """Guide one exercise with the same counting and navigation as a routine. The answers'
    "how do I do a bridge?" offers this; "yes" to that offer lands here."""
    if exercise_id not in turn.catalog.exercises:
        return _unknown_exercise(turn, exercise_id)
    if not anyway and near_bedtime(turn):
        return _bedtime_warning(turn, f"exercise:{exercise_id}")
    turn.session.pop(PENDING_START_KEY, None)
    turn.state.progress = player(turn).start_exercise(exercise_id, turn.now)
    return speak_place(turn, Speech())


def resume(turn: Turn, *, anyway: bool = False) -> Response:
    """Pick up the saved place (the segment the user was on, from its start)."""
    progress = turn.state.progress
    if progress is None:
        return _nothing(turn, "routine.nothing_to_resume")
    if not anyway and near_bedtime(turn):
        return _bedtime_warning(turn, "resume")
    turn.session.pop(PENDING_START_KEY, None)
    turn.state.progress = player(turn).resume(progress, turn.now)
    return speak_place(turn, Speech().say(turn.phrase("routine.resume")), name_it=True)


def _start_pending(turn: Turn, pending: str, *, anyway: bool = False) -> Response:
    kind, _, target = pending.partition(":")
    if kind == "routine" and target in turn.catalog.routines:
        return start_routine(turn, target, anyway=anyway)
    if kind == "exercise" and target in turn.catalog.exercises:
        return start_guided_exercise(turn, target, anyway=anyway)
    if kind == "resume" and turn.state.progress is not None:
        return resume(turn, anyway=anyway)
    return start_routine(turn, _routine_for_now(turn), anyway=anyway)


def _routine_for_now(turn: Turn) -> str:
    rules = turn.catalog.rules
    return turn.catalog.routine_for_day_part(rules.day_part(turn.now.time())).id


def _what(turn: Turn) -> str:
    """ "your morning stretches" or "the bridge": what the saved progress is in."""
    progress = turn.state.progress
    routine = turn.catalog.routines.get(progress.routine_id or "") if progress else None
    if routine is not None:
        return turn.phrase("routine.what_routine", routine=routine.name)
    exercise = turn.catalog.exercises.get(progress.exercise_id or "") if progress else None
    return turn.phrase("routine.what_exercise", exercise=exercise.name if exercise else "")


def _offer_comeback(turn: Turn, opening: Speech | None = None) -> Response:
    """Saved progress in a new session: offer to pick up, or after a long gap to start fresh."""
    progress = turn.state.progress
    coach = player(turn)
    place = coach.place(progress)
    if progress is None or place is None:
        return lost_place(turn)
    what = _what(turn)
    speech = Speech().extend(opening or Speech())
    if coach.is_stale(progress, turn.now):
        turn.make_offer(FRESH_OFFER, routine=progress.routine_id, exercise=progress.exercise_id)
        return turn.respond(
            speech.say(turn.phrase("routine.fresh_offer", what=what)),
            turn.phrase("routine.fresh_offer_reprompt", what=what),
        )
    turn.make_offer(RESUME_OFFER)
    return turn.respond(
        speech.say(turn.phrase("routine.resume_offer", exercise=place.exercise.name, what=what)),
        turn.phrase("routine.resume_offer_reprompt"),
    )


def _nothing(turn: Turn, key: str) -> Response:
    """A navigation word with nothing to navigate: say what would work instead. Close to
    bedtime that is a bedtime tip, not the routine the start would then warn against."""
    speech = Speech().say(turn.phrase(key))
    if near_bedtime(turn):
        turn.make_offer("tip", topic="bedtime")
        speech.say(turn.phrase("routine.suggest_bedtime_tips"))
    else:
        routine = turn.catalog.routines[_routine_for_now(turn)].name
        speech.say(turn.phrase("routine.suggest_start", routine=routine))
    return turn.respond(
        speech, Speech().say(turn.phrase("routine.nothing_reprompt")), remember=False
    )


def _not_guiding(turn: Turn) -> Response:
    place = player(turn).place(turn.state.progress)
    if place is None:
        if turn.state.progress is not None:
            return lost_place(turn)
        return _nothing(turn, "routine.nothing_running")
    return turn.respond(
        turn.phrase("routine.nothing_running_saved", exercise=place.exercise.name),
        turn.phrase("routine.nothing_reprompt"),
        remember=False,
    )


def _spoken_words(words: str) -> str:
    """What the user said, safe to say back (no template braces, sensibly short)."""
    return " ".join(re.sub(r"[{}<>&]", " ", words).split()[:8])


def _unknown_routine(turn: Turn, words: str) -> Response:
    names = [r.name for r in turn.catalog.routines.values()]
    suggestion = turn.catalog.routines[_routine_for_now(turn)].name
    return turn.respond(
        Speech().say(
            turn.phrase(
                "routine.unknown_routine",
                words=_spoken_words(words),
                routines=list_words(names, turn.phrase),
            )
        ),
        Speech().say(turn.phrase("routine.which_routine_reprompt", routine=suggestion)),
        remember=False,
    )


def _exercise_examples(turn: Turn) -> str:
    exercises = list(turn.catalog.exercises.values())[:3]
    names = [turn.phrase("routine.what_exercise", exercise=e.name) for e in exercises]
    return list_words(names, turn.phrase)


def _unknown_exercise(turn: Turn, words: str | None) -> Response:
    examples = _exercise_examples(turn)
    first = next(iter(turn.catalog.exercises.values())).name
    if words:
        speech = turn.phrase(
            "routine.unknown_exercise", words=_spoken_words(words), examples=examples
        )
    else:
        speech = turn.phrase("routine.which_exercise", examples=examples)
    return turn.respond(
        Speech().say(speech),
        turn.phrase("routine.which_exercise_reprompt", exercise=first),
        remember=False,
    )


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
        ) in (
            RESUME_OFFER,
            FRESH_OFFER,
            GUIDE_OFFER,
        )

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
        return start_routine(turn, _routine_for_now(turn))


class NoToCoachOfferHandler(AbstractRequestHandler):
    """ "No" to picking up or starting fresh: forget the old place and ask what they'd like."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and offer_kind(
            Turn.of(handler_input)
        ) in (
            RESUME_OFFER,
            FRESH_OFFER,
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        turn.state.progress = None
        turn.session.pop(GUIDING_KEY, None)
        return turn.respond(
            turn.phrase("routine.no_resume"), turn.phrase("common.welcome_reprompt")
        )


class LaunchWithProgressHandler(AbstractRequestHandler):
    """Opening the skill with a routine left unfinished: offer to pick it up (or start fresh)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return (
            is_request_type("LaunchRequest")(handler_input)
            and Turn.of(handler_input).state.progress is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if player(turn).place(turn.state.progress) is None:
            # Nothing to pick up after all: forget it and give the ordinary welcome.
            turn.state.progress = None
            return LaunchHandler().handle(handler_input)
        return _offer_comeback(turn, Speech())


class StartRoutineHandler(AbstractRequestHandler):
    """ "Start my morning stretches", or "start my stretches" (picked by the time of day)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("StartRoutineIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        routine_id = turn.slot_id("routine")
        if routine_id in turn.catalog.routines:
            return start_routine(turn, routine_id)
        words = turn.slot_value("routine")
        if words is None:
            return start_routine(turn, _routine_for_now(turn))
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
        if exercise_id in turn.catalog.exercises:
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
        return start_routine(turn, _routine_for_now(turn), anyway=True)


class ResumeHandler(AbstractRequestHandler):
    """ "Resume my stretches" / "resume" with a saved place: pick it up; after a long gap, offer a
    fresh start (saying "resume" again then resumes anyway)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, RESUME_INTENTS) and (
            Turn.of(handler_input).state.progress is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
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


class NothingToResumeHandler(AbstractRequestHandler):
    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, RESUME_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        return _nothing(Turn.of(handler_input), "routine.nothing_to_resume")


class NextHandler(AbstractRequestHandler):
    """ "Next" / "skip": the next segment, the next exercise, or the finish."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NextIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        progress = turn.state.progress
        moved = player(turn).advance(progress, turn.now) if progress else None
        if moved is None:
            return lost_place(turn)
        turn.state.progress = moved
        return speak_place(turn)


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
        key = "routine.going_back" if went_back else "routine.already_first"
        return speak_place(turn, Speech().say(turn.phrase(key)), name_it=True)


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
        return speak_place(turn, Speech().say(turn.phrase("routine.start_over")))


class PauseHandler(AbstractRequestHandler):
    """ "Pause" / "take a break": keep the place and close the session (a break outlasts the
    microphone); "resume my stretches" picks it up."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.PauseIntent")(handler_input) and guiding(
            Turn.of(handler_input)
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        return _hold_place(Turn.of(handler_input), "routine.pause")


class RoutineStopHandler(AbstractRequestHandler):
    """Stop / cancel / home while guiding: save the place and say so."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, STOP_INTENTS) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        return _hold_place(Turn.of(handler_input), "routine.stop")


def _hold_place(turn: Turn, key: str) -> Response:
    progress = turn.state.progress
    place = player(turn).place(progress)
    if progress is None or place is None:
        return lost_place(turn)
    turn.state.progress = player(turn).pause(progress, turn.now)
    turn.session.pop(GUIDING_KEY, None)
    return turn.respond(
        Speech().say(turn.phrase(key, exercise=place.exercise.name)), end_session=True
    )


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
        if place.routine is None:
            text = turn.phrase("routine.help_exercise", exercise=place.exercise.name)
        else:
            text = turn.phrase(
                "routine.help_routine",
                exercise=place.exercise.name,
                number=number_words(place.step + 1, turn.language),
                count=number_words(place.step_count, turn.language),
                routine=place.routine.name,
            )
        return turn.respond(
            Speech().say(text), Speech().say(turn.phrase("routine.help_reprompt")), remember=False
        )


class RoutineFallbackHandler(AbstractRequestHandler):
    """Not understood while guiding (or a yes/no to no question): keep the place, say what works."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        turn = Turn.of(handler_input)
        if not guiding(turn):
            return False
        if is_intent_name("AMAZON.FallbackIntent")(handler_input):
            return True
        return (
            is_any_intent(handler_input, ("AMAZON.YesIntent", "AMAZON.NoIntent"))
            and turn.offer is None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        place = player(turn).place(turn.state.progress)
        if place is None:
            return lost_place(turn)
        return turn.respond(
            turn.phrase("routine.fallback_routine", exercise=place.exercise.name),
            turn.phrase("routine.help_reprompt"),
            remember=False,
        )


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
            limit = Speech().say(turn.phrase("routine.slowest" if slowing else "routine.fastest"))
            return self._at_limit(turn, limit)
        turn.state.pace = new_pace.id
        said = Speech().say(turn.phrase("routine.slower" if slowing else "routine.faster"))
        if not guiding(turn):
            return turn.respond(
                said.say(turn.phrase("routine.pace_saved")), turn.phrase("routine.nothing_reprompt")
            )
        assert turn.state.progress is not None
        turn.state.progress = player(turn).repace(turn.state.progress, old, turn.now)
        return speak_place(turn, said.say(turn.phrase("routine.pace_again")), name_it=True)

    @staticmethod
    def _at_limit(turn: Turn, said: Speech) -> Response:
        if guiding(turn):
            reprompt = Speech().say(turn.phrase("routine.help_reprompt"))
            return turn.respond(said.extend(reprompt), reprompt, remember=False)
        reprompt = Speech().say(turn.phrase("routine.nothing_reprompt"))
        return turn.respond(said.extend(reprompt), reprompt, remember=False)


class RepeatHandler(AbstractRequestHandler):
    """ "Repeat": the last response again, exactly (inside a routine, the current segment)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.RepeatIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        replayed = turn.replay_last()
        if replayed is not None:
            return replayed
        if turn.state.progress is not None:
            return _not_guiding(turn)
        return _nothing(turn, "routine.nothing_to_repeat")


class NotGuidingHandler(AbstractRequestHandler):
    """Next / go back / start over / pause with no routine running: say what would work."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_any_intent(handler_input, NAVIGATION_INTENTS)

    def handle(self, handler_input: HandlerInput) -> Response:
        return _not_guiding(Turn.of(handler_input))


# Order matters: the first handler whose can_handle is true takes the request.
# 1. Answers to this module's own yes/no offers come first: an offer is the most specific state.
# 2. Launch with saved progress comes before common's plain Launch (which is not in this list).
# 3. Starting commands work in any state (starting something new replaces what was running).
# 4. Commands that mean "in the routine" route on `guiding`; each has a not-guiding counterpart
#    further down (NothingToResume, NotGuiding) so that the word still gets a helpful answer.
# 5. Pace and repeat work everywhere; they come after the guiding-only handlers only for clarity.
# Help, Stop and Fallback outside a routine are left to common's handlers, after answers'.
HANDLERS: list[AbstractRequestHandler] = [
    YesToCoachOfferHandler(),
    NoToCoachOfferHandler(),
    LaunchWithProgressHandler(),
    StartRoutineHandler(),
    GuideExerciseHandler(),
    StartAnywayHandler(),
    ResumeHandler(),
    NothingToResumeHandler(),
    NextHandler(),
    PreviousHandler(),
    StartOverHandler(),
    PauseHandler(),
    RoutineStopHandler(),
    RoutineHelpHandler(),
    RoutineFallbackHandler(),
    PaceHandler(),
    RepeatHandler(),
    NotGuidingHandler(),
]
