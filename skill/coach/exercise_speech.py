"""Speaking an exercise: setup, the movement, counted reps paced by pauses, holds, side switches,
and the card.

An exercise is worked as a flat run of reps: for a per-side exercise of five reps, reps 0–4 are
the first side and 5–9 the second. A :class:`Segment` is a contiguous slice of that run; each
response speaks one segment. :func:`plan_segments` gives one segment per side (or one for an
exercise done once): a set is never cut, so nobody kneeling in a lunge has to say "next" before
the set is over. :func:`fit_problems` checks, for ``rls-coach validate``, that every side at every
pace fits Alexa's limits with the longest wording around it.

A pace's factor scales the pauses between movements; it never shortens a hold or the time to get
into position (a slower pace lengthens both), so no pace changes what the articles give.

Everything here is pure: strings come in through a ``phrase(key, **values)`` function (a Turn's,
or the longest-variant one) and out as :class:`~skill.speech.Speech`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from skill.catalog.model import Catalog, ContentError, Exercise, Routine
from skill.speech import MAX_SSML_CHARS, Speech

logger = logging.getLogger(__name__)

Phrase = Callable[..., str]  # (key, **values) → the filled-in sentence

# After the "and release" that ends a set of reps ending in a hold, a moment to let go.
RELEASE_PAUSE_SECONDS = 1.0

# Everything a response may say around a segment's body, by position. At most one alternative of
# each group is spoken (an alternative may be several strings said together), so the segment
# budget keeps room for the longest alternative of each group that can occur at that position.
# The conversation tests check real responses against the budget, which catches a string added to
# a response but not here.
Alternatives = tuple[tuple[str, ...], ...]
GREETINGS: Alternatives = (  # what this turn did
    ("routine.resume",),
    ("routine.skipping",),
    ("routine.going_back",),
    ("routine.already_first",),
    ("routine.start_over",),
    ("routine.slower", "routine.pace_again"),
    ("routine.faster", "routine.pace_again"),
)
FIRST_GREETINGS: Alternatives = (("common.disclaimer",),)  # a first-ever start
ROUTINE_INTROS: Alternatives = (  # once, at the start
    ("routine.routine_intro_singular", "routine.exercise_count", "routine.minutes"),
    ("routine.routine_intro_plural", "routine.exercise_count", "routine.minutes"),
    ("routine.guided_intro",),
)
EXERCISE_INTROS: Alternatives = (
    ("routine.exercise_first",),
    ("routine.exercise_next",),
    ("routine.exercise_last",),
    ("routine.exercise_now",),
)
CLOSES: Alternatives = (
    ("routine.close_more",),
    ("routine.close_other_side",),
    ("routine.close_next_exercise",),
)
LAST_CLOSES: Alternatives = (
    ("routine.finished", "routine.days_this_week", "routine.finished_goodbye"),
    ("routine.finished", "routine.days_this_week", "reminders.offer"),
    ("routine.exercise_done", "common.anything_else"),
)


def number_words(number: int, language: str = "en") -> str:
    """A count as the coach says it: 5 → "five"."""
    # Imported on first use: num2words loads all of its languages (~16 ms), which a cold start
    # that only answers "can I swim tonight?" need not pay.
    from num2words import num2words  # noqa: PLC0415

    return num2words(number, lang=language)


def list_words(items: Sequence[str], phrase: Phrase) -> str:
    """ "a", "a and b", "a, b and c", with the joining word from the speech strings."""
    if len(items) <= 1:
        return "".join(items)
    return phrase("routine.list_and", items=", ".join(items[:-1]), last=items[-1])


def longest_phrases(catalog: Catalog, language: str = "en") -> Phrase:
    """A phrase function that always picks the longest variant, with every placeholder filled by
    the longest value it could take: an upper bound on how long any turn's version runs."""
    names = [e.name for e in catalog.exercises.values()] + [
        r.name for r in catalog.routines.values()
    ]
    longest_name = max(names, key=lambda n: len(n.split()))

    def phrase(key: str, **values: Any) -> str:
        filler = _LongestFiller(longest_name)
        filler.update(values)  # values that are given are exact; only the missing are guessed
        variants = catalog.phrases(key, language)
        longest = max(variants, key=lambda v: len(v.format_map(filler).split()))
        return longest.format_map(filler)

    return phrase


