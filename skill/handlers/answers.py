"""Answers: single exercises, lists, "can I … tonight?", tips, medication questions and bedtime.

Every fact spoken here comes from the catalog (exercises, activities, tips); every framing
sentence from ``speech/en/answers.yaml``. ``can_handle`` reads only the request and the session's
pending offer, never storage or the network.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import Any

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.advice import (
    Advice,
    Reason,
    Verdict,
    advise,
    likely_bedtime,
    read_clock,
    resolve_moment,
)
from skill.catalog.model import DAY_PARTS, KINDS, Activity, Exercise, Medicine, TipTopic
from skill.clock import effective_bedtime, is_near_bedtime
from skill.coach.exercise_speech import fill_sides, number_words
from skill.logsafe import clip
from skill.lookup import ACTIVITY, EXERCISE, MEDICINE, ROUTINE, TIP, Found, find
from skill.reminder_words import read_clock_words
from skill.screens import answer_screen
from skill.speech import Speech, capitalized
from skill.speech import spoken_list as speech_list
from skill.turn import OFFER_KEY, Turn

logger = logging.getLogger(__name__)

# The activity the last "can I …?" or "how fast …?" answer was about, so that a follow-up with no
# activity named ("how fast?", "how far should I go?") is about it.
LAST_ACTIVITY_KEY = "last_activity"
TIP_CURSOR_KEY = "tip_cursor"  # session: topic id → index of the next point to give
MAX_NAMES_IN_A_LIST = 4  # "a short list, not a wall of names"
EXAMPLES_TO_NAME = 3  # "name two or three it does"
MEDICATION_TOPIC = "medication"
BEDTIME_CHECK_OFFER = "bedtime_check"
# Evening bedtimes this early (17:00 to 19:59) were perhaps said as a morning time: ask.
EARLY_EVENING_BEDTIMES = (17, 20)


# --------------------------------------------------------------------------------------------
# Small speaking helpers
# --------------------------------------------------------------------------------------------


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
    offer = handler_input.attributes_manager.session_attributes.get(OFFER_KEY)
    return offer if isinstance(offer, dict) else None


def offer_kind_is(handler_input: HandlerInput, *kinds: str) -> bool:
    offer = pending_offer(handler_input)
    return offer is not None and offer.get("kind") in kinds


# --------------------------------------------------------------------------------------------
# One exercise, and the lists
# --------------------------------------------------------------------------------------------


def example_exercises(turn: Turn) -> list[Exercise]:
    """Two or three exercises to name: one of each kind first, so the examples show the range."""
    exercises = list(turn.catalog.exercises.values())
    first_of_kind: dict[str, Exercise] = {}
    for exercise in exercises:
        first_of_kind.setdefault(exercise.kind, exercise)
    chosen = [first_of_kind[kind] for kind in KINDS if kind in first_of_kind]
    chosen += [e for e in exercises if e not in chosen]
    return chosen[:EXAMPLES_TO_NAME]


def exercise_examples_words(turn: Turn) -> str:
    names = [turn.phrase("answers.the_exercise", name=e.name) for e in example_exercises(turn)]
    return spoken_list(turn, names, "or")


def unknown_exercise(turn: Turn) -> Response:
    """No exercise resolved: the entry the words are about, if the catalog has one (an activity,
    a tip, a medicine's doctor answer), else which exercises the coach can explain."""
    words = turn.slot_value("exercise")
    if found := find(turn.catalog, words, prefer=(EXERCISE,)):
        return answer_about(turn, found)
    if words:
        logger.info("asked about an exercise the catalog does not have: '%s'", clip(words))
    examples = exercise_examples_words(turn)
    speech = Speech().say(turn.phrase("answers.which_exercise", examples=examples))
    reprompt = turn.phrase("answers.exercise_reprompt", example=example_exercises(turn)[0].name)
    return turn.respond(speech, Speech().say(reprompt))


def describe_exercise(turn: Turn, exercise: Exercise) -> Speech:
    """Position and setup, the movement, reps (and holds, which the movement names), how many the
    coach counts when that is not the most the source gives, and a caution."""
    side, other_side = exercise.sides.order if exercise.sides.per_side else (None, None)
    intro = "answers.explain_intro_plural" if exercise.plural else "answers.explain_intro"
    speech = Speech().say(turn.phrase(intro, name=exercise.name))
    for sentence in (*exercise.setup, *exercise.movement):
        speech.say(fill_sides(sentence, side, other_side))
    reps = reps_words(turn, exercise)
    body_part = exercise.sides.body_part
    if exercise.sides.per_side:
        speech.say(
            turn.phrase(
                "answers.explain_reps_per_side",
                reps=reps,
                other_side=other_side,
                body_part=body_part,
            )
        )
    else:
        speech.say(turn.phrase("answers.explain_reps", reps=reps))
    if exercise.reps.count != exercise.reps.max:
        # The same count the guided exercise and every routine use, said where the range is.
        count = number_words(exercise.reps.count, turn.language)
        key = (
            "answers.explain_count_per_side" if exercise.sides.per_side else "answers.explain_count"
        )
        speech.say(turn.phrase(key, count=count, body_part=body_part))
    return speech.say(exercise.cautions[0])


def reps_words(turn: Turn, exercise: Exercise) -> str:
    """The source's number of reps as said: "up to five", "five to eight", "ten", or the
    content's own wording ("a few")."""
    reps = exercise.reps
    if reps.spoken:
        return reps.spoken
    most = number_words(reps.max, turn.language)
    if reps.min == reps.max:
        return most
    if reps.min is not None:
        least = number_words(reps.min, turn.language)
        return turn.phrase("answers.reps_range", least=least, most=most)
    return turn.phrase("answers.reps_up_to", most=most)


class ExplainExerciseHandler(AbstractRequestHandler):
    """ "How do I do a bridge?": a short description, then an offer to walk them through it."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ExplainExerciseIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        exercise = turn.catalog.exercises.get(turn.slot_id("exercise") or "")
        if exercise is None:
            return unknown_exercise(turn)
        return explain_exercise(turn, exercise)


def explain_exercise(turn: Turn, exercise: Exercise) -> Response:
    """The description, then an offer to walk them through it."""
    description = describe_exercise(turn, exercise)
    card = (exercise.name.capitalize(), f"{exercise.summary}\n\n{description.plain()}")
    speech = Speech().extend(description).say(turn.phrase("answers.explain_offer"))
    turn.make_offer("guide_exercise", exercise=exercise.id)
    reprompt = Speech().say(turn.phrase("answers.explain_offer_reprompt", name=exercise.name))
    screen = answer_screen(capitalized(exercise.name), description.words())
    return turn.respond(speech, reprompt, card=card, screen=screen)


class ListExercisesHandler(AbstractRequestHandler):
    """ "What exercises do you know?": grouped by kind, a few names per group."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ListExercisesIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        exercises = list(turn.catalog.exercises.values())
        count = number_words(len(exercises), turn.language)
        speech = Speech().say(turn.phrase("answers.list_exercises", count=count))
        for kind in KINDS:
            names = [e.name for e in exercises if e.kind == kind]
            if names:
                label = turn.phrase(f"answers.kind_{kind}")
                group = short_list(turn, names)
                speech.say(turn.phrase("answers.list_group", kind=label, names=group))
        speech.say(turn.phrase("answers.list_exercises_question"))
        reprompt = turn.phrase("answers.exercise_reprompt", example=example_exercises(turn)[0].name)
        card_text = "\n".join(e.name.capitalize() for e in exercises)
        return turn.respond(speech, Speech().say(reprompt), card=("", card_text))


class ListRoutinesHandler(AbstractRequestHandler):
    """ "What routines are there?": their names, and the one that suits the time of day."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ListRoutinesIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        # Morning routines first: the order of the day, not of the files.
        routines = sorted(
            turn.catalog.routines.values(),
            key=lambda r: (
                min(DAY_PARTS.index(part) for part in r.times_of_day),
                len(r.times_of_day),
            ),
        )
        names = short_list(turn, [r.name for r in routines])
        listed = turn.phrase(
            "answers.list_routines", count=number_words(len(routines), turn.language), names=names
        )
        speech = Speech().say(listed)
        rules = turn.catalog.rules
        day_part = rules.day_part(turn.now.time())
        suggested = turn.catalog.routine_for_day_part(day_part)
        # No routine is suggested in the hours before bed or at night: the advice is to rest then.
        if day_part != "night" and not is_near_bedtime(
            turn.now, user_bedtime(turn), rules.bedtime_buffer_hours
        ):
            speech.say(turn.phrase("answers.list_routines_suggest", routine=suggested.name))
        reprompt = turn.phrase("answers.list_routines_reprompt", routine=suggested.name)
        return turn.respond(speech, Speech().say(reprompt))


# --------------------------------------------------------------------------------------------
# "Can I … ?" and "how fast should I … ?"
# --------------------------------------------------------------------------------------------


def user_bedtime(turn: Turn) -> dt.time:
    return effective_bedtime(
        turn.state.bedtime_time(), turn.settings, turn.catalog.rules.default_bedtime
    )


def allowed_activities(turn: Turn) -> list[Activity]:
    return [a for a in turn.catalog.activities.values() if a.allowed]


def unknown_activity(turn: Turn, *, limit: bool = False) -> Response:
    """No activity resolved: the entry the words are about, if the catalog has one, else which
    activities the coach can advise on. ``limit``: the question was "how fast/far/much"."""
    words = turn.slot_value("activity")
    if found := find(turn.catalog, words, prefer=(ACTIVITY,)):
        return answer_about(turn, found, limit=limit)
    if words:
        logger.info("asked about an activity the catalog does not have: '%s'", clip(words))
    known = allowed_activities(turn)
    examples = spoken_list(turn, [a.name for a in known[:EXAMPLES_TO_NAME]], "or")
    speech = Speech().say(turn.phrase("answers.which_activity", examples=examples))
    reprompt = turn.phrase("answers.activity_reprompt", example=known[0].name)
    return turn.respond(speech, Speech().say(reprompt))


def verdict_speech(turn: Turn, advice: Advice) -> Speech:
    """The verdict, its reason from the catalog, and a better alternative where there is one."""
    activity = advice.activity
    speech = Speech()
    if advice.verdict is Verdict.NO:
        return speech.say(
            turn.phrase("answers.lead_no"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    if advice.verdict is Verdict.BETTER_ANOTHER_TIME:
        return speech.say(
            # The reason first: it is why the answer is "not now".
            turn.phrase("answers.lead_better_another_time"),
            turn.phrase(f"answers.reason_{advice.reason.value}"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    if advice.verdict is Verdict.EARLIER_IS_BETTER:
        best = best_times_words(turn, activity.best_times)
        return speech.say(
            turn.phrase("answers.lead_earlier_is_better"),
            local_units(turn, activity.about),
            turn.phrase(f"answers.reason_{Reason.OFF_PEAK.value}", best_times=best),
            local_units(turn, activity.limit or ""),
        )
    return speech.say(
        turn.phrase("answers.lead_yes", name=activity.name),
        local_units(turn, activity.about),
        local_units(turn, activity.limit or ""),
    )


class CanIDoHandler(AbstractRequestHandler):
    """ "Can I swim tonight?": a verdict for the activity at that time, given the user's bedtime."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("CanIDoIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if (sensitive := named_condition(turn)) is not None:
            return answer_about(turn, sensitive)  # "can I swim with a bad knee": the doctor
        activity = turn.catalog.activities.get(turn.slot_id("activity") or "")
        if activity is None:
            return unknown_activity(turn)
        return can_i_answer(turn, activity)


def named_condition(turn: Turn) -> Found | None:
    """A medicine, a condition or an injury named anywhere in the request's slot words: those
    questions only ever get the doctor answer, whatever else they ask."""
    request = turn.handler_input.request_envelope.request
    slots = getattr(getattr(request, "intent", None), "slots", None) or {}
    for name in slots:
        found = find(turn.catalog, turn.slot_value(name))
        if found is not None and found.sensitive:
            return found
    return None


def can_i_answer(turn: Turn, activity: Activity, *, when: str | None = None) -> Response:
    """The verdict for the activity at the time the request names (or now), then "anything else".
    ``when``: a time phrase id found in free words, for requests with no time slot."""
    bedtime = user_bedtime(turn)
    moment = resolve_moment(
        turn.catalog,
        turn.now,
        bedtime,
        phrase_id=when or turn.slot_id("when"),
        phrase_words=turn.slot_value("when"),
        time_value=turn.slot_value("time"),
    )
    speech = Speech()
    if not moment.understood:
        logger.info(
            "could not read the time (when='%s', time='%s'); answering for now",
            clip(turn.slot_value("when")),
            clip(turn.slot_value("time")),
        )
        speech.say(turn.phrase("answers.time_not_understood"))
    elif moment.clock is not None:
        today = moment.at.date() == turn.now.date()
        key = "answers.at_clock" if today else "answers.at_clock_tomorrow"
        speech.say(turn.phrase(key, clock=clock_words(turn, moment.clock)))
    advice = advise(activity, moment.at, bedtime, turn.catalog.rules)
    turn.session[LAST_ACTIVITY_KEY] = activity.id
    closing = anything_else(turn)
    verdict = verdict_speech(turn, advice)
    screen = answer_screen(capitalized(activity.name), verdict.words())
    speech.extend(verdict).extend(closing)
    return turn.respond(speech, closing, screen=screen)


class ActivityLimitHandler(AbstractRequestHandler):
    """ "How fast should I cycle?": the activity's limit (below 10 mph), and when it works best."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("ActivityLimitIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        if (sensitive := named_condition(turn)) is not None:
            return answer_about(turn, sensitive)
        activity = turn.catalog.activities.get(turn.slot_id("activity") or "")
        if activity is None and turn.slot_value("activity") is None:
            # "How fast?" straight after an answer about cycling: about cycling.
            activity = turn.catalog.activities.get(str(turn.session.get(LAST_ACTIVITY_KEY)))
        if activity is None:
            return unknown_activity(turn, limit=True)
        return limit_answer(turn, activity)


def limit_answer(turn: Turn, activity: Activity) -> Response:
    """How fast, far or much: the activity's limit and when it works best (or why to avoid it)."""
    turn.session[LAST_ACTIVITY_KEY] = activity.id
    speech = Speech()
    if not activity.allowed:
        speech.say(
            turn.phrase("answers.lead_no"),
            local_units(turn, activity.about),
            turn.phrase("answers.instead", instead=local_units(turn, activity.instead)),
        )
    elif activity.limit:
        best = best_times_words(turn, activity.best_times)
        if activity.met is not None:
            # An activity the articles don't name: say so, and what they say for its intensity.
            speech.say(activity.about)
        speech.say(
            local_units(turn, activity.limit),
            turn.phrase("answers.limit_best_time", best_times=best),
            local_units(turn, activity.tip or ""),
        )
    else:
        speech.say(activity.about, turn.phrase("answers.no_limit"))
    screen = answer_screen(capitalized(activity.name), speech.words())
    closing = anything_else(turn)
    return turn.respond(speech.extend(closing), closing, screen=screen)


# --------------------------------------------------------------------------------------------
# Tips: one point per answer, then an offer of another
# --------------------------------------------------------------------------------------------


def _cursor(turn: Turn) -> dict[str, int]:
    cursor = turn.session.get(TIP_CURSOR_KEY)
    if not isinstance(cursor, dict):
        cursor = {}
        turn.session[TIP_CURSOR_KEY] = cursor
    return cursor


def _heard(turn: Turn, topic: TipTopic) -> int:
    value = _cursor(turn).get(topic.id, 0)
    return value if isinstance(value, int) and value >= 0 else 0


def next_general_tip(turn: Turn, exclude: str | None = None) -> tuple[TipTopic, int]:
    """The next point nobody has heard this session, topic by topic in the catalog's order;
    when every point has been heard, the rotation starts again."""
    topics = [t for t in turn.catalog.tips.values() if not t.sensitive and t.id != exclude]
    for topic in topics:
        heard = _heard(turn, topic)
        if heard < len(topic.points):
            return topic, heard
    turn.session[TIP_CURSOR_KEY] = {}
    return topics[0], 0


def give_tip(
    turn: Turn, topic: TipTopic, point: int | None = None, prefix: str | None = None
) -> Response:
    """One point of a topic (the next one not heard, unless ``point`` says which), then an offer
    of the next: the same topic while it has more, else another topic."""
    if point is None or not 0 <= point < len(topic.points):
        point = _heard(turn, topic) % len(topic.points)
    _cursor(turn)[topic.id] = max(_heard(turn, topic), point + 1)
    speech = Speech().say(prefix or "", topic.points[point])
    if point + 1 < len(topic.points):
        next_topic, next_point = topic, point + 1
        offer = turn.phrase("answers.tip_offer_same", topic=topic.name)
    else:
        next_topic, next_point = next_general_tip(turn, exclude=topic.id)
        offer = turn.phrase("answers.tip_offer_other", topic=next_topic.name)
    screen = answer_screen(capitalized(topic.name), topic.points[point])
    speech.say(offer)
    turn.make_offer("tip", topic=next_topic.id, point=next_point)
    return turn.respond(
        speech, Speech().say(turn.phrase("answers.tip_offer_reprompt")), screen=screen
    )


def medication_answer(
    turn: Turn,
    topic: TipTopic | None = None,
    *,
    medicine: Medicine | None = None,
    asked: bool = True,
) -> Response:
    """A kind word (naming the medicine, when the catalog knows it), then the catalog's own
    answer: talk to your doctor. Never more. ``asked``: the words were a question."""
    topic = topic or turn.catalog.tips[MEDICATION_TOPIC]
    if medicine is not None:
        lead = turn.phrase("answers.medicine_named", medicine=medicine.name)
    else:
        lead = turn.phrase("answers.medication_lead" if asked else "answers.doctor_lead")
    speech = Speech().say(lead, *topic.points)
    screen = answer_screen(turn.phrase("screen.doctor_headline"), " ".join(topic.points))
    closing = anything_else(turn)
    return turn.respond(speech.extend(closing), closing, screen=screen)


class TipHandler(AbstractRequestHandler):
    """ "Give me bedtime tips", "what about cold packs", "give me a tip"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("TipIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        topic = turn.catalog.tips.get(turn.slot_id("topic") or "")
        if topic is not None and topic.sensitive:
            return medication_answer(turn, topic)
        if topic is not None:
            return give_tip(turn, topic)
        words = turn.slot_value("topic")
        if found := find(turn.catalog, words, prefer=(TIP,)):
            return answer_about(turn, found)
        prefix = None
        if words:
            logger.info("asked for a tip on a topic the catalog does not have: '%s'", clip(words))
            prefix = turn.phrase("answers.tip_unknown_topic")
        general, point = next_general_tip(turn)
        return give_tip(turn, general, point, prefix=prefix)


class TipYesHandler(AbstractRequestHandler):
    """ "Yes" to "would you like another tip?" (also offered by the routines before bedtime)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.YesIntent")(handler_input) and offer_kind_is(
            handler_input, "tip"
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        offer = turn.offer or {}
        topic = turn.catalog.tips.get(str(offer.get("topic")))
        if topic is None or topic.sensitive:
            topic, point = next_general_tip(turn)
            return give_tip(turn, topic, point)
        point = offer.get("point")
        return give_tip(turn, topic, point if isinstance(point, int) else None)


class DeclineOfferHandler(AbstractRequestHandler):
    """ "No" to another tip or to a walk-through of an explained exercise: a polite goodbye."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("AMAZON.NoIntent")(handler_input) and offer_kind_is(
            handler_input, "tip", "guide_exercise"
        )

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        kind = (turn.offer or {}).get("kind")
        key = "answers.tips_declined" if kind == "tip" else "answers.guide_declined"
        return turn.respond(turn.phrase(key), end_session=True)


class MedicationHandler(AbstractRequestHandler):
    """ "Should I take my medication?" / "can you diagnose me?": only ever "ask your doctor"."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name("MedicationIntent")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn.of(handler_input)
        medicine = turn.catalog.medicines.get(turn.slot_id("medicine") or "")
        if medicine is None:
            # "Can I have a soda" is caught here too: words the catalog has another answer for
            # get that answer. Anything else asked about taking stays with the doctor.
            found = find(turn.catalog, turn.slot_value("medicine"), prefer=(MEDICINE,))
            if found is not None and not (found.kind == TIP and found.id == MEDICATION_TOPIC):
                return answer_about(turn, found)
        return medication_answer(turn, medicine=medicine)


# --------------------------------------------------------------------------------------------
# Any words: whatever the catalog knows about them
# --------------------------------------------------------------------------------------------


def answer_about(turn: Turn, found: Found, *, limit: bool = False) -> Response:
    """The catalog's answer about an entry some words named, whichever intent caught them:
    a medicine or sensitive topic → the doctor; an exercise → how to do it; an activity → can I
    (or, for "how fast", its limit); a routine → how to start it; a tip topic → its next tip."""
    catalog = turn.catalog
    if found.kind == MEDICINE:
        return medication_answer(turn, medicine=catalog.medicines[found.id])
    if found.kind == EXERCISE:
        return explain_exercise(turn, catalog.exercises[found.id])
    if found.kind == ACTIVITY:
        activity = catalog.activities[found.id]
        return limit_answer(turn, activity) if limit else can_i_answer(turn, activity)
    if found.kind == ROUTINE:
        routine = catalog.routines[found.id]
        speech = Speech().say(
            turn.phrase(
                "answers.routine_named",
                routine=routine.name,
                count=number_words(len(routine.steps), turn.language),
            )
        )
        reprompt = turn.phrase("answers.list_routines_reprompt", routine=routine.name)
        return turn.respond(speech.say(reprompt), Speech().say(reprompt))
    topic = catalog.tips[found.id]
    return medication_answer(turn, topic) if topic.sensitive else give_tip(turn, topic)


def nothing_found(turn: Turn, words: str | None) -> Response:
    """Words that name nothing the catalog knows: what the coach can do (never the words back)."""
    if words:
        logger.info("a question the catalog has no answer for: '%s'", clip(words))
    speech = Speech().say(turn.phrase("answers.not_found"))
    return turn.respond(speech, Speech().say(turn.phrase("answers.not_found_reprompt")))


# --------------------------------------------------------------------------------------------
# Bedtime
# --------------------------------------------------------------------------------------------


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
            logger.info("could not read a bedtime from '%s'", clip(turn.slot_value("bedtime")))
            return turn.respond(
                turn.phrase("answers.bedtime_unclear"), turn.phrase("answers.bedtime_reprompt")
            )
        bedtime = likely_bedtime(read[0], meridiem_said=read[1])
        return confirm_bedtime(turn, bedtime, ask_if_morning=not read[1])


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
    closing = anything_else(turn)
    return turn.respond(speech.extend(closing), closing, screen=screen)


# Order matters: the first handler whose can_handle is true takes the request. The routine
# handlers come before these (they route on a routine in progress); the Yes/No handlers here take
# only the offers this module makes ("tip", and "no" to "guide_exercise", whose "yes" the routine
# handlers start); common.HANDLERS, with the catch-alls, come after.
HANDLERS: list[AbstractRequestHandler] = [
    TipYesHandler(),
    DeclineOfferHandler(),
    ExplainExerciseHandler(),
    ListExercisesHandler(),
    ListRoutinesHandler(),
    CanIDoHandler(),
    ActivityLimitHandler(),
    TipHandler(),
    MedicationHandler(),
    SetBedtimeHandler(),
]
