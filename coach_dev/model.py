"""Interaction models and the skill manifest, generated from the catalog.

:func:`build_models` is pure: catalog + phrasing templates → one interaction-model document per
English locale, in the JSON schema Alexa (SMAPI, the ASK CLI, virtual-alexa) reads. Every
exercise, routine, activity, tip topic and time phrase becomes a slot value whose entity id is
its catalog id, so handlers read resolved ids rather than raw words. :func:`build_manifest`
does the same for the skill manifest, from ``content/manifest.yaml``.

``rls-coach model build`` (:func:`build_command`) writes them as the ASK CLI's skill package:
``skill.json`` and ``interactionModels/custom/<locale>.json`` under ``skill-package/`` at the
project root (the folder ``ask-resources.json`` names, so ``ask deploy`` publishes it as it is),
sorted and stable so that a diff shows only real changes; with ``--check`` it writes nothing and
names every file that has drifted.

Where the files live: :func:`model_file_name` is the one place that knows the layout, and
everything that reads a committed model asks :func:`model_file`. A non-editable install has no
checkout, so there the command needs ``--output DIR``; the skill itself never reads these files
at run time.

:func:`check_model` and :func:`check_manifest` apply Alexa's published rules (invocation name,
sample characters and uniqueness, declared slots and types, entity ids, sizes) so that a model
Alexa would reject fails here first.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from skill.catalog.loader import default_catalog, load_catalog
from skill.catalog.model import (
    CATALOG_SLOT_TYPES,
    CONTENT_DIR,
    FALLBACK_INTENT,
    Catalog,
    CatalogError,
)
from skill.catalog.utterances import (
    TemplateError,
    check_sample,
    expand,
    invocation_name_problems,
    normalize,
    slots_in,
)

LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The ASK CLI's skill package: ask-resources.json names this folder as skillMetadata.src.
SKILL_PACKAGE = PROJECT_ROOT / "skill-package"
MANIFEST_FILE = "skill.json"
MODELS_FOLDER = "interactionModels/custom"
MANIFEST_SOURCE = CONTENT_DIR / "manifest.yaml"
# The skill events the manifest may subscribe to, by the manifest's names for them; the skill
# answers these (skill/handlers/events.py).
SKILL_EVENTS = ("SKILL_DISABLED", "SKILL_PERMISSION_ACCEPTED", "SKILL_PERMISSION_CHANGED")
# The only permission the skill's code uses (skill/reminders.py): reminders to stretch.
KNOWN_PERMISSIONS = ("alexa::alerts:reminders:skill:readwrite",)

APL_INTERFACE = "ALEXA_PRESENTATION_APL"  # the manifest's name for Echo Show screens (APL)

# Built-in intents every custom skill must carry (NavigateHome is added by Alexa if missing, so
# carrying it keeps the committed model equal to the one Alexa builds).
REQUIRED_BUILTINS = (
    "AMAZON.CancelIntent",
    "AMAZON.HelpIntent",
    "AMAZON.NavigateHomeIntent",
    "AMAZON.StopIntent",
)

# Alexa's limits for a custom interaction model. Where the published figure could not be pinned
# down, the number is a budget tighter than any figure Alexa has published, so passing it is safe.
MAX_INTENTS = 250
MAX_SLOT_VALUES = 50_000  # values and synonyms, across all custom slot types
MAX_SLOT_VALUE_CHARS = 140
MAX_SAMPLE_CHARS = 200
MAX_SAMPLES_PER_INTENT = 1_000
MAX_SAMPLE_CHARS_TOTAL = 200_000
MAX_MODEL_BYTES = 1_500_000

# Skill manifest limits (publishing information shown in the Alexa app and skill store).
MAX_EXAMPLE_PHRASES = 3
MAX_NAME_CHARS = 50
MAX_SUMMARY_CHARS = 160
MAX_DESCRIPTION_CHARS = 4_000
MAX_KEYWORDS = 30
HEALTH_DISCLAIMER = "general information"

SEARCH_QUERY = "AMAZON.SearchQuery"
_NAME = re.compile(r"^[A-Za-z_]+$")
_BUILTIN_NAME = re.compile(r"^AMAZON\.[A-Za-z]+$")
_SLOT_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 '.&-]*$")


def model_file_name(locale: str) -> str:
    """A locale's interaction model, as a path inside a skill package."""
    return f"{MODELS_FOLDER}/{locale}.json"