class _LongestFiller(dict):
    """Fills any placeholder: names with the longest catalog name, the rest with a long number."""

    def __init__(self, longest_name: str) -> None:
        super().__init__()
        self.longest_name = longest_name

    def __missing__(self, key: str) -> str:
        if key in {"routine", "exercise", "what", "words", "routines", "examples"}:
            return self.longest_name
        return "twenty-seven"  # the wordiest number a count or duration is likely to be


def frame_speech(phrase: Phrase, *, first: bool, last: bool) -> Speech:
    """The longest opening and close a response can have around a segment of the first and/or
    last exercise of a routine (the ones that also introduce or finish it), given ``phrase``."""

    def longest(alternatives: Alternatives) -> Speech:
        spoken = [Speech().say(*(phrase(k) for k in keys)) for keys in alternatives]
        return max(spoken, key=lambda speech: speech.characters)

    speech = longest(GREETINGS + (FIRST_GREETINGS if first else ()))
    if first:
        speech.extend(longest(ROUTINE_INTROS))
    speech.extend(longest(EXERCISE_INTROS))
    return speech.extend(longest(CLOSES + (LAST_CLOSES if last else ())))


def routine_intro_key(routine: Routine) -> str:
    """The speech key that introduces ``routine``, in the grammatical number of its name
    ("Here's your gentle strength routine", "Here are your morning stretches")."""
    return "routine.routine_intro_plural" if routine.plural else "routine.routine_intro_singular"


def locate(flat: int, reps: int) -> tuple[int, int]:
    """(side index, 1-based rep number on that side) of a flat rep index, ``reps`` per side."""
    return flat // reps, flat % reps + 1


@dataclass(frozen=True, slots=True)
class Segment:
    """Reps ``first``..``last`` (inclusive, 0-based) of an exercise's flat run across sides."""

    first: int
    last: int

    @property
    def count(self) -> int:
        return self.last - self.first + 1


class ExerciseVoice:
    """Speaks one exercise: ``reps`` per side, pauses scaled by the pace ``factor``."""

    def __init__(
        self,
        exercise: Exercise,
        reps: int,
        factor: float,
        phrase: Phrase,
        language: str = "en",
    ) -> None:
        self.exercise = exercise
        self.reps = reps
        self.factor = factor
        self.phrase = phrase
        self.language = language
        self.sides = exercise.sides.order

    @property
    def total(self) -> int:
        """Reps across all sides."""
        return self.reps * len(self.sides)

    def side(self, flat: int) -> str | None:
        """The side worked at a flat rep index (None for an exercise not done per side)."""
        return self.sides[locate(flat, self.reps)[0]]

    def fill(self, text: str, side: str | None) -> str:
        """Put the side being worked into an exercise sentence ({side}, {other_side})."""
        if side is None:
            return text
        other = next((s for s in self.sides if s != side), side)
        return text.replace("{side}", side).replace("{other_side}", other)

    # ---- speech ------------------------------------------------------------------------------

    def hold_seconds(self, seconds: float) -> float:
        """A hold, or the time to get into position, at this pace: longer when slower, never
        shorter than the content gives."""
        return seconds * max(1.0, self.factor)

    def body(self, segment: Segment) -> Speech:
        """The segment's own speech: setup or side switch, the movement, then each rep counted
        and paced. Sets end where sides end; a segment the plan makes is whole sets."""
        speech = Speech()
        for flat in range(segment.first, segment.last + 1):
            side_index, rep = locate(flat, self.reps)
            if flat == segment.first or rep == 1:
                side_end = (side_index + 1) * self.reps - 1
                self._start_set(speech, side_index, rep, min(segment.last, side_end) - flat + 1)
            self._rep(speech, rep, self.sides[side_index])
            if self.exercise.rep[-1].hold and (rep == self.reps or flat == segment.last):
                # A rep that ends in a hold flows into the next rep's first move; at the end of a
                # set, the person is told to let go.
                speech.say(self.phrase("routine.release"))
                speech.pause(RELEASE_PAUSE_SECONDS * self.factor)
        return speech

    def seconds(self, segment: Segment) -> float:
        """About how long ``segment`` runs: its opening and first rep as spoken, then each
        further rep as long as the first (their counts differ by a word at most). For "about
        ten minutes", without speaking every rep of a routine."""
        first = Segment(segment.first, segment.first)
        rep = Speech()
        self._rep(rep, 1, self.side(segment.first))
        return self.body(first).seconds + (segment.count - 1) * rep.seconds

    def _start_set(self, speech: Speech, side_index: int, rep: int, count: int) -> None:
        side = self.sides[side_index]
        body_part = self.exercise.sides.body_part
        if rep == 1 and side_index == 0:
            speech.say(*(self.fill(sentence, side) for sentence in self.exercise.setup))
        elif rep == 1:
            speech.say(self.phrase("routine.switch_side", side=side, body_part=body_part))
            speech.say(*(self.fill(sentence, side) for sentence in self.exercise.switch))
        speech.say(*(self.fill(sentence, side) for sentence in self.exercise.movement))
        spoken_count = number_words(count, self.language)
        if side is None:
            speech.say(self.phrase("routine.set", count=spoken_count))
        else:
            speech.say(
                self.phrase("routine.set_side", count=spoken_count, side=side, body_part=body_part)
            )
        # Silence to get into position (down onto the floor takes longer) before the count.
        speech.pause(self.hold_seconds(self.exercise.position_seconds))

    def _rep(self, speech: Speech, number: int, side: str | None) -> None:
        phases = self.exercise.rep
        for index, phase in enumerate(phases):
            cue = self.fill(phase.cue, side)
            if index == 0:
                spoken = number_words(number, self.language).capitalize()
                cue = self.phrase("routine.rep_start", number=spoken, cue=cue)
            # A hold's pause is the hold itself; a movement's pause is the time it takes.
            seconds = (
                self.hold_seconds(phase.seconds) if phase.hold else phase.seconds * self.factor
            )
            speech.say(cue).pause(seconds)

    # ---- card --------------------------------------------------------------------------------

    def card_text(self, side: str | None) -> str:
        """The exercise's steps as readable text for the Alexa app card, for ``side``."""
        lines = [self.fill(s, side) for s in (*self.exercise.setup, *self.exercise.movement)]
        if self.exercise.sides.per_side:
            first = self.sides[0]
            lines.append(self.phrase("routine.card_reps_side", count=self.reps, side=first))
        else:
            lines.append(self.phrase("routine.card_reps", count=self.reps))
        steps = [
            self.phrase("routine.card_step", cue=self.fill(p.cue, side), seconds=_num(p.seconds))
            for p in self.exercise.rep
        ]
        lines.append(self.phrase("routine.card_each_rep", steps="; ".join(steps)))
        return "\n".join(lines)


