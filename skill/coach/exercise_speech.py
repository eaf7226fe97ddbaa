"""Speaking an exercise: setup, counted reps paced by pauses, holds, side switches, and the card.

An exercise is worked as a flat run of reps: for a per-side exercise of five reps, reps 0–4 are
the first side and 5–9 the second. A :class:`Segment` is a contiguous slice of that run; each
response speaks one segment, and :func:`plan_segments` cuts the run so that no response outlasts
the content's ``rules.max_segment_seconds``. Plans are made with the *longest* variant of every
speech string (:func:`longest_phrases`), so whichever variant a turn picks, it fits the plan, and
the plan is the same on every turn (the stored segment index keeps its meaning).

Everything here is pure: strings come in through a ``phrase(key, **values)`` function (a Turn's,
or the longest-variant one) and out as :class:`~skill.speech.Speech`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from skill.catalog.model import Catalog, Exercise
from skill.speech import Speech

logger = logging.getLogger(__name__)

Phrase = Callable[..., str]  # (key, **values) → the filled-in sentence

# Time to get into position after the setup, before the first count (scaled by the pace).
SETUP_PAUSE_SECONDS = 2.0
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
    ("routine.going_back",),
    ("routine.already_first",),
    ("routine.start_over",),
    ("routine.slower", "routine.pace_again"),
    ("routine.faster", "routine.pace_again"),
)
FIRST_GREETINGS: Alternatives = (("common.disclaimer",),)  # a first-ever start
ROUTINE_INTROS: Alternatives = (  # once, at the start
    ("routine.routine_intro", "routine.exercise_count", "routine.minutes"),
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


def frame_seconds(phrase: Phrase, *, first: bool, last: bool) -> float:
    """The longest a response's opening and close can run around a segment of the first and/or
    last exercise of a routine (the ones that also introduce or finish it), given ``phrase``."""

    def longest(alternatives: Alternatives) -> float:
        return max(Speech().say(*(phrase(k) for k in keys)).seconds for keys in alternatives)

    total = longest(GREETINGS + (FIRST_GREETINGS if first else ()))
    total += longest(ROUTINE_INTROS) if first else 0.0
    total += longest(EXERCISE_INTROS)
    total += longest(CLOSES + (LAST_CLOSES if last else ()))
    return total


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

    def body(self, segment: Segment) -> Speech:
        """The segment's own speech: setup or side switch, then each rep counted and paced."""
        speech = Speech()
        for flat in range(segment.first, segment.last + 1):
            side_index, rep = locate(flat, self.reps)
            if flat == segment.first or rep == 1:
                side_end = (side_index + 1) * self.reps - 1
                in_this_set = min(segment.last, side_end) - flat + 1
                self._start_set(speech, side_index, rep, in_this_set)
            self._rep(speech, rep, self.sides[side_index])
            if self.exercise.rep[-1].hold and (rep == self.reps or flat == segment.last):
                # A rep that ends in a hold flows into the next rep's first move; at the end of a
                # set, the person is told to let go.
                speech.say(self.phrase("routine.release"))
                speech.pause(RELEASE_PAUSE_SECONDS * self.factor)
        return speech

    def _start_set(self, speech: Speech, side_index: int, rep: int, count: int) -> None:
        side = self.sides[side_index]
        setup = self.exercise.setup
        if rep == 1 and side_index == 0:
            speech.say(*(self.fill(sentence, side) for sentence in setup[:2]))
        elif rep == 1:
            # The person is already in position for the first side: the switch and the one
            # sentence that places the legs are enough.
            speech.say(self.phrase("routine.switch_side", side=side), self.fill(setup[0], side))
        if rep == 1 and count < self.reps:
            # A set split into segments: say the whole set first, so "two" never sounds like
            # all there is to do.
            key = "routine.set_side_in_parts" if side else "routine.set_in_parts"
        elif rep == 1:
            key = "routine.set_side" if side else "routine.set"
        else:
            key = "routine.set_continue_side" if side else "routine.set_continue"
        speech.say(
            self.phrase(
                key,
                count=number_words(count, self.language),
                total=number_words(self.reps, self.language),
                side=side,
            )
        )
        speech.pause(SETUP_PAUSE_SECONDS * self.factor)

    def _rep(self, speech: Speech, number: int, side: str | None) -> None:
        phases = self.exercise.rep
        for index, phase in enumerate(phases):
            cue = self.fill(phase.cue, side)
            if index == 0:
                spoken = number_words(number, self.language).capitalize()
                cue = self.phrase("routine.rep_start", number=spoken, cue=cue)
            # A hold's pause is the hold itself; a movement's pause is the time it takes.
            speech.say(cue).pause(phase.seconds * self.factor)

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


def even_split(first: int, last: int, parts: int) -> list[Segment]:
    """``first..last`` in ``parts`` contiguous pieces whose sizes differ by at most one (the
    larger ones last: the first piece also carries the setup)."""
    size = last - first + 1
    base, extra = divmod(size, parts)
    pieces = []
    start = first
    for index in range(parts):
        length = base + (1 if index >= parts - extra else 0)
        pieces.append(Segment(start, start + length - 1))
        start += length
    return pieces


def plan_segments(voice: ExerciseVoice, budget_seconds: float) -> tuple[Segment, ...]:
    """Cut the exercise into segments whose body fits ``budget_seconds``: the whole exercise if
    it fits, else one segment per side, else each side split evenly into as few as fit."""

    def fits(segments: Iterable[Segment]) -> bool:
        return all(voice.body(s).seconds <= budget_seconds for s in segments)

    whole = Segment(0, voice.total - 1)
    if fits([whole]):
        return (whole,)
    plan: list[Segment] = []
    for side_index in range(len(voice.sides)):
        first, last = side_index * voice.reps, (side_index + 1) * voice.reps - 1
        for parts in range(1, voice.reps + 1):
            pieces = even_split(first, last, parts)
            if fits(pieces):
                break
        else:
            logger.warning(
                "%s: a single rep runs past %.0f s of speech", voice.exercise.id, budget_seconds
            )
        plan.extend(pieces)
    return tuple(plan)


def estimated_minutes(seconds: float) -> int:
    """Whole minutes for "about N minutes", never zero."""
    return max(1, round(seconds / 60))