def model_file(locale: str, package: Path = SKILL_PACKAGE) -> Path:
    """Where ``locale``'s interaction model is in a skill package (the committed one by default)."""
    return package / model_file_name(locale)


class ModelSourceError(ValueError):
    """The content cannot make a model or manifest; the message names the file and field."""


class ManifestSourceError(ModelSourceError):
    """``manifest.yaml`` is missing or invalid; the message names every bad field."""


# --------------------------------------------------------------------------------------------
# Interaction models
# --------------------------------------------------------------------------------------------


def _slot_type(catalog: Catalog, slot_type: str) -> dict[str, Any]:
    """One custom slot type: every catalog entry, its id as the entity id, and its synonyms."""
    values = []
    for entry in sorted(catalog.slot_values(slot_type).values(), key=lambda e: e.id):
        seen = {normalize(entry.name)}
        synonyms = []
        for synonym in entry.synonyms:
            if normalize(synonym) not in seen:
                seen.add(normalize(synonym))
                synonyms.append(synonym)
        value: dict[str, Any] = {"value": entry.name}
        if synonyms:
            value["synonyms"] = sorted(synonyms, key=str.lower)
        values.append({"id": entry.id, "name": value})
    return {"name": slot_type, "values": values}


def _samples(templates: Iterable[str]) -> list[str]:
    return sorted({sample for template in templates for sample in expand(template)})


def build_language_model(catalog: Catalog) -> dict[str, Any]:
    """The interaction-model document (``{"interactionModel": {"languageModel": …}}``)."""
    phrasings = catalog.phrasings
    if not phrasings.invocation_name:
        raise ModelSourceError("phrasings.yaml → invocation_name: missing; the model needs one")
    intents: list[dict[str, Any]] = []
    used_types: set[str] = set()
    for intent in phrasings.intents.values():
        document: dict[str, Any] = {"name": intent.name, "samples": _samples(intent.samples)}
        if intent.slots:
            document["slots"] = [
                {"name": name, "type": intent.slots[name]} for name in sorted(intent.slots)
            ]
            used_types.update(intent.slots.values())
        intents.append(document)
    for name in phrasings.builtin_intents:
        templates = phrasings.builtin_samples.get(name, ())
        intents.append({"name": name, "samples": _samples(templates)})
    types = [_slot_type(catalog, t) for t in sorted(used_types) if t in CATALOG_SLOT_TYPES]
    return {
        "interactionModel": {
            "languageModel": {
                "invocationName": phrasings.invocation_name,
                "intents": sorted(intents, key=lambda i: i["name"]),
                "types": types,
            }
        }
    }


