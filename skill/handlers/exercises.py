"""Exercises and routines described: "how do I do a bridge?", "what exercises do you know?",
"what routines are there?". Every fact comes from the catalog; every framing sentence from
``speech/en/answers.yaml``.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name
from ask_sdk_model import Response

from skill.catalog.model import DAY_PARTS, KINDS, Exercise
from skill.clock import is_near_bedtime
from skill.coach.exercise_speech import fill_sides, number_words
from skill.handlers.aside import answered, second_request_waits
from skill.handlers.guiding import lost_place, player
from skill.handlers.speaking import short_list, spoken_list, user_bedtime
from skill.screens import answer_screen
from skill.speech import Speech, capitalized
from skill.turn import Turn

EXAMPLES_TO_NAME = 3  # "name two or three it does"


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


def explain_exercise(turn: Turn, exercise: Exercise) -> Response:
    """The description, then an offer to walk them through it."""
    description = describe_exercise(turn, exercise)
    card = (exercise.name.capitalize(), f"{exercise.summary}\n\n{description.plain()}")
    screen = answer_screen(capitalized(exercise.name), description.words())
    if second_request_waits(turn):  # the second of two requests is offered instead
        return answered(turn, description, card=card, screen=screen)
    speech = Speech().extend(description).say(turn.phrase("answers.explain_offer"))
    turn.make_offer("guide_exercise", exercise=exercise.id)
    reprompt = Speech().say(turn.phrase("answers.explain_offer_reprompt", name=exercise.name))
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


def about_this_exercise(turn: Turn) -> Response:
    """Mid-routine, "what's this one good for?", "why are we doing this?": what the exercise
    being done does and the muscles it works, then where they are."""
    place = player(turn).place(turn.state.progress)
    if place is None:
        return lost_place(turn)
    exercise = place.exercise
    speech = Speech().say(exercise.summary)
    if exercise.muscles:
        muscles = spoken_list(turn, list(exercise.muscles))
        speech.say(turn.phrase("answers.this_exercise_muscles", muscles=muscles))
    return answered(turn, speech)
