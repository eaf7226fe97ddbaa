"""Guided routines and guided single exercises: start, navigate, pace, pause, resume, finish.

The handlers route on the conversation state in ``can_handle`` (pure predicates over the request,
the session attributes and the user state the interceptor already loaded): "next" means the next
segment while the coach is guiding in this session, and gets a helpful answer otherwise. The moves
themselves are :class:`skill.coach.player.RoutinePlayer`'s; the words are in speech/en/routine.yaml.
"""

from __future__ import annotations

import dataclasses
import logging
import re

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response

from skill.catalog.model import Routine
from skill.clock import effective_bedtime, hours_before_bedtime, is_near_bedtime
from skill.coach.exercise_speech import (
    ExerciseVoice,
    Segment,
    estimated_minutes,
    list_words,
    locate,
    number_words,
    routine_intro_key,
)
from skill.coach.player import Place, RoutinePlayer, faster, slower
from skill.handlers import reminders
from skill.handlers.common import LaunchHandler
from skill.logsafe import clip
from skill.screens import BUTTON_INTENTS, Screen, answer_screen, step_screen
from skill.speech import Speech, capitalized
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


# ---- speaking a place ----------------------------------------------------------------------------


def player(turn: Turn) -> RoutinePlayer:
    return RoutinePlayer.for_pace_id(turn.catalog, turn.state.pace, turn.language)


def counted(turn: Turn, key: str, count: int) -> str:
    """ "one exercise" from ``key + "_one"``; "seven exercises" from ``key`` with the count."""
    if count == 1:
        return turn.phrase(f"{key}_one")
    return turn.phrase(key, count=number_words(count, turn.language))


def speak_place(
    turn: Turn, opening: Speech | None = None, *, name_it: bool = False, introduce: bool = False
) -> Response:
    """Speak the segment the user's progress points at, with what comes next; finish the routine
    if this is its last segment. ``name_it`` names the exercise even mid-way (after a resume, a
    pace change or going back), where plain "next" within an exercise does not need to;
    ``introduce`` opens with the routine's introduction (only when it starts)."""
    coach = player(turn)
    progress = turn.state.progress
    place = coach.place(progress)
    if progress is None or place is None:
        return lost_place(turn)
    speech = Speech().extend(opening or Speech())
    if introduce:
        speech.say(_routine_intro(turn, coach, place))
    if place.segment_index == 0 or name_it:
        speech.say(_exercise_intro(turn, place))
    voice = coach.voice(place.exercise, place.reps, turn.phrase)
    speech.extend(voice.body(place.segment))
    # The set is finished once its speech has run; a request before then interrupted it.
    unpaused = dataclasses.replace(progress, paused=False)
    turn.state.progress = coach.spoken(unpaused, turn.now, speech.seconds)
    card = (capitalized(place.exercise.name), voice.card_text(voice.side(place.segment.first)))
    if place.is_last:
        return _finish(turn, place, speech, card)
    turn.session[GUIDING_KEY] = True
    close, reprompt = _close(turn, place)
    return turn.respond(
        speech.say(close),
        Speech().say(reprompt),
        card=card,
        screen=_step_screen(turn, place, voice),
    )


def _step_screen(turn: Turn, place: Place, voice: ExerciseVoice) -> Screen:
    """The set on screen: the exercise, the side, the same movement sentences the coach says
    for this set, which set of how many, and where in the routine."""
    exercise = place.exercise
    side = voice.side(place.segment.first)
    first_side = place.segment.first < place.reps
    position = exercise.setup if first_side or not exercise.switch else exercise.switch
    lines = [voice.fill(sentence, side) for sentence in (*position, *exercise.movement)]
    reps = counted_digits(turn, "screen.reps", place.segment.count)
    sets = len(place.segments)
    if sets > 1:
        set_text = turn.phrase(
            "screen.set_of", number=place.segment_index + 1, count=sets, reps=reps
        )
    else:
        set_text = turn.phrase("screen.set_one", reps=reps)
    if place.routine is not None:
        progress = turn.phrase(
            "screen.in_routine",
            number=place.step + 1,
            count=place.step_count,
            routine=capitalized(place.routine.name),
        )
    else:
        progress = turn.phrase("screen.on_its_own")
    side_text = (
        capitalized(turn.phrase("screen.side", side=side, body_part=exercise.sides.body_part))
        if side is not None
        else ""
    )
    return step_screen(
        title=capitalized(exercise.name),
        side=side_text,
        lines=lines,
        set_text=set_text,
        progress=progress,
        buttons=[(turn.phrase(f"screen.button_{event}"), event) for event in BUTTON_INTENTS],
    )