def build_models(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """One interaction model per English locale. The locales share one English source: the
    phrasings hold nothing that differs between US, British, Canadian, Australian and Indian
    English, so every locale gets the same model (as separate copies, safe to modify)."""
    model = build_language_model(catalog)
    return {locale: copy.deepcopy(model) for locale in LOCALES}


@functools.cache
def default_model(locale: str = "en-US") -> Mapping[str, Any]:
    """The shipped content's model for ``locale``, built once per process: the same document as
    the committed :func:`model_file` (``model build --check`` keeps them equal),
    and available where no checkout is (the terminal chat resolves typed text with it). The
    document is shared: copy it before changing it."""
    if locale not in LOCALES:
        raise ValueError(f"no interaction model for locale '{locale}'; use one of {LOCALES}")
    return build_language_model(default_catalog())


def language_model(model: Mapping[str, Any]) -> Mapping[str, Any]:
    return model["interactionModel"]["languageModel"]


def check_model(model: Mapping[str, Any]) -> list[str]:
    """Every way ``model`` breaks Alexa's rules for an interaction model (empty when valid)."""
    try:
        lm = language_model(model)
        intents = list(lm["intents"])
        types = list(lm.get("types", []))
    except (KeyError, TypeError):
        return ["the document has no interactionModel → languageModel with intents"]
    problems = [f"invocation name {p}" for p in invocation_name_problems(lm["invocationName"])]
    problems += _check_intents(intents, {t.get("name") for t in types})
    problems += _check_types(types, intents)
    size = len(json.dumps(model).encode())
    if size > MAX_MODEL_BYTES:
        problems.append(f"the model is {size} bytes (at most {MAX_MODEL_BYTES})")
    return problems


def _check_intents(intents: list[Mapping[str, Any]], defined_types: set[Any]) -> list[str]:
    problems: list[str] = []
    names = [intent.get("name", "") for intent in intents]
    if len(intents) > MAX_INTENTS:
        problems.append(f"{len(intents)} intents (at most {MAX_INTENTS})")
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"intent {name} is defined twice")
    for required in REQUIRED_BUILTINS:
        if required not in names:
            problems.append(f"the required built-in intent {required} is missing")
    owner: dict[str, str] = {}
    total_chars = 0
    for intent in intents:
        name = intent.get("name", "")
        builtin = name.startswith("AMAZON.")
        if not (_BUILTIN_NAME if builtin else _NAME).match(name):
            problems.append(f"intent name '{name}': use only letters and underscores")
        slots = {slot.get("name"): slot.get("type") for slot in intent.get("slots", [])}
        for slot_name, slot_type in slots.items():
            if not _NAME.match(str(slot_name)):
                problems.append(f"{name}: slot name '{slot_name}': use only letters and _")
            if not str(slot_type).startswith("AMAZON.") and slot_type not in defined_types:
                problems.append(f"{name}: slot {slot_name} has the undefined type {slot_type}")
        samples = list(intent.get("samples", []))
        if builtin and slots:
            problems.append(f"{name}: a built-in intent cannot have slots")
        if name == FALLBACK_INTENT and samples:
            problems.append(f"{name}: give AMAZON.FallbackIntent no samples")
        if not builtin and not samples:
            problems.append(f"{name}: a custom intent needs at least one sample")
        if len(samples) > MAX_SAMPLES_PER_INTENT:
            problems.append(f"{name}: {len(samples)} samples (at most {MAX_SAMPLES_PER_INTENT})")
        used: set[str] = set()
        seen_here: set[str] = set()
        for sample in samples:
            total_chars += len(sample)
            problems += _check_one_sample(name, sample, slots)
            used.update(slots_in(sample))
            key = normalize(sample)
            if key in seen_here:
                problems.append(f"{name}: '{sample}' is listed twice")
            seen_here.add(key)
            other = owner.setdefault(key, name)
            if other != name:
                problems.append(f"'{sample}' is a sample of both {other} and {name}")
        for slot_name in sorted(set(slots) - used):
            problems.append(f"{name}: slot {slot_name} is not used in any sample")
    if total_chars > MAX_SAMPLE_CHARS_TOTAL:
        problems.append(f"samples hold {total_chars} characters (at most {MAX_SAMPLE_CHARS_TOTAL})")
    return sorted(set(problems), key=problems.index)


def _check_one_sample(intent: str, sample: str, slots: Mapping[Any, Any]) -> list[str]:
    problems: list[str] = []
    if len(sample) > MAX_SAMPLE_CHARS:
        problems.append(f"{intent}: '{sample}' is longer than {MAX_SAMPLE_CHARS} characters")
    try:
        check_sample(sample)
    except TemplateError as exc:
        problems.append(f"{intent}: {exc}")
    for used in slots_in(sample):
        if used not in slots:
            problems.append(f"{intent}: '{sample}' uses {{{used}}}, not declared on the intent")
    # Alexa's rules for free text: an AMAZON.SearchQuery slot needs carrier words around it and
    # shares its sample with no other slot.
    searched = [used for used in slots_in(sample) if slots.get(used) == SEARCH_QUERY]
    if searched and normalize(sample) == f"{{{searched[0]}}}":
        problems.append(f"{intent}: '{sample}' has no carrier phrase around its AMAZON.SearchQuery")
    if searched and len(slots_in(sample)) > 1:
        problems.append(f"{intent}: '{sample}' has another slot beside its AMAZON.SearchQuery")
    return problems


