"""What a routine's introduction says for this user: how many exercises and about how long, which
ones they left out, which ones a short session keeps for later, and their pace when it is not the
normal one. Pure: words come in through ``phrase``; the sentences go out."""

from __future__ import annotations

from skill.coach.exercise_speech import (
    Phrase,
    estimated_minutes,
    number_words,
    routine_intro_key,
)
from skill.coach.player import Place, RoutinePlayer
from skill.speech import spoken_list


def counted(phrase: Phrase, keys: tuple[str, str], count: int, language: str = "en") -> str:
    """ "one exercise" from the second of ``keys``; "seven exercises" from the first, with the
    count in words."""
    many, one = keys
    if count == 1:
        return phrase(one)
    return phrase(many, count=number_words(count, language))


def exercise_names(phrase: Phrase, names: list[str]) -> str:
    """ "the lunge and stretch and the bridge"."""
    return spoken_list(phrase, [phrase("routine.what_exercise", exercise=n) for n in names])


def routine_intro(phrase: Phrase, player: RoutinePlayer, place: Place) -> list[str]:
    """The introduction of the routine ``place`` starts, as this user does it."""
    routine = place.routine
    if routine is None:
        return [phrase("routine.guided_intro", exercise=place.exercise.name)]
    language = player.language
    out = []
    if place.later:
        chosen = [exercise.name for exercise, _ in place.steps]
        out.append(
            phrase(
                "routine.routine_intro_later",
                chosen=exercise_names(phrase, chosen),
                later=exercise_names(phrase, [e.name for e in place.later]),
            )
        )
    minutes = estimated_minutes(player.steps_seconds(list(place.steps)))
    values = {
        "routine": routine.name,
        "exercises": counted(
            phrase,
            ("routine.exercise_count", "routine.exercise_count_one"),
            len(place.steps),
            language,
        ),
        "minutes": counted(phrase, ("routine.minutes", "routine.minutes_one"), minutes, language),
    }
    left_out = player.left_out_of(routine)
    if left_out:
        names = exercise_names(phrase, [e.name for e in left_out])
        out.append(phrase(routine_intro_key(routine) + "_without", left_out=names, **values))
    else:
        out.append(phrase(routine_intro_key(routine), **values))
    if player.pace.id != "normal":
        out.append(phrase("routine.intro_pace", pace=phrase(f"routine.pace_{player.pace.id}")))
    return out
