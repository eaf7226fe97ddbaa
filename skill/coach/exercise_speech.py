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

import functools
import logging
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from skill.catalog.model import Catalog, Exercise
from skill.coach import spoken_numbers
from skill.records import Record
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
# Every speech string an exercise's body and card may say. A turn's variant of each is fixed up
# front (:class:`ChosenVariants`), so what a turn says of an exercise can be remembered.
VOICE_KEYS = (
    "routine.release",
    "routine.switch_side",
    "routine.set_side_in_parts",
    "routine.set_in_parts",
    "routine.set_side",
    "routine.set",
    "routine.set_continue_side",
    "routine.set_continue",
    "routine.rep_start",
    "routine.card_reps_side",
    "routine.card_reps",
    "routine.card_step",
    "routine.card_each_rep",
)


# Planning is pure (catalog, exercise, reps, pace, language in; segments and durations out), yet
# every routine turn builds a fresh RoutinePlayer and re-plans from scratch: about 250 number
# conversions and a few thousand Speech parts, 10–20 times the cost of a hello-world turn. The
# caches below remember the planning work (never a turn's own speech, whose variants differ turn
# by turn). They are bounded, and results are immutable or copied, so sharing them is safe.
PLANNING_CACHE_SIZE = 4096
_planning_phrases: weakref.WeakSet[Callable[..., str]] = weakref.WeakSet()
_longest_by_catalog: dict[tuple[int, str], tuple[Catalog, Phrase]] = {}


def number_words(number: int, language: str = "en") -> str:
    """A count as the coach says it: 5 → "five"."""
    # From a table generated from num2words (skill.coach.spoken_numbers); num2words itself, with its
    # ~50 languages, is imported only for a number the table does not hold.
    return spoken_numbers.number_words(number, language)


def list_words(items: Sequence[str], phrase: Phrase) -> str:
    """ "a", "a and b", "a, b and c", with the joining word from the speech strings."""
    if len(items) <= 1:
        return "".join(items)
    return phrase("routine.list_and", items=", ".join(items[:-1]), last=items[-1])


def longest_phrases(catalog: Catalog, language: str = "en") -> Phrase:
    """A phrase function that always picks the longest variant, with every placeholder filled by
    the longest value it could take: an upper bound on how long any turn's version runs.

    The same catalog and language give the same function (it is pure), so what was planned with
    it can be remembered across turns."""
    cached = _longest_by_catalog.get((id(catalog), language))
    if cached is not None and cached[0] is catalog:
        return cached[1]
    names = [e.name for e in catalog.exercises.values()] + [
        r.name for r in catalog.routines.values()
    ]
    longest_name = max(names, key=lambda n: len(n.split()))

    @functools.lru_cache(maxsize=PLANNING_CACHE_SIZE)
    def longest_variant(key: str, given: frozenset[tuple[str, Any]]) -> str:
        filler = _LongestFiller(longest_name)
        filler.update(given)  # values that are given are exact; only the missing are guessed
        variants = catalog.phrases(key, language)
        longest = max(variants, key=lambda v: len(v.format_map(filler).split()))
        return longest.format_map(filler)

    def phrase(key: str, **values: Any) -> str:
        return longest_variant(key, frozenset(values.items()))

    _planning_phrases.add(phrase)
    if len(_longest_by_catalog) >= 16:  # catalogs are loaded once per process; tests load a few
        _longest_by_catalog.clear()
    _longest_by_catalog[(id(catalog), language)] = (catalog, phrase)
    return phrase