def _check_types(types: list[Mapping[str, Any]], intents: list[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    used = {slot.get("type") for intent in intents for slot in intent.get("slots", [])}
    total = 0
    for slot_type in types:
        type_name = slot_type.get("name")
        if type_name not in used:
            problems.append(f"slot type {type_name} is defined but no slot uses it")
        ids: set[str] = set()
        claimed: dict[str, str] = {}
        for value in slot_type.get("values", []):
            entity_id = value.get("id")
            if not entity_id:
                problems.append(f"{type_name}: a value has no id")
            elif entity_id in ids:
                problems.append(f"{type_name}: id {entity_id} is used twice")
            ids.add(str(entity_id))
            name = value.get("name", {})
            for phrase in (name.get("value", ""), *name.get("synonyms", [])):
                total += 1
                if len(phrase) > MAX_SLOT_VALUE_CHARS:
                    problems.append(f"{type_name}: '{phrase}' is over {MAX_SLOT_VALUE_CHARS} chars")
                if not _SLOT_VALUE.match(phrase):
                    problems.append(f"{type_name}: '{phrase}' has characters Alexa rejects")
                key = normalize(phrase)
                other = claimed.setdefault(key, str(entity_id))
                if other != entity_id:
                    problems.append(
                        f"{type_name}: '{phrase}' belongs to both {other} and {entity_id}"
                    )
    if total > MAX_SLOT_VALUES:
        problems.append(f"{total} slot values and synonyms (at most {MAX_SLOT_VALUES})")
    return problems


# --------------------------------------------------------------------------------------------
# Skill manifest
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestSource:
    """``content/manifest.yaml``: the publishing text, written once in English."""

    name: str
    summary: str
    description: str
    example_phrases: tuple[str, ...]
    keywords: tuple[str, ...]
    category: str
    testing_instructions: str
    privacy: Mapping[str, bool]
    endpoint: str
    permissions: tuple[str, ...] = ()
    events: tuple[str, ...] = ()


class _PrivacySchema(Schema):
    class Meta:
        unknown = RAISE

    allows_purchases = fields.Boolean(required=True)
    uses_personal_info = fields.Boolean(required=True)
    is_child_directed = fields.Boolean(required=True)
    contains_ads = fields.Boolean(required=True)
    is_export_compliant = fields.Boolean(required=True)


class _ManifestSourceSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=2, max=MAX_NAME_CHARS))
    summary = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SUMMARY_CHARS))
    description = fields.String(
        required=True, validate=validate.Length(min=1, max=MAX_DESCRIPTION_CHARS)
    )
    example_phrases = fields.List(
        fields.String(validate=validate.Regexp(r"^Alexa, ", error="must start with 'Alexa, '")),
        required=True,
        validate=validate.Length(min=1, max=MAX_EXAMPLE_PHRASES),
    )
    keywords = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=MAX_KEYWORDS),
    )
    category = fields.String(required=True, validate=validate.Regexp(r"^[A-Z_]+$"))
    testing_instructions = fields.String(required=True, validate=validate.Length(min=1))
    privacy = fields.Nested(_PrivacySchema, required=True)
    endpoint = fields.String(
        required=True,
        validate=validate.Regexp(r"^(arn:|https://)", error="must be an https URL or a Lambda ARN"),
    )
    permissions = fields.List(
        fields.String(validate=validate.OneOf(KNOWN_PERMISSIONS)), load_default=list
    )
    events = fields.List(fields.String(validate=validate.OneOf(SKILL_EVENTS)), load_default=list)