def counted_digits(turn: Turn, key: str, count: int) -> str:
    """ "1 rep" from ``key + "_one"``, "5 reps" from ``key``: a count for the eye."""
    return turn.phrase(f"{key}_one") if count == 1 else turn.phrase(key, count=count)


def _routine_intro(turn: Turn, coach: RoutinePlayer, place: Place) -> str:
    routine = place.routine
    if routine is None:
        return turn.phrase("routine.guided_intro", exercise=place.exercise.name)
    minutes = estimated_minutes(coach.estimated_seconds(routine))
    return turn.phrase(
        routine_intro_key(routine),
        routine=routine.name,
        exercises=counted(turn, "routine.exercise_count", len(routine.steps)),
        minutes=counted(turn, "routine.minutes", minutes),
    )


def _exercise_intro(turn: Turn, place: Place) -> str:
    name = place.exercise.name
    if place.segment_index > 0 or place.segment.first > 0:
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
        key, values = _within(place, following)
    return turn.phrase(key, **values), turn.phrase(f"{key}_reprompt", **values)


def _within(place: Place, following: Segment) -> tuple[str, dict[str, str]]:
    side_index, rep = locate(following.first, place.reps)
    if rep == 1 and side_index > 0:
        sides = place.exercise.sides
        return "routine.close_other_side", {
            "side": sides.order[side_index],
            "body_part": sides.body_part,
        }
    return "routine.close_more", {}


def _ready(turn: Turn, place: Place, *, moved_on: bool) -> str:
    """ "Say next for your right leg.": what "next" brings when the set at ``place`` is still to
    do. ``moved_on``: that set begins an exercise other than the one just done."""
    if moved_on:
        return turn.phrase("routine.ready_exercise", exercise=place.exercise.name)
    key, values = _within(place, place.segment)
    key = "routine.ready_other_side" if key == "routine.close_other_side" else "routine.ready_more"
    return turn.phrase(key, **values)


def _finish(turn: Turn, place: Place, speech: Speech, card: tuple[str, str]) -> Response:
    turn.state.progress = None
    turn.session.pop(GUIDING_KEY, None)
    closing = Speech()  # after the last set: also the screen's words
    if place.routine is None:
        closing.say(turn.phrase("routine.exercise_done", exercise=place.exercise.name))
        kept = _restore_routine(turn)
        if kept is not None:
            closing.say(turn.phrase("routine.routine_kept", routine=kept.name))
        closing.say(turn.phrase("common.anything_else"))
        screen = answer_screen(capitalized(place.exercise.name), closing.words())
        return turn.respond(
            speech.extend(closing),
            Speech().say(turn.phrase("common.welcome_reprompt")),
            card=card,
            screen=screen,
        )
    today = turn.now.date()
    turn.state.record_completion(place.routine.id, today)
    days = turn.state.days_this_week(place.routine.id, today)
    closing.say(
        turn.phrase("routine.finished", routine=place.routine.name),
        counted(turn, "routine.days_this_week", days),
    )
    if reminders.offer_after_first_routine(turn, closing):
        screen = answer_screen(capitalized(place.routine.name), closing.words())
        return turn.respond(
            speech.extend(closing), reminders.offer_reprompt(turn), card=card, screen=screen
        )
    closing.say(turn.phrase("routine.finished_goodbye"))
    screen = answer_screen(capitalized(place.routine.name), closing.words())
    return turn.respond(speech.extend(closing), card=card, screen=screen, end_session=True)


def _restore_routine(turn: Turn) -> Routine | None:
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
    return turn.respond(turn.phrase("routine.lost_place"), turn.phrase("routine.nothing_reprompt"))


# ---- starting ------------------------------------------------------------------------------------


def small_hours(turn: Turn) -> bool:
    """Before the morning begins (rules.yaml's day parts): the night, whatever the bedtime."""
    morning = next(part.starts for part in turn.catalog.rules.day_parts if part.id == "morning")
    return turn.now.time() < morning


