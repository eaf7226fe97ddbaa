"""Loading the content: the YAML files under ``skill/content`` read, validated entry by entry
with the schemas of :mod:`skill.catalog.schemas`, cross-checked (:mod:`skill.catalog.checks`)
and built into one frozen :class:`Catalog`.

The public entry points: :func:`default_catalog` (the shipped content, once per process),
:func:`load_catalog` (any directory; raises :class:`CatalogError`), and :func:`collect_errors` /
:func:`validate_content` (every problem at once, as ``rls-coach validate`` prints them).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError

from skill.catalog.checks import (
    check_citations,
    check_everyday_source,
    check_references,
    check_spoken_names,
    check_understanding,
)
from skill.catalog.errors import Collector
from skill.catalog.model import (
    CONTENT_DIR,
    Catalog,
    CatalogError,
    ContentError,
    Routine,
)
from skill.catalog.rule_schemas import RulesSchema
from skill.catalog.schemas import (
    ActivitySchema,
    ExerciseSchema,
    MedicineSchema,
    PhrasingsSchema,
    RoutineFileSchema,
    RoutineSchema,
    SourceDocumentSchema,
    TimePhraseSchema,
    TipTopicSchema,
)
from skill.catalog.understanding import (
    EverydayFileSchema,
    UnderstandingSchema,
    everyday_activities,
)

# libyaml's safe loader when PyYAML was built with it (the wheels are): same safe semantics,
# several times faster, which matters for a Lambda cold start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path, relative: str, errors: Collector) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        errors.add(relative, (), f"cannot read the file: {exc}")
        return None
    try:
        return yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        errors.add(relative, (), f"broken YAML at {where}{problem}")
        return None


def _load_entries(
    raw: Any,
    key: str,
    schema: Schema,
    relative: str,
    errors: Collector,
) -> tuple[dict[str, Any], set[str]]:
    """Load a ``{key: [entries]}`` file entry by entry. Returns loaded entries and every id seen
    (including ids of entries that failed, so cross-references don't cascade into noise)."""
    loaded: dict[str, Any] = {}
    seen_ids: set[str] = set()
    if not isinstance(raw, dict) or set(raw) != {key}:
        errors.add(relative, (), f"the file must hold one top-level key '{key}' with a list")
        return loaded, seen_ids
    entries = raw[key]
    if not isinstance(entries, list) or not entries:
        errors.add(relative, (key,), "must be a non-empty list")
        return loaded, seen_ids
    for index, entry in enumerate(entries):
        label = _entry_label(entry, index)
        if not isinstance(entry, dict):
            errors.add(relative, (label,), "each entry must be a mapping of keys to values")
            continue
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            if entry_id in seen_ids:
                errors.add(relative, (label, "id"), f"duplicate id '{entry_id}'")
                continue
            seen_ids.add(entry_id)
        try:
            obj = schema.load(entry)
        except ValidationError as exc:
            errors.add_marshmallow(relative, (label,), exc.messages, schema, entry)
            continue
        loaded[obj.id] = obj
    return loaded, seen_ids


def _entry_label(entry: Any, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return entry["id"]
    return f"entry {index + 1}"


def _load_routines(
    directory: Path, errors: Collector
) -> tuple[dict[str, Routine], set[str], dict[str, str]]:
    routines: dict[str, Routine] = {}
    seen: set[str] = set()
    files: dict[str, str] = {}
    folder = directory / "routines"
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        errors.add("routines", (), "no routine files (routines/*.yaml)")
    for path in paths:
        relative = path.relative_to(directory).as_posix()
        before = len(errors.errors)
        raw = _read_yaml(path, relative, errors)
        if raw is None:
            if len(errors.errors) == before:
                errors.add(relative, (), "the file is empty")
            continue
        try:
            RoutineFileSchema().load(raw if isinstance(raw, dict) else {"_": raw})
        except ValidationError:
            errors.add(
                relative, (), "the file must hold one top-level key 'routine' with a mapping"
            )
            continue
        entry = raw["routine"]
        label = _entry_label(entry, 0)
        entry_id = entry.get("id")
        if isinstance(entry_id, str):
            if entry_id in seen:
                errors.add(
                    relative,
                    (label, "id"),
                    f"duplicate id '{entry_id}' (also in {files[entry_id]})",
                )
                continue
            seen.add(entry_id)
            files[entry_id] = relative
        schema = RoutineSchema()
        try:
            routine = schema.load(entry)
        except ValidationError as exc:
            errors.add_marshmallow(relative, (), exc.messages, schema, entry)
            continue
        routines[routine.id] = routine
    return routines, seen, files


def _load_speech(directory: Path, errors: Collector) -> dict[str, dict[str, tuple[str, ...]]]:
    speech: dict[str, dict[str, tuple[str, ...]]] = {}
    root = directory / "speech"
    for language_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        strings: dict[str, tuple[str, ...]] = {}
        for path in sorted(language_dir.glob("*.yaml")):
            relative = path.relative_to(directory).as_posix()
            raw = _read_yaml(path, relative, errors)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                errors.add(relative, (), "must map string keys to a sentence or a list of variants")
                continue
            for key, value in raw.items():
                variants = [value] if isinstance(value, str) else value
                if (
                    not isinstance(key, str)
                    or not isinstance(variants, list)
                    or not variants
                    or not all(isinstance(v, str) and v.strip() for v in variants)
                ):
                    errors.add(
                        relative, (str(key),), "must be a sentence or a non-empty list of sentences"
                    )
                    continue
                if any(re.search(r"[<>&]", v) for v in variants):
                    errors.add(
                        relative, (key,), "plain text only: SSML is added by the speech builder"
                    )
                    continue
                fields_used = {frozenset(re.findall(r"\{(\w+)\}", v)) for v in variants}
                if len(fields_used) > 1:
                    errors.add(relative, (key,), "every variant must use the same {placeholders}")
                    continue
                strings[f"{path.stem}.{key}"] = tuple(variants)
        speech[language_dir.name] = strings
    if "en" not in speech:
        errors.add("speech", (), "no English speech strings (speech/en/*.yaml)")
    return speech


def _load_single(directory: Path, name: str, schema: Schema, errors: Collector) -> Any:
    path = directory / name
    if not path.is_file():
        errors.add(name, (), "the file is missing")
        return None
    raw = _read_yaml(path, name, errors)
    if raw is None:
        return None
    try:
        return schema.load(raw)
    except ValidationError as exc:
        errors.add_marshmallow(name, (), exc.messages, schema, raw)
        return None


def _load_list_file(
    directory: Path, name: str, key: str, schema: Schema, errors: Collector
) -> tuple[dict[str, Any], set[str] | None]:
    """Entries and the ids seen; the ids are None when the file could not be read at all, so
    that references to it are not reported as unknown on top of the real problem."""
    path = directory / name
    if not path.is_file():
        errors.add(name, (), "the file is missing")
        return {}, None
    raw = _read_yaml(path, name, errors)
    if raw is None:
        return {}, None
    return _load_entries(raw, key, schema, name, errors)


def collect_errors(
    directory: Path | str | None = None,
) -> tuple[Catalog | None, list[ContentError]]:
    """Read and check all content. Returns the catalog (None if anything is wrong) and errors."""
    directory = Path(directory) if directory is not None else CONTENT_DIR
    errors = Collector()
    if not directory.is_dir():
        errors.add(str(directory), (), "no such content directory")
        return None, errors.errors

    exercises, exercises_seen = _load_list_file(
        directory, "exercises.yaml", "exercises", ExerciseSchema(), errors
    )
    activities, _ = _load_list_file(
        directory, "activities.yaml", "activities", ActivitySchema(), errors
    )
    everyday_raw = _load_single(directory, "everyday_activities.yaml", EverydayFileSchema(), errors)
    everyday = everyday_activities(everyday_raw) if everyday_raw is not None else {}
    tips, _ = _load_list_file(directory, "tips.yaml", "tips", TipTopicSchema(), errors)
    understanding = _load_single(directory, "understanding.yaml", UnderstandingSchema(), errors)
    time_phrases, _ = _load_list_file(
        directory, "time_phrases.yaml", "time_phrases", TimePhraseSchema(), errors
    )
    medicines, _ = _load_list_file(
        directory, "medicines.yaml", "medicines", MedicineSchema(), errors
    )
    sources, _ = _load_list_file(
        directory, "sources.yaml", "sources", SourceDocumentSchema(), errors
    )
    routines, _, routine_files = _load_routines(directory, errors)
    rules = _load_single(directory, "rules.yaml", RulesSchema(), errors)
    phrasings = _load_single(directory, "phrasings.yaml", PhrasingsSchema(), errors)
    speech = _load_speech(directory, errors)

    check_references(
        exercises_seen, exercises, routines, routine_files, activities, phrasings, errors
    )
    # Exercises and routines share one namespace in speech ("start the calf stretch" vs
    # "start my morning stretches"), so their spoken names must not collide with each other.
    check_spoken_names(
        [("exercises.yaml", exercises), *((routine_files[r], {r: routines[r]}) for r in routines)],
        errors,
        "exercise or routine",
    )
    # Everyday activities join the articles' own: one slot type, one lookup, one verdict.
    check_spoken_names(
        [("activities.yaml", activities), ("everyday_activities.yaml", everyday)],
        errors,
        "activity",
    )
    check_spoken_names([("tips.yaml", tips)], errors, "tip topic")
    check_spoken_names([("time_phrases.yaml", time_phrases)], errors, "time phrase")
    check_spoken_names([("medicines.yaml", medicines)], errors, "medicine")
    check_citations(sources, exercises, activities, tips, errors)
    check_everyday_source(sources, everyday_raw, errors)
    check_understanding(understanding, tips, errors)
    _check_reminder_words(directory, errors)
    activities = {**activities, **everyday}

    if errors.errors or rules is None or phrasings is None:
        return None, sorted(errors.errors)
    exercises = {
        key: dataclasses.replace(
            exercise, position_seconds=rules.position_seconds[exercise.position]
        )
        for key, exercise in exercises.items()
    }
    catalog = Catalog(
        exercises=exercises,
        routines=routines,
        activities=activities,
        tips=tips,
        time_phrases=time_phrases,
        medicines=medicines,
        sources=sources,
        rules=rules,
        speech=speech,
        phrasings=phrasings,
        directory=directory,
        understanding=understanding,
    )
    return catalog, []


def _check_reminder_words(directory: Path, errors: Collector) -> None:
    """reminder_words.yaml is read on a first reminder turn (skill.reminder_words); checking it
    here too means a mistake in it is named by `rls-coach validate`, not heard by a user."""
    from skill.reminder_words import WordsError, load_vocabulary  # noqa: PLC0415 - content checks only

    path = directory / "reminder_words.yaml"
    if not path.is_file():
        errors.add("reminder_words.yaml", (), "the file is missing")
        return
    try:
        load_vocabulary(path)
    except WordsError as exc:
        errors.add("reminder_words.yaml", (), str(exc).removeprefix("reminder_words.yaml: "))


def validate_content(directory: Path | str | None = None) -> list[ContentError]:
    """Every problem in the content under ``directory`` (the shipped content by default)."""
    return collect_errors(directory)[1]


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load the catalog or raise :class:`CatalogError` listing every problem."""
    catalog, errors = collect_errors(directory)
    if catalog is None:
        raise CatalogError(errors)
    return catalog


@functools.cache
def default_catalog() -> Catalog:
    """The shipped catalog, read and checked once per process."""
    return load_catalog(CONTENT_DIR)