def load_manifest_source(path: Path = MANIFEST_SOURCE) -> ManifestSource:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestSourceError(f"{path.name}: cannot read it: {exc}") from None
    try:
        data = _ManifestSourceSchema().load(raw if isinstance(raw, dict) else {})
    except ValidationError as exc:
        lines = [f"{path.name} → {key}: {message}" for key, message in _flat(exc.messages)]
        raise ManifestSourceError("\n".join(lines)) from None
    return ManifestSource(
        name=data["name"],
        summary=data["summary"],
        description=data["description"],
        example_phrases=tuple(data["example_phrases"]),
        keywords=tuple(data["keywords"]),
        category=data["category"],
        testing_instructions=data["testing_instructions"],
        privacy=dict(data["privacy"]),
        endpoint=data["endpoint"],
        permissions=tuple(data["permissions"]),
        events=tuple(data["events"]),
    )


def _flat(messages: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flat(value, f"{prefix} → {key}" if prefix else str(key))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        yield prefix, "; ".join(messages)
    else:
        yield prefix, str(messages)


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def build_manifest(
    catalog: Catalog, source: ManifestSource, locales: Iterable[str] = LOCALES
) -> dict[str, Any]:
    """The skill manifest (the ASK CLI's ``skill.json``). It asks only for the permissions
    ``manifest.yaml`` lists (reminders); the time zone comes from the Alexa Settings API, which
    needs none."""
    locales = tuple(locales)
    text = {
        "name": source.name,
        "summary": source.summary,
        "description": source.description,
        "examplePhrases": list(source.example_phrases),
        "keywords": list(source.keywords),
    }
    endpoint: dict[str, str] = {"uri": source.endpoint}
    if source.endpoint.startswith("https://"):
        endpoint["sslCertificateType"] = "Trusted"
    manifest: dict[str, Any] = {
        "manifest": {
            "manifestVersion": "1.0",
            "publishingInformation": {
                "locales": {locale: copy.deepcopy(text) for locale in locales},
                "isAvailableWorldwide": False,
                "distributionCountries": sorted({loc.split("-")[1] for loc in locales}),
                "distributionMode": "PUBLIC",
                "category": source.category,
                "testingInstructions": source.testing_instructions,
            },
            "privacyAndCompliance": {_camel(key): value for key, value in source.privacy.items()},
            # The coach draws Echo Show screens: without this, Alexa never tells it a device
            # has one (Alexa.Presentation.APL in the request's supportedInterfaces).
            "apis": {"custom": {"endpoint": endpoint, "interfaces": [{"type": APL_INTERFACE}]}},
        }
    }
    if source.permissions:
        manifest["manifest"]["permissions"] = [{"name": name} for name in source.permissions]
    if source.events:
        # Skill events come to the same endpoint as requests (skill/handlers/events.py).
        manifest["manifest"]["events"] = {
            "endpoint": dict(endpoint),
            "subscriptions": [{"eventName": name} for name in source.events],
        }
    return manifest


def check_manifest(manifest: Mapping[str, Any], invocation_name: str) -> list[str]:
    """Every way the manifest breaks Alexa's publishing rules (empty when valid). Whether the
    example phrases resolve is checked against the model by the tests, with :mod:`coach_dev.nlu`."""
    problems: list[str] = []
    body = manifest.get("manifest", {})
    locales = body.get("publishingInformation", {}).get("locales", {})
    if not locales:
        problems.append("publishingInformation has no locales")
    for locale, text in locales.items():
        phrases = text.get("examplePhrases", [])
        if not 1 <= len(phrases) <= MAX_EXAMPLE_PHRASES:
            problems.append(f"{locale}: give 1 to {MAX_EXAMPLE_PHRASES} example phrases")
        for phrase in phrases:
            if not phrase.startswith("Alexa, "):
                problems.append(f"{locale}: example phrase '{phrase}' must start with 'Alexa, '")
            if invocation_name not in phrase.lower():
                problems.append(f"{locale}: '{phrase}' does not say '{invocation_name}'")
        if len(text.get("summary", "")) > MAX_SUMMARY_CHARS:
            problems.append(f"{locale}: the summary is over {MAX_SUMMARY_CHARS} characters")
        for field_name in ("summary", "description"):
            if HEALTH_DISCLAIMER not in text.get(field_name, "").lower():
                problems.append(f"{locale}: the {field_name} lacks the health disclaimer")
        if len(text.get("keywords", [])) > MAX_KEYWORDS:
            problems.append(f"{locale}: more than {MAX_KEYWORDS} keywords")
    privacy = body.get("privacyAndCompliance", {})
    for flag in ("allowsPurchases", "usesPersonalInfo", "isChildDirected", "containsAds"):
        if privacy.get(flag) is not False:
            problems.append(f"privacyAndCompliance.{flag} must be false for this skill")
    for permission in body.get("permissions") or []:
        if permission.get("name") not in KNOWN_PERMISSIONS:
            problems.append(
                f"manifest.permissions: the skill does not use '{permission.get('name')}'"
            )
    interfaces = body.get("apis", {}).get("custom", {}).get("interfaces") or []
    if {"type": APL_INTERFACE} not in interfaces:
        problems.append(
            f"apis.custom.interfaces must declare {APL_INTERFACE}: the skill has screens"
        )
    uri = body.get("apis", {}).get("custom", {}).get("endpoint", {}).get("uri", "")
    if not re.match(r"^(arn:|https://)", uri):
        problems.append("apis.custom.endpoint.uri must be an https URL or a Lambda ARN")
    return problems


# --------------------------------------------------------------------------------------------
# Files and the command
# --------------------------------------------------------------------------------------------


def render(document: Mapping[str, Any]) -> str:
    """Stable JSON: sorted keys, two-space indents, UTF-8 text, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate_files(catalog: Catalog, source: ManifestSource) -> dict[str, str]:
    """Path inside the skill package → text, for everything ``model build`` writes."""
    files = {
        model_file_name(locale): render(model) for locale, model in build_models(catalog).items()
    }
    files[MANIFEST_FILE] = render(build_manifest(catalog, source))
    return files


def describe_drift(name: str, committed: str | None, generated: str) -> list[str]:
    """What differs between a committed file and the generated one, in words."""
    if committed is None:
        return [f"{name}: missing (it would be generated)"]
    if committed == generated:
        return []
    try:
        old, new = json.loads(committed), json.loads(generated)
    except json.JSONDecodeError as exc:
        return [f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})"]
    if name == MANIFEST_FILE or "interactionModel" not in old:
        changes = _json_changes(old, new, "")
    else:
        changes = _model_changes(language_model(old), language_model(new))
    if not changes:
        changes = ["formatting differs from the generated file"]
    return [f"{name}: {change}" for change in changes]


def _model_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes: list[str] = []
    if old.get("invocationName") != new.get("invocationName"):
        changes.append(
            f"invocation name '{old.get('invocationName')}' → '{new.get('invocationName')}'"
        )
    old_intents = {i["name"]: i for i in old.get("intents", [])}
    new_intents = {i["name"]: i for i in new.get("intents", [])}
    changes += [f"intent {n} added" for n in sorted(set(new_intents) - set(old_intents))]
    changes += [f"intent {n} removed" for n in sorted(set(old_intents) - set(new_intents))]
    for name in sorted(set(old_intents) & set(new_intents)):
        before, after = old_intents[name], new_intents[name]
        if before.get("slots", []) != after.get("slots", []):
            changes.append(f"intent {name}: slots changed")
        changes += _set_changes(
            f"intent {name}", "sample", before.get("samples", []), after.get("samples", [])
        )
    old_types = {t["name"]: t for t in old.get("types", [])}
    new_types = {t["name"]: t for t in new.get("types", [])}
    changes += [f"slot type {n} added" for n in sorted(set(new_types) - set(old_types))]
    changes += [f"slot type {n} removed" for n in sorted(set(old_types) - set(new_types))]
    for name in sorted(set(old_types) & set(new_types)):
        before = {v["id"]: v for v in old_types[name].get("values", [])}
        after = {v["id"]: v for v in new_types[name].get("values", [])}
        changes += _set_changes(f"slot type {name}", "value", list(before), list(after))
        for entity_id in sorted(set(before) & set(after)):
            if before[entity_id] != after[entity_id]:
                changes.append(f"slot type {name}: value {entity_id} changed (name or synonyms)")
    return changes


def _set_changes(where: str, what: str, before: list[str], after: list[str]) -> list[str]:
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changes = []
    for verb, items in (("added", added), ("removed", removed)):
        if items:
            shown = ", ".join(f"'{item}'" for item in items[:3])
            more = f" and {len(items) - 3} more" if len(items) > 3 else ""
            plural = "s" if len(items) > 1 else ""
            changes.append(f"{where}: {len(items)} {what}{plural} {verb} ({shown}{more})")
    return changes


def _json_changes(old: Any, new: Any, path: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in sorted(set(old) | set(new)):
            where = f"{path}.{key}" if path else key
            if key not in old:
                changes.append(f"{where} added")
            elif key not in new:
                changes.append(f"{where} removed")
            else:
                changes += _json_changes(old[key], new[key], where)
        return changes
    return [] if old == new else [f"{path} changed"]


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _output_directory(output: Path | None) -> Path | None:
    if output is not None:
        return output
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return SKILL_PACKAGE
    return None


def build_command(check: bool, output: Path | None, content: Path | None = None) -> int:
    """``rls-coach model build [--check] [--output DIR] [--content DIR]``. Returns the exit
    status."""
    directory = _output_directory(output)
    if directory is None:
        print(
            "rls-coach model build: no project checkout beside this installation; "
            "pass --output DIR",
            file=sys.stderr,
        )
        return 2
    try:
        catalog = load_catalog(content)
        manifest = load_manifest_source(content / "manifest.yaml") if content else None
        files = generate_files(catalog, manifest or load_manifest_source())
    except (CatalogError, ModelSourceError) as exc:
        print(f"rls-coach model build: {exc}", file=sys.stderr)
        return 1
    problems = [
        f"{model_file_name(locale)}: {problem}"
        for locale in LOCALES
        for problem in check_model(json.loads(files[model_file_name(locale)]))
    ]
    invocation_name = catalog.phrasings.invocation_name or ""
    problems += [
        f"{MANIFEST_FILE}: {problem}"
        for problem in check_manifest(json.loads(files[MANIFEST_FILE]), invocation_name)
    ]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s): nothing written", file=sys.stderr)
        return 1
    if check:
        return _check_files(directory, files)
    try:
        for name, text in files.items():
            path = directory / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for stale in _stale_files(directory, files):
            stale.unlink()
            print(f"removed {_in_package(stale, directory)} (no longer generated)")
    except OSError as exc:
        print(f"rls-coach model build: cannot write to {_shown(directory)}: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files to {_shown(directory)}")
    return 0


def _in_package(path: Path, package: Path) -> str:
    return path.relative_to(package).as_posix()


def _stale_files(directory: Path, files: Mapping[str, str]) -> list[Path]:
    """Locale models in the package that are no longer generated (a locale was dropped)."""
    return sorted(
        path
        for path in (directory / MODELS_FOLDER).glob("*.json")
        if _in_package(path, directory) not in files
        and re.fullmatch(r"[a-z]{2}-[A-Z]{2}\.json", path.name)
    )


def _check_files(directory: Path, files: Mapping[str, str]) -> int:
    if directory.exists() and not directory.is_dir():
        print(f"rls-coach model build: {_shown(directory)} is not a directory", file=sys.stderr)
        return 1
    drift: list[str] = []
    for name, generated in files.items():
        path = directory / name
        committed = path.read_text(encoding="utf-8") if path.is_file() else None
        drift += describe_drift(name, committed, generated)
    drift += [
        f"{_in_package(p, directory)}: not generated any more"
        for p in _stale_files(directory, files)
    ]
    if drift:
        for line in drift:
            print(line, file=sys.stderr)
        print(
            f"{_shown(directory)} is out of date with the content: run `rls-coach model build`",
            file=sys.stderr,
        )
        return 1
    print(f"{len(files)} files in {_shown(directory)} match the content")
    return 0