def near_bedtime(turn: Turn) -> bool:
    """Close to or past the user's bedtime, or in the small hours: no time to exercise."""
    rules = turn.catalog.rules
    bedtime = effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)
    return small_hours(turn) or is_near_bedtime(turn.now, bedtime, rules.bedtime_buffer_hours)


def bedtime_words(turn: Turn) -> str:
    """ "It's close to your bedtime", or after it (the small hours) "It's past your bedtime"."""
    rules = turn.catalog.rules
    bedtime = effective_bedtime(turn.state.bedtime_time(), turn.settings, rules.default_bedtime)
    past = small_hours(turn) or hours_before_bedtime(turn.now, bedtime) < 0
    return turn.phrase("routine.bedtime_past" if past else "routine.bedtime_close")


def _bedtime_warning(turn: Turn, pending: str) -> Response:
    turn.session[PENDING_START_KEY] = pending
    turn.make_offer("tip", topic="bedtime", then=pending)
    return turn.respond(
        turn.phrase("routine.bedtime_warning", bedtime=bedtime_words(turn)),
        turn.phrase("routine.bedtime_warning_reprompt"),
    )


def hurt_today(turn: Turn) -> bool:
    """Whether the user said something hurt earlier today (and has not said since that they
    feel fine)."""
    return turn.state.hurt_on == turn.now.date().isoformat()


def _pain_check(turn: Turn, pending: str, opening: Speech | None = None) -> Response:
    """Before any start or resume on a day something hurt: do they feel fine now? "Yes" starts
    ``pending``; "no" leaves it for another day."""
    turn.make_offer(PAIN_CHECK_OFFER, then=pending)
    return turn.respond(
        Speech().extend(opening or Speech()).say(turn.phrase("care.pain_check")),
        turn.phrase("care.pain_check_reprompt"),
    )


def start_routine(turn: Turn, routine_id: str, *, anyway: bool = False) -> Response:
    """Start a routine from its first exercise (after the pain check on a day something hurt,
    and the bedtime check unless ``anyway`` or the routine is one its author marked as suiting
    bedtime)."""
    if hurt_today(turn):
        return _pain_check(turn, f"routine:{routine_id}")
    suits_bedtime = turn.catalog.routines[routine_id].suits_bedtime
    if not anyway and not suits_bedtime and near_bedtime(turn):
        return _bedtime_warning(turn, f"routine:{routine_id}")
    turn.session.pop(PENDING_START_KEY, None)
    turn.state.routine_place = None
    turn.state.progress = player(turn).start_routine(routine_id, turn.now)
    return speak_place(turn, Speech(), introduce=True)


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
    return speak_place(turn, Speech(), introduce=True)


def resume(turn: Turn, *, anyway: bool = False) -> Response:
    """Pick up the saved place at the first set not yet finished (an interrupted set from its
    start; a finished one is never taken again)."""
    progress = turn.state.progress
    if progress is None:
        return _nothing(turn, "routine.nothing_to_resume")
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
    to_do = coach.to_do(progress, turn.now) if progress is not None else None
    place = coach.place(to_do)
    if progress is None or place is None:
        return lost_place(turn)
    what = _what(turn)
    speech = Speech().extend(opening or Speech())
    if hurt_today(turn):
        return _pain_check(turn, "resume", speech)
    if near_bedtime(turn):
        # Not a resume that the bedtime check would then refuse: the place keeps for tomorrow.
        turn.make_offer("tip", topic="bedtime")
        return turn.respond(
            speech.say(
                turn.phrase(
                    "routine.comeback_bedtime",
                    exercise=place.exercise.name,
                    what=what,
                    bedtime=bedtime_words(turn),
                )
            ),
            turn.phrase("routine.bedtime_warning_reprompt_tips"),
        )
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
        speech.say(turn.phrase("routine.suggest_bedtime_tips", bedtime=bedtime_words(turn)))
    else:
        routine_id = _routine_for_now(turn)
        routine = turn.catalog.routines[routine_id].name
        if turn.state.done_on(routine_id, turn.now.date()):
            speech.say(turn.phrase("routine.suggest_again", routine=routine))
        else:
            speech.say(turn.phrase("routine.suggest_start", routine=routine))
    return turn.respond(
        speech, Speech().say(turn.phrase("routine.nothing_reprompt")), remember=False
    )


