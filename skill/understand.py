"""Free words → what they are about, judged in a fixed order, safety first.

Alexa hands the coach free text when a carrier phrase caught it ("I {words}", "can I {words}"),
when a question intent did, or when a slot held words no value matches. :func:`interpret` reads
them in the order of ``understanding.yaml``:

1. safety: pain, cramp, dizziness, faintness, chest pain, breathlessness, numbness, a fall,
   feeling unwell;
2. the doctor: conditions and injuries, medicines and treatments, intake (alcohol, smoking,
   diet); a medicine or sensitive topic the catalog names counts too;
3. restless legs right now; then a request to start the stretches or an exercise;
4. activities, 5. tips, 6. exercises and routines: the catalog's names first, in that order, then
   its weaker keywords in the same order ("how do I do …" puts exercises first); a request for a
   tip that names no topic is step 5 too;
7. mid-routine, a question about "this exercise" ("why are we doing this") when the words name
   no other exercise.

One sentence may hold two requests ("start my stretches then tell me a tip"):
:func:`two_requests` finds where the second begins, at a joint word of the content.

The words each step listens for are content; this module only knows the order. It decides nothing
about what to say: the handlers answer each step (skill.handlers.free_text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from skill.catalog.model import Catalog
from skill.lookup import ACTIVITY, EXERCISE, ROUTINE, TIP, Found, lookup_for, plain_words, words

SAFETY, DOCTOR, SYMPTOMS = "safety", "doctor", "symptoms"
THIS_EXERCISE = "this_exercise"
START = "start"
LEAVE_OUT = "leave_out"
STEPS = (SAFETY, DOCTOR, SYMPTOMS, LEAVE_OUT, START, ACTIVITY, TIP, EXERCISE, THIS_EXERCISE)
# Steps 4 to 6: the catalog kinds, in the order of the steps, and the step each one answers in.
_CATALOG_KINDS = (ACTIVITY, TIP, EXERCISE, ROUTINE)
_STEP_OF_KIND = {ACTIVITY: ACTIVITY, TIP: TIP, EXERCISE: EXERCISE, ROUTINE: EXERCISE}
_NEGATION_WINDOW = 3


@dataclass(frozen=True, slots=True)
class Reading:
    """What some words are about: the step that claimed them, the sensitive tip topic of a
    doctor answer, or the catalog entry named; ``heard`` is the phrase that decided it."""

    step: str
    heard: str
    topic: str | None = None
    found: Found | None = None


def interpret(catalog: Catalog, text: str | None, *, guiding: bool = False) -> Reading | None:
    """The first step of the order that claims ``text``; None when no step does. ``guiding``: a
    routine is in progress, so "this exercise" means the one being done."""
    if not text:
        return None
    said = words(text)
    lookup = lookup_for(catalog)
    understanding = catalog.understanding
    negated = _Negation(said, understanding.negations, understanding.negations_right_after)
    # Safety claims its words wherever they are: nothing outranks "my chest hurts".
    if heard := _heard(said, understanding.safety, negated, ()):
        return Reading(SAFETY, heard)
    # A catalog name longer than a step's phrase is what the words are about: "jumping jacks"
    # is an activity, not jumpy legs; "take a walk" is not something to take.
    names = lookup.name_spans(said)
    for group in understanding.doctor:
        if heard := _heard(said, group.phrases, negated, names):
            return Reading(DOCTOR, heard, topic=group.topic)
    sensitive = lookup.find(text)
    if sensitive is not None and sensitive.sensitive:
        return Reading(DOCTOR, sensitive.phrase, found=sensitive)
    if (heard := _heard(said, understanding.symptoms, negated, names)) and not _heard(
        said, understanding.symptoms_unless, negated, ()
    ):
        return Reading(SYMPTOMS, heard)
    # "How far can I cycle", "how long on the trampoline": a limit question about an activity.
    if asks_limit(catalog, text):
        found = lookup.find(text, kinds=(ACTIVITY,))
        if found is not None:
            return Reading(ACTIVITY, found.phrase, found=found)
    # "I can't do lunges with my knee": an exercise to leave out, never one to start.
    if heard := _heard(said, understanding.leave_out, negated, ()):
        found = lookup.find(text, kinds=(EXERCISE,))
        if found is not None:
            return Reading(LEAVE_OUT, heard, found=found)
    # "Let's crack on with the stretches": a request to start a routine or an exercise (not
    # "can I start swimming"); mid-routine the routine's own words move it on.
    if not guiding and (heard := _heard(said, understanding.start, negated, ())):
        found = lookup.find(text, (ROUTINE, EXERCISE), kinds=(ROUTINE, EXERCISE), keywords=False)
        if found is not None or _heard(said, understanding.the_stretches, negated, ()):
            return Reading(START, heard, found=found)
    # Mid-routine, "what's this one good for" is about the exercise being done, unless the
    # words name an exercise.
    heard = _heard(said, understanding.this_exercise, negated, ()) if guiding else None
    if heard and lookup.find(text, kinds=(EXERCISE,), keywords=False) is None:
        return Reading(THIS_EXERCISE, heard)
    # Names before keywords; among them the longest wins ("thirty minutes of exercise" is the
    # tip, not the activity "exercise"), and the order of the steps breaks a tie ("how do I do
    # a bridge" puts the exercises first).
    order = _CATALOG_KINDS
    if _heard(said, understanding.how_to, negated, ()):
        order = (EXERCISE, ROUTINE, ACTIVITY, TIP)
    for keywords in (False, True):
        found = lookup.find(text, order, kinds=_CATALOG_KINDS, keywords=keywords)
        if found is not None:
            return Reading(_STEP_OF_KIND[found.kind], found.phrase, found=found)
    if heard := _heard(said, understanding.any_tip, negated, ()):
        return Reading(TIP, heard)
    return None


@dataclass(frozen=True, slots=True)
class TwoRequests:
    """One sentence, two requests: the words of each, and how the second reads. ``second``
    carries the first's subject where it only said "it" ("… and can I do it tonight")."""

    first: str
    second: str
    second_reading: Reading