class ChosenVariants:
    """A phrase function that says, of each speech string, the variant a turn chose for it.

    A turn picks variants by its request id, so speech built with the turn's own phrase function
    is never the same object twice. This one holds only the choices (for the strings of
    :data:`VOICE_KEYS` that have more than one variant), so two turns that chose alike get equal
    functions, and the exercise speech built with it can be remembered: the same words the turn's
    phrase function gives (``tests/test_planning_cache.py`` checks every exercise, segment and
    pace)."""

    __slots__ = ("_hash", "_index", "catalog", "choices", "language")

    def __init__(self, catalog: Catalog, language: str, choose: Callable[[str, int], int]) -> None:
        self.catalog = catalog
        self.language = language
        self.choices = tuple(
            (key, choose(key, count))
            for key in VOICE_KEYS
            if (count := len(catalog.phrases(key, language))) > 1
        )
        self._index = dict(self.choices)
        self._hash = hash((id(catalog), language, self.choices))

    def __call__(self, key: str, **values: Any) -> str:
        variants = self.catalog.phrases(key, self.language)
        index = 0
        if len(variants) > 1:
            index = self._index.get(key, -1)
            if index < 0:
                raise KeyError(f"'{key}' is not among the exercise's speech strings (VOICE_KEYS)")
        return variants[index].format(**values)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ChosenVariants)
            and other.catalog is self.catalog
            and other.language == self.language
            and other.choices == self.choices
        )

    def __hash__(self) -> int:
        return self._hash


class ExerciseSpeaker:
    """What the exercises of one catalog say, in one language at one pace, for a turn's choice of
    variants: each segment's body and each card, remembered across turns.

    A routine turn used to remember them in caches keyed by the whole :class:`Exercise` and a
    fresh :class:`ChosenVariants`: hashing a frozen exercise hashes every field (~1.1 µs, twice a
    turn), and the choices were worked out for every one of :data:`VOICE_KEYS` (~3 µs). Here the
    speaker is the catalog's, language's and pace's (each
    :class:`~skill.coach.player.RoutinePlayer` has
    one), so a remembered speech is keyed by the exercise's id, the reps, the segment's bounds and
    the turn's choices for the few strings that have variants. ``tests/test_planning_cache.py``
    checks that what it says is what the turn's own phrase function says."""

    def __init__(self, catalog: Catalog, language: str, factor: float) -> None:
        self.catalog = catalog
        self.language = language
        self.factor = factor
        # Only the strings with more than one variant can be said differently by two turns.
        self.varied = tuple(
            (key, count) for key in VOICE_KEYS if (count := len(catalog.phrases(key, language))) > 1
        )
        self._phrases: dict[tuple[int, ...], ChosenVariants] = {}
        self._bodies: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._cards: dict[tuple[Any, ...], str] = {}

    def choices(self, choose: Callable[[str, int], int]) -> tuple[int, ...]:
        """A turn's choice for each string of :attr:`varied`, from its ``variant`` function."""
        return tuple([choose(key, count) for key, count in self.varied])

    def voice(self, exercise: Exercise, reps: int, choices: tuple[int, ...]) -> ExerciseVoice:
        """The voice that speaks ``exercise`` (one of this catalog's) with these choices."""
        return ExerciseVoice(exercise, reps, self.factor, self.phrase(choices), self.language)

    def phrase(self, choices: tuple[int, ...]) -> ChosenVariants:
        phrase = self._phrases.get(choices)
        if phrase is None:
            chosen = dict(zip([key for key, _ in self.varied], choices, strict=True))
            phrase = ChosenVariants(self.catalog, self.language, lambda key, _: chosen[key])
            self._phrases[choices] = phrase  # a handful: two variants of one or two strings
        return phrase

    def body(
        self, exercise: Exercise, reps: int, segment: Segment, choices: tuple[int, ...]
    ) -> Speech:
        """:meth:`ExerciseVoice.body`, remembered."""
        key = (exercise.id, reps, segment.first, segment.last, choices)
        parts = self._bodies.get(key)
        if parts is None:
            parts = tuple(self.voice(exercise, reps, choices).body(segment).parts)
            remember(self._bodies, key, parts)
        return Speech(list(parts))  # the parts are frozen; the caller gets a list of its own

    def card_text(
        self, exercise: Exercise, reps: int, side: str | None, choices: tuple[int, ...]
    ) -> str:
        """:meth:`ExerciseVoice.card_text`, remembered."""
        key = (exercise.id, reps, side, choices)
        text = self._cards.get(key)
        if text is None:
            text = self.voice(exercise, reps, choices).card_text(side)
            remember(self._cards, key, text)
        return text