def _not_guiding(turn: Turn) -> Response:
    progress = turn.state.progress or turn.state.routine_place
    to_do = player(turn).to_do(progress, turn.now) if progress else None
    place = player(turn).place(to_do)
    if place is None:
        if progress is not None:
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
        return turn.respond(turn.phrase("care.rest_today"), end_session=True)


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
        state = Turn.of(handler_input).state
        return is_request_type("LaunchRequest")(handler_input) and (
            state.progress is not None or state.routine_place is not None
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if turn.state.progress is None:
            _restore_routine(turn)
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
            _restore_routine(turn)
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
        wanted = turn.slot_id("exercise")
        skipped = turn.slot_id("skipped")
        if skipped in turn.catalog.exercises and skipped != place.exercise.id:
            name = turn.catalog.exercises[skipped].name
            return self._stay(turn, place, "routine.skip_later", exercise=name)
        if wanted in turn.catalog.exercises and wanted != place.exercise.id:
            steps = [step.exercise for step in place.routine.steps] if place.routine else []
            later = [i for i, e in enumerate(steps) if e == wanted and i > place.step]
            anywhere = later or [i for i, e in enumerate(steps) if e == wanted]
            if not anywhere:
                name = turn.catalog.exercises[wanted].name
                return self._stay(turn, place, "routine.skip_not_in_routine", exercise=name)
            target = anywhere[0]
        elif wanted == place.exercise.id:
            return self._stay(turn, place, "routine.skip_already_on")
        elif place.next_exercise is None:
            return self._stay(turn, place, "routine.skip_last")
        else:
            target = place.step + 1
        turn.state.progress = coach.step_start(progress, target, turn.now)
        return speak_place(turn, Speech().say(turn.phrase("routine.skipping")))

    @staticmethod
    def _stay(turn: Turn, place: Place, key: str, **values: str) -> Response:
        text = turn.phrase(key, current=place.exercise.name, **values)
        reprompt = Speech().say(turn.phrase("routine.help_reprompt"))
        return turn.respond(Speech().say(text).extend(reprompt), reprompt, remember=False)


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
        return speak_place(turn, Speech().say(turn.phrase("routine.start_over")), introduce=True)


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


class WaitHandler(AbstractRequestHandler):
    """ "Wait", "hold on", "one moment" while guiding: wait with the session open. If the
    microphone closes before they are back, the place is kept (every turn saves it)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WaitIntent")(handler_input) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        _cut_off(turn)
        return turn.respond(
            turn.phrase("routine.wait"), turn.phrase("routine.wait_reprompt"), remember=False
        )


def _cut_off(turn: Turn) -> None:
    """A request that came while the set was still being spoken: that set is to do again."""
    if turn.state.progress is not None:
        turn.state.progress = player(turn).interrupted(turn.state.progress, turn.now)


def _hold_place(turn: Turn, key: str) -> Response:
    _cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    to_do = coach.to_do(progress, turn.now) if progress is not None else None
    place = coach.place(to_do)
    if to_do is None or place is None:
        return lost_place(turn)
    turn.state.progress = coach.pause(to_do, turn.now)
    turn.session.pop(GUIDING_KEY, None)
    return turn.respond(
        Speech().say(turn.phrase(key, exercise=place.exercise.name)), end_session=True
    )


def _asked_mid_routine(turn: Turn) -> tuple[RoutinePlayer, Place | None, Place | None]:
    """For a question asked while guiding: the player, the place the progress points at, and
    the set to do next (that same one if the question cut it off)."""
    _cut_off(turn)
    coach = player(turn)
    progress = turn.state.progress
    current = coach.place(progress)
    return coach, current, coach.place(coach.to_do(progress, turn.now) if progress else None)


class WhereAmIHandler(AbstractRequestHandler):
    """ "Which leg?", "what exercise is this?" while guiding: the exercise and the leg of the
    set at hand (the next one if this one is finished); the routine carries on."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("WhereAmIIntent")(handler_input) and guiding(Turn.of(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        coach, current, place = _asked_mid_routine(turn)
        progress = turn.state.progress
        if current is None or place is None:
            return lost_place(turn)
        moved_on = place.step != current.step
        speech = Speech()
        if moved_on:
            speech.say(turn.phrase("routine.where_done", exercise=current.exercise.name))
        speech.say(_where(turn, place))
        side = coach.voice(place.exercise, place.reps, turn.phrase).side(place.segment.first)
        if side is not None:
            finished = progress is not None and coach.is_finished(progress, turn.now)
            key = "routine.where_side_next" if finished else "routine.where_side"
            speech.say(turn.phrase(key, side=side, body_part=place.exercise.sides.body_part))
        return _answer(turn, speech, place, moved_on=moved_on)


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
        speech = Speech()
        later = [s.exercise for s in place.routine.steps[place.step + 1 :]] if place.routine else []
        if later:
            names = [
                turn.phrase("routine.what_exercise", exercise=turn.catalog.exercises[e].name)
                for e in later
            ]
            speech.say(
                turn.phrase(
                    "routine.left_exercises_one" if len(names) == 1 else "routine.left_exercises",
                    exercise=place.exercise.name,
                    count=number_words(len(names), turn.language),
                    names=list_words(names, turn.phrase),
                )
            )
        else:
            speech.say(turn.phrase("routine.left_last", exercise=place.exercise.name))
        minutes = estimated_minutes(coach.remaining_seconds(place))
        speech.say(
            turn.phrase("routine.left_time", minutes=counted(turn, "routine.minutes", minutes))
        )
        return _answer(turn, speech, place, moved_on=place.step != current.step)


def _where(turn: Turn, place: Place) -> str:
    if place.routine is None:
        return turn.phrase("routine.where_exercise", exercise=place.exercise.name)
    return turn.phrase(
        "routine.where_routine",
        exercise=place.exercise.name,
        number=number_words(place.step + 1, turn.language),
        count=number_words(place.step_count, turn.language),
        routine=place.routine.name,
    )


def _answer(turn: Turn, speech: Speech, place: Place, *, moved_on: bool) -> Response:
    """A question answered mid-routine: the place stays, the session stays open, and "repeat"
    still repeats the set (the answer is not remembered as the last response)."""
    progress = turn.state.progress
    if progress is not None and progress.spoken_until:
        ready = turn.phrase("routine.question_close")
    else:
        ready = _ready(turn, place, moved_on=moved_on)
    return turn.respond(
        speech.say(ready), Speech().say(turn.phrase("routine.help_reprompt")), remember=False
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
        # A "no" was heard: no "sorry, I missed that", but what it can mean from here.
        key = (
            "routine.no_in_routine"
            if turn.intent_name == "AMAZON.NoIntent"
            else ("routine.fallback_routine")
        )
        return turn.respond(
            turn.phrase(key, exercise=place.exercise.name),
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
        progress = turn.state.progress
        assert progress is not None
        coach = player(turn)
        if progress.spoken_until and not old.is_finished(progress, turn.now):
            # Said during the set: take that set again at the new pace, from its first rep.
            turn.state.progress = coach.repace(progress, old, turn.now)
            return speak_place(turn, said.say(turn.phrase("routine.pace_again")), name_it=True)
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
        key = "routine.slower_next_set" if slowing else "routine.faster_next_set"
        ready = _ready(turn, place, moved_on=place.step != old_place.step)
        return turn.respond(
            Speech().say(turn.phrase(key), ready), Speech().say(ready), remember=False
        )

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
            progress = turn.state.progress
            if guiding(turn) and progress is not None and progress.spoken_until:
                # The set is being spoken again: it is finished only once this replay ends.
                turn.state.progress = player(turn).spoken_again(progress, turn.now)
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
    PainCheckAnswerHandler(),
    YesToCoachOfferHandler(),
    NoToCoachOfferHandler(),
    LaunchWithProgressHandler(),
    StartRoutineHandler(),
    GuideExerciseHandler(),
    StartAnywayHandler(),
    NextHandler(),
    ResumeHandler(),
    NothingToResumeHandler(),
    SkipExerciseHandler(),
    PreviousHandler(),
    StartOverHandler(),
    PauseHandler(),
    WaitHandler(),
    RoutineStopHandler(),
    WhereAmIHandler(),
    WhatsLeftHandler(),
    RoutineHelpHandler(),
    RoutineFallbackHandler(),
    PaceHandler(),
    RepeatHandler(),
    NotGuidingHandler(),
]