def two_requests(catalog: Catalog, text: str | None) -> TwoRequests | None:
    """Where a second request begins in ``text``: at the first joint word ("then", "and after
    that") with words on both sides, where the words after it make a request of their own that
    is not the first one again. None for one request, and for words about safety, the doctor or
    restless legs now, which are answered whole ("it's three in the morning and my legs are
    going" is about the legs)."""
    if not text:
        return None
    whole = interpret(catalog, text)
    if whole is not None and whole.step in (SAFETY, DOCTOR, SYMPTOMS):
        return None
    said, plain = words(text), plain_words(text)
    joints = sorted((words(j) for j in catalog.understanding.joints), key=len, reverse=True)
    for at in range(1, len(said) - 1):
        joint = next((j for j in joints if j and tuple(said[at : at + len(j)]) == j), None)
        if joint is None or at + len(joint) >= len(said):
            continue
        first, second = " ".join(plain[:at]), " ".join(plain[at + len(joint) :])
        reading_one, reading_two = interpret(catalog, first), interpret(catalog, second)
        if reading_two is None and reading_one is not None and reading_one.found is not None:
            second = f"{second} {reading_one.found.phrase}"  # "can I do it tonight": it
            reading_two = interpret(catalog, second)
        if reading_two is None or reading_two.step in (SAFETY, DOCTOR):
            continue
        if reading_one is not None and _same(reading_one, reading_two):
            continue
        return TwoRequests(first, second, reading_two)
    return None


def _same(one: Reading, two: Reading) -> bool:
    """Two readings ask the same thing (the same step and the same entry)."""
    if one.step != two.step:
        return False
    return (one.found.id if one.found else one.topic) == (two.found.id if two.found else two.topic)


class _Negation:
    """Whether the words before position ``at`` cancel a phrase that starts there."""

    def __init__(
        self, said: Sequence[str], within: Sequence[str], right_after: Sequence[str]
    ) -> None:
        self._said = said
        self._within = frozenset(words(" ".join(within)))
        self._right_after = frozenset(words(" ".join(right_after)))

    def __call__(self, at: int) -> bool:
        before = self._said[max(0, at - _NEGATION_WINDOW) : at]
        if any(word in self._within for word in before):
            return True
        return at > 0 and self._said[at - 1] in self._right_after


def _heard(
    said: Sequence[str],
    phrases: Sequence[str],
    negated: _Negation,
    names: Sequence[tuple[int, int]],
) -> str | None:
    """The first of ``phrases`` said, not negated and not inside a longer catalog name. A phrase
    written with "..." matches its parts in order with any words between ("chest ... tight" is
    "my chest feels a bit tight")."""
    for phrase in phrases:
        parts = [words(part) for part in phrase.split("...")]
        if not all(parts):
            continue
        if len(parts) > 1:
            if _in_order(said, parts, negated):
                return phrase
            continue
        wanted = parts[0]
        size = len(wanted)
        for at in range(len(said) - size + 1):
            if tuple(said[at : at + size]) != wanted or negated(at):
                continue
            if any(end - start > size and start < at + size and at < end for start, end in names):
                continue
            return phrase
    return None


def _in_order(said: Sequence[str], parts: Sequence[tuple[str, ...]], negated: _Negation) -> bool:
    """Every part said, each after the one before; the first part not negated."""
    at = 0
    for number, part in enumerate(parts):
        size = len(part)
        starts = [i for i in range(at, len(said) - size + 1) if tuple(said[i : i + size]) == part]
        if number == 0:
            starts = [i for i in starts if not negated(i)]
        if not starts:
            return False
        at = starts[0] + size
    return True


def names_the_stretches(catalog: Catalog, text: str | None) -> bool:
    """The words name the stretches in general ("my routine", "the exercises"), no routine."""
    if not text:
        return False
    said = words(text)
    negated = _Negation(said, (), ())
    return _heard(said, catalog.understanding.the_stretches, negated, ()) is not None


def asks_limit(catalog: Catalog, text: str | None) -> bool:
    """The words ask how fast, far or long ("is twelve miles an hour too fast")."""
    if not text:
        return False
    said = words(text)
    return any(_contains(said, words(phrase)) for phrase in catalog.understanding.limits)


def time_phrase_in(catalog: Catalog, text: str | None) -> str | None:
    """The id of the time phrase ("tonight", "this evening") named in ``text``, if any; the
    longest wins, so "tomorrow morning" is not just "morning"."""
    if not text:
        return None
    said = words(text)
    best: tuple[int, str] | None = None
    for phrase in catalog.time_phrases.values():
        for name in (phrase.name, *phrase.synonyms):
            named = words(name)
            if named and _contains(said, named) and (best is None or len(named) > best[0]):
                best = (len(named), phrase.id)
    return best[1] if best else None


def _contains(said: Sequence[str], phrase: Sequence[str]) -> bool:
    size = len(phrase)
    return bool(size) and any(
        tuple(said[at : at + size]) == tuple(phrase) for at in range(len(said) - size + 1)
    )
