"""The content catalog: authored YAML under ``skill/content`` loaded into frozen dataclasses.

Every file is parsed with ``yaml.safe_load`` and validated with marshmallow schemas
(``unknown=RAISE``, so a typo in a key fails loudly) by :mod:`skill.catalog.schemas`. Entries are
loaded one at a time, so a mistake in one exercise does not hide mistakes in another;
cross-references (routine steps, activity → exercise links, phrasing slots) are checked once
everything is read (:mod:`skill.catalog.checks`). All problems are collected as
:class:`ContentError` values addressed by file → entry → field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CONTENT_DIR = Path(__file__).parent.parent / "content"

KINDS = ("stretch", "strength", "aerobic", "mind-body")
# "general": the catch-all activity (exercise in general); any other activity named beside it wins.
GENERAL_KIND = "general"
ACTIVITY_KINDS = (*KINDS, GENERAL_KIND)
INTENSITIES = ("gentle", "moderate", "extreme")
POSITIONS = ("standing", "kneeling", "seated", "lying")
SIDES = ("left", "right")
BODY_PARTS = ("leg", "foot", "arm")
DAY_PARTS = ("morning", "afternoon", "evening", "night")
SIDE_PLACEHOLDERS = ("{side}", "{other_side}")
CATALOG_SLOT_TYPES = ("EXERCISE", "ROUTINE", "ACTIVITY", "TIME_PHRASE", "TIP_TOPIC", "MEDICINE")
ID_PATTERN = r"^[a-z][a-z0-9_]*$"
INTENT_PATTERN = r"^[A-Z][A-Za-z]*Intent$"
BUILTIN_INTENT_PATTERN = r"^AMAZON\.[A-Za-z]+Intent$"
# Matched by Alexa's out-of-domain model: samples would turn it into an ordinary intent.
FALLBACK_INTENT = "AMAZON.FallbackIntent"


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class ContentError:
    """One problem in the content, addressed by file (relative to the content dir) and path."""

    file: str
    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        where = " → ".join((self.file, *self.path))
        return f"{where}: {self.message}"


class CatalogError(Exception):
    """Raised by :func:`load_catalog` when the content has problems; carries all of them."""

    def __init__(self, errors: Iterable[ContentError]) -> None:
        self.errors = sorted(errors)
        super().__init__(
            f"{len(self.errors)} problem(s) in the content:\n"
            + "\n".join(str(e) for e in self.errors)
        )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "; did you mean 'x'?" suffix when one of ``choices`` is close to ``word``."""
    import difflib  # noqa: PLC0415 - only checking content needs it, not answering

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# --------------------------------------------------------------------------------------------
# Records: what the rest of the skill reads
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Source:
    """A citation: which source (an id in sources.yaml), where in it, and optionally its words."""

    article: str
    section: str
    says: str | None = None


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """An entry of sources.yaml: an article, guideline or clinician's notes the content cites."""

    id: str
    title: str
    by: str
    where: str


@dataclass(frozen=True, slots=True)
class RepPhase:
    """One spoken phase of a rep ("lift your heel") and how long the movement or hold takes."""

    cue: str
    seconds: float
    hold: bool = False


@dataclass(frozen=True, slots=True)
class Reps:
    """``up_to`` N (min is None), a range ``from``–``to``, or an exact number (min == max), as the
    source gives it; ``count`` is how many the coach counts (within that). ``spoken`` overrides
    the wording of the range."""

    min: int | None
    max: int
    count: int
    spoken: str | None = None
    limit: str | None = None  # the source's words for the range ("only do a few at a time")

    @property
    def lowest(self) -> int:
        return self.min or 1

    @property
    def guided(self) -> int:
        """How many reps the coach counts, per side, wherever the exercise is guided."""
        return self.count


@dataclass(frozen=True, slots=True)
class Sides:
    per_side: bool
    first: str | None = None
    body_part: str | None = None  # "leg", "foot", "arm": said as "with your left leg"

    @property
    def order(self) -> tuple[str | None, ...]:
        """The sides in the order they are worked: ("left", "right"), or (None,) if not per side."""
        if not self.per_side:
            return (None,)
        first = self.first or "left"
        return (first, "right" if first == "left" else "left")


@dataclass(frozen=True, slots=True)
class Exercise:
    id: str
    name: str
    synonyms: tuple[str, ...]
    kind: str
    intensity: str
    position: str
    muscles: tuple[str, ...]
    summary: str
    setup: tuple[str, ...]  # said once, before the first set
    movement: tuple[str, ...]  # said before the count of every set
    rep: tuple[RepPhase, ...]
    reps: Reps
    sides: Sides
    cautions: tuple[str, ...]
    best_times: tuple[str, ...]
    source: Source
    switch: tuple[str, ...] = ()  # said on the switch to the other side (per-side exercises)
    plural: bool = False  # the name is grammatically plural ("here are the gentle squats")
    # Silence to get into position before the count: rules.position_seconds for its position,
    # filled in when the catalog is assembled.
    position_seconds: float = 0.0

    @property
    def rep_seconds(self) -> float:
        return sum(phase.seconds for phase in self.rep)


