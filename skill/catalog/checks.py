"""Cross-reference checks, run once every file is read: what one entry says about another.

Every routine step and activity names a known exercise, a bedtime routine holds only gentle
exercises, every citation names a listed source, no spoken name belongs to two entries, and the
phrasings declare the slots they use, expand, and give no sample to two intents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from skill.catalog.errors import Collector
from skill.catalog.model import (
    CATALOG_SLOT_TYPES,
    FALLBACK_INTENT,
    Activity,
    Exercise,
    Phrasings,
    Routine,
    Source,
    SourceDocument,
    TipTopic,
    Understanding,
    did_you_mean,
)
from skill.catalog.utterances import TemplateError, expand, invocation_name_problems, slots_in


def _normal(phrase: str) -> str:
    return " ".join(phrase.lower().replace("-", " ").split())


def check_spoken_names(
    groups: Iterable[tuple[str, Mapping[str, Any]]], errors: Collector, what: str
) -> None:
    """No name or synonym may belong to two entries within one group of slot values."""
    owner: dict[str, tuple[str, str]] = {}
    for file, entries in groups:
        for entry in entries.values():
            seen_here: set[str] = set()
            for phrase in (entry.name, *entry.synonyms):
                key = _normal(phrase)
                if key in seen_here:
                    errors.add(file, (entry.id, "synonyms"), f"'{phrase}' is listed twice")
                    continue
                seen_here.add(key)
                if key in owner and owner[key][1] != entry.id:
                    other_file, other_id = owner[key]
                    errors.add(
                        file,
                        (entry.id, "synonyms"),
                        f"'{phrase}' is already a name of {what} '{other_id}' in {other_file}",
                    )
                    continue
                owner[key] = (file, entry.id)


def check_references(
    exercises_seen: set[str] | None,
    exercises: Mapping[str, Exercise] | None,
    routines: Mapping[str, Routine],
    routine_files: Mapping[str, str],
    activities: Mapping[str, Activity],
    phrasings: Phrasings | None,
    errors: Collector,
) -> None:
    """Routine steps and activities name known exercises, a bedtime routine holds only gentle
    ones, and the phrasings hang together. ``exercises_seen`` holds every exercise id read (even
    of entries that failed), so one broken exercise is not reported again at each reference."""
    seen = exercises_seen or set()  # the loops below skip when None: no exercise was read
    for routine in routines.values() if exercises_seen is not None else ():
        file = routine_files[routine.id]
        for number, step in enumerate(routine.steps, start=1):
            if step.exercise not in seen:
                errors.add(
                    file,
                    ("steps", str(number), "exercise"),
                    f"unknown exercise '{step.exercise}'{did_you_mean(step.exercise, seen)}",
                )
    for routine in routines.values() if exercises is not None else ():
        for number, step in enumerate(routine.steps, start=1):
            exercise = exercises.get(step.exercise) if exercises else None
            if routine.suits_bedtime and exercise is not None and exercise.intensity != "gentle":
                errors.add(
                    routine_files[routine.id],
                    ("steps", str(number), "exercise"),
                    f"the {exercise.name} is {exercise.intensity}: a routine that suits bedtime "
                    "holds only gentle exercises",
                )
    for activity in activities.values() if exercises_seen is not None else ():
        if activity.exercise and activity.exercise not in seen:
            errors.add(
                "activities.yaml",
                (activity.id, "exercise"),
                f"unknown exercise '{activity.exercise}'{did_you_mean(activity.exercise, seen)}",
            )
    if phrasings is not None:
        check_phrasings(phrasings, errors)


def check_citations(
    sources: Mapping[str, SourceDocument],
    exercises: Mapping[str, Exercise],
    activities: Mapping[str, Activity],
    tips: Mapping[str, TipTopic],
    errors: Collector,
) -> None:
    """Every citation names a source that sources.yaml lists."""
    known = sorted(sources)

    def check(file: str, where: tuple[str, ...], source: Source | None) -> None:
        if source is not None and source.article not in sources:
            hint = did_you_mean(source.article, known) or f"; the sources are: {', '.join(known)}"
            errors.add(
                file,
                (*where, "article"),
                f"unknown source '{source.article}'{hint}. Add it to sources.yaml to cite it",
            )

    for exercise in exercises.values():
        check("exercises.yaml", (exercise.id, "source"), exercise.source)
    for activity in activities.values():
        check("activities.yaml", (activity.id, "source"), activity.source)
    for topic in tips.values():
        check("tips.yaml", (topic.id, "source"), topic.source)
        for number, source in enumerate(topic.point_sources, start=1):
            check("tips.yaml", (topic.id, "points", str(number), "source"), source)


def check_everyday_source(
    sources: Mapping[str, SourceDocument], everyday: Mapping[str, Any] | None, errors: Collector
) -> None:
    """Everyday activities cite one source for their MET values: it must be listed."""
    article = (everyday or {}).get("source", {}).get("article")
    if article is not None and article not in sources:
        known = sorted(sources)
        hint = did_you_mean(article, known) or f"; the sources are: {', '.join(known)}"
        errors.add(
            "everyday_activities.yaml",
            ("source", "article"),
            f"unknown source '{article}'{hint}. Add it to sources.yaml to cite it",
        )


def check_understanding(
    understanding: Understanding | None, tips: Mapping[str, TipTopic], errors: Collector
) -> None:
    """Each doctor group leads to a sensitive tip topic: the doctor answer, never advice."""
    for number, group in enumerate(understanding.doctor if understanding else ()):
        topic = tips.get(group.topic)
        where = ("doctor", str(number), "topic")
        if topic is None:
            errors.add(
                "understanding.yaml",
                where,
                f"unknown tip topic '{group.topic}'{did_you_mean(group.topic, tips)}",
            )
        elif not topic.sensitive:
            errors.add("understanding.yaml", where, f"tip topic '{group.topic}' is not sensitive")


def check_phrasings(phrasings: Phrasings, errors: Collector) -> None:
    """Slots and slot types are declared and used, templates expand, the invocation name follows
    Alexa's rules, and no expanded sample belongs to two intents (Alexa rejects such a model)."""
    file = "phrasings.yaml"
    if phrasings.invocation_name is not None:
        for problem in invocation_name_problems(phrasings.invocation_name):
            errors.add(file, ("invocation_name",), problem)
    owner: dict[str, tuple[str, tuple[str, ...]]] = {}  # sample → (intent, where it comes from)

    def claim(intent_name: str, where: tuple[str, ...], template: str) -> None:
        try:
            samples = expand(template)
        except TemplateError as exc:
            errors.add(file, where, str(exc))
            return
        for sample in samples:
            other = owner.setdefault(sample, (intent_name, where))
            if other[0] != intent_name:
                errors.add(
                    file,
                    where,
                    f"'{sample}' is also a sample of {other[0]} ({' → '.join(other[1])}); "
                    "a sample may belong to one intent only",
                )

    for intent in phrasings.intents.values():
        for slot, slot_type in intent.slots.items():
            if slot_type not in CATALOG_SLOT_TYPES and not slot_type.startswith("AMAZON."):
                errors.add(
                    file,
                    ("intents", intent.name, "slots", slot),
                    f"unknown slot type '{slot_type}'{did_you_mean(slot_type, CATALOG_SLOT_TYPES)}",
                )
        used_slots: set[str] = set()
        for number, template in enumerate(intent.samples, start=1):
            where: tuple[str, ...] = ("intents", intent.name, "samples", str(number))
            for used in slots_in(template):
                used_slots.add(used)
                if used not in intent.slots:
                    errors.add(
                        file,
                        where,
                        f"slot {{{used}}} is not declared on {intent.name}"
                        f"{did_you_mean(used, intent.slots)}",
                    )
            claim(intent.name, where, template)
        for slot in intent.slots:
            if slot not in used_slots:
                errors.add(
                    file,
                    ("intents", intent.name, "slots", slot),
                    f"no sample uses {{{slot}}}; use it in a sample or remove the slot",
                )
    for name, templates in phrasings.builtin_samples.items():
        if name not in phrasings.builtin_intents:
            errors.add(
                file,
                ("builtin_samples", name),
                f"{name} is not in builtin_intents{did_you_mean(name, phrasings.builtin_intents)}",
            )
            continue
        if name == FALLBACK_INTENT and templates:
            errors.add(
                file,
                ("builtin_samples", name),
                "Alexa matches AMAZON.FallbackIntent with its out-of-domain model: give it no "
                "samples",
            )
            continue
        for number, template in enumerate(templates, start=1):
            where = ("builtin_samples", name, str(number))
            if slots_in(template):
                errors.add(file, where, "built-in intents have no slots: remove the {slot}")
                continue
            claim(name, where, template)
