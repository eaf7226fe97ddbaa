"""Does every set fit one response? Measured on what the composer actually composes.

``rls-coach validate`` runs :func:`fit_problems`: a set is never cut, so every side of every
exercise, guided on its own and as each routine step, at every pace, and at the most reps a user
may choose (the top of the source's range), must fit Alexa's 8,000 characters of speech with
whatever a turn says around it. The words around it are not listed
here: :meth:`skill.coach.compose.Composer.set_variants` composes each way the set can be spoken,
with the longest variant of every sentence, and the longest of those is the measure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from skill.catalog.model import Catalog, ContentError
from skill.coach.compose import Composed, Composer
from skill.coach.cues import with_cues
from skill.coach.exercise_speech import longest_phrases
from skill.coach.player import Choices, Place, RoutinePlayer
from skill.speech import MAX_SSML_CHARS, Speech
from skill.state import Progress

# A fixed moment for walking a routine (no clock matters here: only the places do).
_EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def fit_problems(catalog: Catalog, language: str = "en") -> list[ContentError]:
    """Every set, of every exercise as guided on its own and as each routine step, at every pace,
    composed each way a turn can speak it with the longest wording, must fit in one response
    within Alexa's 8,000 characters of speech: a set is never split. One problem per exercise
    and count, at the pace where it is longest."""
    phrase = longest_phrases(catalog, language)
    longest: dict[tuple[str, int], int] = {}
    wheres: dict[tuple[str, int], str] = {}  # where each count is first met, for the message
    most = Choices(reps={e.id: e.reps.max for e in catalog.exercises.values()})
    for pace, choices in ((p, c) for p in catalog.rules.paces for c in (Choices(), most)):
        player = RoutinePlayer(catalog, pace, language, choices)
        composer = Composer(catalog, player, phrase, language)
        starts = [
            (player.start_exercise(exercise_id, _EPOCH), "exercises.yaml")
            for exercise_id in catalog.exercises
        ] + [
            (player.start_routine(routine_id, _EPOCH), f"routine {routine_id}")
            for routine_id in catalog.routines
        ]
        for start, where in starts:
            for place in walk(player, start):
                key = (place.exercise.id, place.reps)
                wheres.setdefault(key, where)
                characters = max(
                    _longest_characters(composed, catalog)
                    for composed in composer.set_variants(place)
                )
                longest[key] = max(longest.get(key, 0), characters)
    problems = []
    for (exercise_id, reps), characters in sorted(longest.items()):
        where = wheres[(exercise_id, reps)]
        if characters > MAX_SSML_CHARS:
            problems.append(
                ContentError(
                    "exercises.yaml",
                    (exercise_id, "reps"),
                    f"one side of {reps} reps ({where}) takes {characters} characters of speech "
                    f"at the slowest pace, and a side must fit one response (Alexa allows "
                    f"{MAX_SSML_CHARS}): count fewer reps or shorten the cues",
                )
            )
    return problems


def _longest_characters(composed: Composed, catalog: Catalog) -> int:
    """The longest a composed set is sent: with its sound cues, or slower at night."""
    sizes = [with_cues(composed, catalog.rules).speech.characters]
    if catalog.rules.night is not None:
        night = Speech(list(composed.speech.parts), rate=catalog.rules.night.rate)
        sizes.append(night.characters)
    return max(sizes)


def walk(player: RoutinePlayer, start: Progress | None) -> Iterator[Place]:
    """Every place from ``start`` to the end, as "next" after "next" reaches them."""
    progress: Progress | None = start
    while progress is not None:
        place = player.place(progress)
        if place is None:
            return
        yield place
        progress = player.advance(progress, _EPOCH)