@dataclass(frozen=True, slots=True)
class RoutineStep:
    exercise: str
    reps: int | None = None


@dataclass(frozen=True, slots=True)
class Routine:
    id: str
    name: str
    synonyms: tuple[str, ...]
    times_of_day: tuple[str, ...]
    default_for: tuple[str, ...]
    steps: tuple[RoutineStep, ...]
    plural: bool = False  # the name is grammatically plural ("here are your morning stretches")
    # Gentle enough for the hours before bed (a wind-down): started then without the bedtime
    # warning. The author answers for that; the articles advise against exercise before bed.
    suits_bedtime: bool = False


@dataclass(frozen=True, slots=True)
class Activity:
    id: str
    name: str
    synonyms: tuple[str, ...]
    kind: str
    intensity: str
    allowed: bool
    about: str
    best_times: tuple[str, ...]
    instead: str
    source: Source
    limit: str | None = None
    tip: str | None = None
    max_mph: int | None = None
    exercise: str | None = None
    keywords: tuple[str, ...] = ()  # words that point here in a free question (not slot values)
    # An everyday activity the articles do not name: its Compendium MET value (how hard it is).
    met: float | None = None


@dataclass(frozen=True, slots=True)
class DoctorGroup:
    """Words that lead to one sensitive topic of tips.yaml (the doctor answer)."""

    topic: str
    phrases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Understanding:
    """What each interpretation step listens for, and the words that cancel a phrase."""

    safety: tuple[str, ...] = ()
    doctor: tuple[DoctorGroup, ...] = ()
    symptoms: tuple[str, ...] = ()
    symptoms_unless: tuple[str, ...] = ()  # "why do my legs …": a question, not symptoms now
    negations: tuple[str, ...] = ()  # within three words before a phrase
    negations_right_after: tuple[str, ...] = ()  # only straight before it
    limits: tuple[str, ...] = ()  # "how fast", "too far": with an activity, its limit
    this_exercise: tuple[str, ...] = ()  # mid-routine: "why are we doing this" is about it
    joints: tuple[str, ...] = ()  # "and then", "after that": where a second request begins
    how_to: tuple[str, ...] = ()  # "how do I do …": an exercise before an activity of that name
    any_tip: tuple[str, ...] = ()  # "give me a tip": a tip, when no topic is named
    leave_out: tuple[str, ...] = ()  # "I can't do lunges": an exercise to leave out from now on
    start: tuple[str, ...] = ()  # "let's crack on with": a request to start …
    the_stretches: tuple[str, ...] = ()  # … the stretches in general, when no routine is named


@dataclass(frozen=True, slots=True)
class TipTopic:
    id: str
    name: str
    synonyms: tuple[str, ...]
    points: tuple[str, ...]
    source: Source
    sensitive: bool = False
    keywords: tuple[str, ...] = ()  # words that point here in a free question (not slot values)
    # Each point's own citation where it gives one (else the topic's ``source``), by position.
    point_sources: tuple[Source | None, ...] = ()

    def point_source(self, index: int) -> Source:
        own = self.point_sources[index] if index < len(self.point_sources) else None
        return own or self.source


@dataclass(frozen=True, slots=True)
class Medicine:
    """A medicine, supplement or sleep aid people ask about: only a name Alexa can hear, so
    that every question about one reaches the doctor answer."""

    id: str
    name: str
    synonyms: tuple[str, ...]
    keywords: tuple[str, ...] = ()  # words that point here in a free question (not slot values)


@dataclass(frozen=True, slots=True)
class TimePhrase:
    """A spoken time ("tonight"). Exactly one of ``now``, ``at`` or ``before_bed_minutes``."""

    id: str
    name: str
    synonyms: tuple[str, ...]
    now: bool = False
    at: dt.time | None = None
    before_bed_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class DayPart:
    id: str
    starts: dt.time


@dataclass(frozen=True, slots=True)
class Pace:
    id: str
    factor: float
    rate: int = 100  # how fast instructions are spoken: percent of the normal rate


# The moments of a guided set a sound cue can mark (see skill.coach.cues).
CUE_MOMENTS = ("hold_start", "hold_end", "side_switch", "routine_end")


@dataclass(frozen=True, slots=True)
class SoundCue:
    """A clip of the Alexa Skills Kit sound library played at a moment of a set: its
    ``soundbank://`` address, its length, and the word a transcript shows for it."""

    src: str
    seconds: float
    label: str


@dataclass(frozen=True, slots=True)
class Night:
    """Night mode, from the user's bedtime until ``ends``: slower speech (``rate``, an SSML
    prosody rate), no sound cues, and answers that end the session. ``quiet_keys`` are the
    speech strings that invite more talk ("Anything else?", an offer): at night they are left
    out. An offer of a kind in ``optional_offers`` is dropped with them; any other offer is a
    question the user must answer, and keeps the session open."""

    ends: dt.time
    rate: str
    quiet_keys: tuple[str, ...]
    optional_offers: tuple[str, ...]
    # At most this long after bedtime: a night-shift worker's 8 AM bedtime is not night all day.
    longest_hours: float = 9.0