def _num(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def plan_segments(voice: ExerciseVoice) -> tuple[Segment, ...]:
    """One segment per side (one for an exercise done once), whatever the pace: a set is never
    cut (:func:`fit_problems` checks that every side fits one response)."""
    return tuple(
        Segment(side * voice.reps, (side + 1) * voice.reps - 1) for side in range(len(voice.sides))
    )


def fit_problems(catalog: Catalog, language: str = "en") -> list[ContentError]:
    """Every side, of every exercise as guided on its own and as each routine step, at every
    pace, with the longest wording a response can put around it, must fit in one response
    within Alexa's 8,000 characters of speech: a set is never split. One problem per exercise
    and count, at the pace where it is longest."""
    phrase = longest_phrases(catalog, language)
    frame = frame_speech(phrase, first=True, last=True)
    counts: dict[tuple[str, int], str] = {}
    for exercise in catalog.exercises.values():
        counts[(exercise.id, exercise.reps.guided)] = "exercises.yaml"
    for routine in catalog.routines.values():
        for step in routine.steps:
            if step.reps is not None:
                counts.setdefault((step.exercise, step.reps), f"routine {routine.id}")
    problems = []
    for (exercise_id, reps), where in sorted(counts.items()):
        exercise = catalog.exercises[exercise_id]
        longest = 0
        for pace in catalog.rules.paces:
            voice = ExerciseVoice(exercise, reps, pace.factor, phrase, language)
            for segment in plan_segments(voice):
                speech = Speech().extend(frame).extend(voice.body(segment))
                longest = max(longest, speech.characters)
        if longest > MAX_SSML_CHARS:
            problems.append(
                ContentError(
                    "exercises.yaml",
                    (exercise_id, "reps"),
                    f"one side of {reps} reps ({where}) takes {longest} characters of speech at "
                    f"the slowest pace, and a side must fit one response (Alexa allows "
                    f"{MAX_SSML_CHARS}): count fewer reps or shorten the cues",
                )
            )
    return problems


def estimated_minutes(seconds: float) -> int:
    """Whole minutes for "about N minutes", never zero."""
    return max(1, round(seconds / 60))