def remember(
    memory: dict[Any, Any], key: Any, value: Any, limit: int = PLANNING_CACHE_SIZE
) -> None:
    """Keep ``value`` under ``key`` in a cache of at most ``limit`` entries, emptied when full
    (bounded: a long-running server sees many choices; emptying is cheap and rare)."""
    if len(memory) >= limit:
        memory.clear()
    memory[key] = value


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
    if phrase in _planning_phrases:
        return _remembered_frame_seconds(phrase, first, last)
    return _frame_seconds(phrase, first=first, last=last)


@functools.lru_cache(maxsize=PLANNING_CACHE_SIZE)
def _remembered_frame_seconds(phrase: Phrase, first: bool, last: bool) -> float:
    return _frame_seconds(phrase, first=first, last=last)


def _frame_seconds(phrase: Phrase, *, first: bool, last: bool) -> float:

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


class Segment(Record):
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
        # Planning speech is remembered here; a turn's own is remembered by ExerciseSpeaker.
        self._remembers = phrase in _planning_phrases

    @property
    def total(self) -> int:
        """Reps across all sides."""
        return self.reps * len(self.sides)

    def locate(self, flat: int) -> tuple[int, int]:
        """(side index, 1-based rep number on that side) of a flat rep index."""
        return locate(flat, self.reps)

    def side(self, flat: int) -> str | None:
        return self.sides[self.locate(flat)[0]]

    def fill(self, text: str, side: str | None) -> str:
        """Put the side being worked into an exercise sentence ({side}, {other_side})."""
        if side is None:
            return text
        other = next((s for s in self.sides if s != side), side)
        return text.replace("{side}", side).replace("{other_side}", other)

    # ---- speech ------------------------------------------------------------------------------

    def body(self, segment: Segment) -> Speech:
        """The segment's own speech: setup or side switch, then each rep counted and paced."""
        if self._remembers:  # the longest variants are the same every time, so remembered
            parts = _remembered_body(
                self.exercise, self.reps, self.factor, self.phrase, self.language, segment
            )
            return Speech(list(parts))
        return self._body(segment)

    def _body(self, segment: Segment) -> Speech:
        speech = Speech()
        for flat in range(segment.first, segment.last + 1):
            side_index, rep = self.locate(flat)
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
        if self._remembers:
            return _remembered_card_text(
                self.exercise, self.reps, self.factor, self.phrase, self.language, side
            )
        return self._card_text(side)

    def _card_text(self, side: str | None) -> str:
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


@functools.lru_cache(maxsize=PLANNING_CACHE_SIZE)
def _remembered_body(
    exercise: Exercise, reps: int, factor: float, phrase: Phrase, language: str, segment: Segment
) -> tuple[Any, ...]:
    voice = ExerciseVoice(exercise, reps, factor, phrase, language)
    return tuple(voice._body(segment).parts)  # the parts are frozen; callers get a fresh list


@functools.lru_cache(maxsize=PLANNING_CACHE_SIZE)
def _remembered_card_text(
    exercise: Exercise, reps: int, factor: float, phrase: Phrase, language: str, side: str | None
) -> str:
    return ExerciseVoice(exercise, reps, factor, phrase, language)._card_text(side)


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
    if voice.phrase in _planning_phrases:
        return _remembered_plan(
            voice.exercise, voice.reps, voice.factor, voice.phrase, voice.language, budget_seconds
        )
    return _plan_segments(voice, budget_seconds)


@functools.lru_cache(maxsize=PLANNING_CACHE_SIZE)
def _remembered_plan(
    exercise: Exercise, reps: int, factor: float, phrase: Phrase, language: str, budget: float
) -> tuple[Segment, ...]:
    return _plan_segments(ExerciseVoice(exercise, reps, factor, phrase, language), budget)


def _plan_segments(voice: ExerciseVoice, budget_seconds: float) -> tuple[Segment, ...]:

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