@dataclass(frozen=True, slots=True)
class Rules:
    day_parts: tuple[DayPart, ...]
    bedtime_buffer_hours: float
    default_bedtime: dt.time
    resume_within_hours: float
    position_seconds: Mapping[str, float]  # time to get into position, by exercise position
    paces: tuple[Pace, ...]
    mph_locales: tuple[str, ...] = ("en-US", "en-GB")
    # Part of the day → the clock time a reminder asked for by that part alone is set for.
    reminder_times: Mapping[str, dt.time] = field(default_factory=dict)
    quick_minutes: float = 5  # "just a quick one": how long a short session may run
    night: Night | None = None  # None: no night mode (a catalog built by hand in a test)
    # Cue moment (CUE_MOMENTS) → its sound; ``cue_priority`` orders them for when a response
    # has more moments than Alexa allows audio clips.
    sound_cues: Mapping[str, SoundCue] = field(default_factory=dict)
    cue_priority: tuple[str, ...] = ()

    def day_part(self, clock: dt.time) -> str:
        """The part of the day ("morning", …) a local clock time falls in."""
        current = self.day_parts[-1].id  # before the first start it is still last night
        for part in self.day_parts:
            if clock >= part.starts:
                current = part.id
        return current

    def pace(self, pace_id: str) -> Pace:
        for pace in self.paces:
            if pace.id == pace_id:
                return pace
        return self.normal_pace

    @property
    def normal_pace(self) -> Pace:
        return next(p for p in self.paces if p.id == "normal")


@dataclass(frozen=True, slots=True)
class IntentPhrasing:
    name: str
    slots: Mapping[str, str]
    samples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Phrasings:
    """The intent contract. ``samples`` are templates (see :mod:`skill.catalog.utterances`);
    ``builtin_samples`` extends Alexa's built-in intents with phrasings the dialog needs."""

    intents: Mapping[str, IntentPhrasing]
    builtin_intents: tuple[str, ...]
    invocation_name: str | None = None
    builtin_samples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Catalog:
    exercises: Mapping[str, Exercise]
    routines: Mapping[str, Routine]
    activities: Mapping[str, Activity]
    tips: Mapping[str, TipTopic]
    time_phrases: Mapping[str, TimePhrase]
    medicines: Mapping[str, Medicine]
    sources: Mapping[str, SourceDocument]
    rules: Rules
    speech: Mapping[str, Mapping[str, tuple[str, ...]]]  # language → "file.key" → variants
    phrasings: Phrasings
    directory: Path = field(compare=False)
    # What free words are about (understanding.yaml); empty when a test builds a catalog by hand.
    understanding: Understanding = field(default_factory=Understanding, compare=False)
    _derived: dict[Callable[[Catalog], Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def derived(self, build: Callable[[Catalog], T]) -> T:
        """``build(self)``, made on first use and kept with this catalog: an index over it lives
        exactly as long as the catalog, and a changed copy (``dataclasses.replace``) makes its
        own."""
        if build not in self._derived:
            self._derived[build] = build(self)
        return self._derived[build]

    def phrases(self, key: str, language: str = "en") -> tuple[str, ...]:
        """The variants of a speech string; ``key`` is ``file.key`` (e.g. ``common.welcome``)."""
        strings = self.speech.get(language) or self.speech["en"]
        try:
            return strings[key]
        except KeyError:
            raise KeyError(f"no speech string '{key}' for language '{language}'") from None

    def slot_values(self, slot_type: str) -> Mapping[str, Any]:
        """The entries that are the values of one of the generated slot types (by id); empty for
        any other slot type, e.g. AMAZON.TIME."""
        return {
            "EXERCISE": self.exercises,
            "ROUTINE": self.routines,
            "ACTIVITY": self.activities,
            "TIP_TOPIC": self.tips,
            "TIME_PHRASE": self.time_phrases,
            "MEDICINE": self.medicines,
        }.get(slot_type, {})

    def routine_for_day_part(self, day_part: str) -> Routine:
        """The routine started by "start my stretches" at this part of the day."""
        for routine in self.routines.values():
            if day_part in routine.default_for:
                return routine
        return next(iter(self.routines.values()))

    def summary(self) -> str:
        return (
            f"{len(self.exercises)} exercises, {len(self.routines)} routines, "
            f"{len(self.activities)} activities, {len(self.tips)} tip topics, "
            f"{len(self.time_phrases)} time phrases, {len(self.medicines)} medicines, "
            f"{len(self.sources)} sources, "
            f"{sum(len(s) for s in self.speech.values())} speech strings, "
            f"{len(self.phrasings.intents)} custom intents"
        )
