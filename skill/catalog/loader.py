"""Reading and checking the content: the YAML files under ``skill/content`` validated with
marshmallow schemas into the dataclasses of :mod:`skill.catalog.model`.

This is the source of truth for what the content means and whether it is valid.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from skill.catalog.model import (
    ACTIVITY_KINDS,
    BODY_PARTS,
    BUILTIN_INTENT_PATTERN,
    CATALOG_SLOT_TYPES,
    CONTENT_DIR,
    DAY_PARTS,
    FALLBACK_INTENT,
    ID_PATTERN,
    INTENSITIES,
    INTENT_PATTERN,
    KINDS,
    POSITIONS,
    SIDE_PLACEHOLDERS,
    SIDES,
    Activity,
    Catalog,
    CatalogError,
    ContentError,
    DayPart,
    Exercise,
    IntentPhrasing,
    Medicine,
    Pace,
    Phrasings,
    RepPhase,
    Reps,
    Routine,
    RoutineStep,
    Rules,
    Sides,
    Source,
    SourceDocument,
    TimePhrase,
    TipTopic,
    Understanding,
    did_you_mean,
)
from skill.catalog.understanding import (
    EverydayFileSchema,
    UnderstandingSchema,
    everyday_activities,
)
from skill.catalog.utterances import TemplateError, expand, invocation_name_problems, slots_in

# libyaml's safe loader when PyYAML was built with it (the wheels are): same safe semantics,
# several times faster, which matters for a Lambda cold start.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# --------------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------------


def _id_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(ID_PATTERN, error="must be lower_snake_case, e.g. calf_stretch"),
    )


def _words_field() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=200))


def _sentence_field() -> fields.String:
    return fields.String(validate=validate.Length(min=3, max=400))


def _sentences_field(required: bool = True) -> fields.List:
    extra: dict[str, Any] = {"required": True} if required else {"load_default": list}
    return fields.List(_sentence_field(), validate=validate.Length(min=1, max=8), **extra)


def _synonyms_field() -> fields.List:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=60),
    )


def _day_parts_field(**kwargs: Any) -> fields.List:
    return fields.List(fields.String(validate=validate.OneOf(DAY_PARTS)), **kwargs)


class ClockTime(fields.Field):
    """A local clock time written "HH:MM" (quoted in YAML)."""

    default_error_messages = {  # noqa: RUF012 - marshmallow reads this class attribute
        "invalid": 'must be a time like "22:30" (24-hour, quoted)'
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        if not isinstance(value, str) or not re.fullmatch(r"\d{1,2}:\d{2}", value):
            raise self.make_error("invalid")
        hours, minutes = (int(part) for part in value.split(":"))
        if hours > 23 or minutes > 59:
            raise self.make_error("invalid")
        return dt.time(hours, minutes)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class SourceSchema(StrictSchema):
    # An id from sources.yaml (checked once every file is read).
    article = fields.String(required=True, validate=validate.Length(min=1))
    section = fields.String(required=True, validate=validate.Length(min=1))
    says = fields.String(load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Source:
        return Source(**data)


class RepPhaseSchema(StrictSchema):
    cue = fields.String(required=True, validate=validate.Length(min=2, max=120))
    seconds = fields.Float(
        required=True,
        validate=validate.Range(min=0.5, max=30, error="must be between 0.5 and 30 seconds"),
    )
    hold = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> RepPhase:
        return RepPhase(**data)


class RepsSchema(StrictSchema):
    up_to = fields.Integer(validate=validate.Range(min=1, max=50, error="must be 1 to 50 reps"))
    from_ = fields.Integer(
        data_key="from", validate=validate.Range(min=1, max=50, error="must be 1 to 50 reps")
    )
    to = fields.Integer(validate=validate.Range(min=1, max=50, error="must be 1 to 50 reps"))
    count = fields.Integer(validate=validate.Range(min=1, max=50, error="must be 1 to 50 reps"))
    spoken = fields.String(load_default=None, validate=validate.Length(min=1, max=40))

    @validates_schema
    def one_form(self, data: dict[str, Any], **_: Any) -> None:
        has_up_to = "up_to" in data
        has_range = "from_" in data or "to" in data
        if not has_up_to and not has_range and "count" in data:
            return  # an exact number: "ten circles", counted as given
        if has_up_to == has_range:
            raise ValidationError(
                "give one of: count (an exact number, like {count: 10}), up_to (like "
                "{up_to: 5}), or a range (like {from: 5, to: 8})",
                "_schema",
            )
        if has_range:
            if "from_" not in data or "to" not in data:
                raise ValidationError("a range needs both from and to", "_schema")
            if data["from_"] >= data["to"]:
                raise ValidationError("from must be less than to", "to")
        low, high = (1, data["up_to"]) if has_up_to else (data["from_"], data["to"])
        count = data.get("count")
        if count is not None and not low <= count <= high:
            raise ValidationError(
                f"the coach must count within what the source gives: {low} to {high}", "count"
            )
        spoken = data.get("spoken")
        if spoken:
            allowed = {n for n in (count, data.get("up_to"), data.get("from_"), data.get("to"))}
            for number in _numbers_in(spoken):
                if number not in allowed:
                    raise ValidationError(
                        f"'{spoken}' says {number}, but the numbers given are "
                        f"{', '.join(str(n) for n in sorted(n for n in allowed if n))}",
                        "spoken",
                    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Reps:
        if "up_to" not in data and "from_" not in data:
            exact = data["count"]
            return Reps(min=exact, max=exact, count=exact, spoken=data.get("spoken"))
        if "up_to" in data:
            low, high = None, data["up_to"]
        else:
            low, high = data["from_"], data["to"]
        # Without an explicit count: the top of "up to N", the bottom of a range.
        count = data.get("count") or (high if low is None else low)
        return Reps(min=low, max=high, count=count, spoken=data.get("spoken"))


_NUMBER_WORDS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS_WORDS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50}


def _numbers_in(text: str) -> list[int]:
    """The numbers a short phrase says, in digits or in words up to fifty ("twenty-five")."""
    numbers = [int(digits) for digits in re.findall(r"\d+", text)]
    for word in re.findall(r"[a-z]+(?:-[a-z]+)?", text.lower()):
        tens, _, unit = word.partition("-")
        if tens in _TENS_WORDS:
            extra = _NUMBER_WORDS.index(unit) if unit in _NUMBER_WORDS[1:10] else 0
            numbers.append(_TENS_WORDS[tens] + extra)
        elif word in _NUMBER_WORDS:
            numbers.append(_NUMBER_WORDS.index(word))
    return numbers


class SidesSchema(StrictSchema):
    per_side = fields.Boolean(required=True)
    first = fields.String(load_default=None, validate=validate.OneOf(SIDES))
    body_part = fields.String(load_default=None, validate=validate.OneOf(BODY_PARTS))

    @validates_schema
    def first_needs_sides(self, data: dict[str, Any], **_: Any) -> None:
        for key, what in (("first", "a first side"), ("body_part", "a body part")):
            if data.get(key) and not data.get("per_side"):
                raise ValidationError(f"only a per-side exercise has {what}", key)
        if data.get("per_side") and not data.get("body_part"):
            raise ValidationError(
                f"a per-side exercise names the body part worked on each side "
                f"({', '.join(BODY_PARTS)}): it is said as 'with your left leg'",
                "body_part",
            )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Sides:
        return Sides(**data)


class ExerciseSchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    intensity = fields.String(
        required=True, validate=validate.OneOf(("gentle", "moderate"))
    )  # the coach guides nothing extreme
    position = fields.String(required=True, validate=validate.OneOf(POSITIONS))
    muscles = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    summary = fields.String(required=True, validate=validate.Length(min=3, max=300))
    setup = _sentences_field()
    movement = fields.List(
        fields.String(validate=validate.Length(min=3, max=200)),
        required=True,
        validate=validate.Length(min=1, max=2, error="one or two short sentences"),
    )
    switch = _sentences_field(required=False)
    plural = fields.Boolean(load_default=False)
    rep = fields.List(
        fields.Nested(RepPhaseSchema), required=True, validate=validate.Length(min=1, max=4)
    )
    reps = fields.Nested(RepsSchema, required=True)
    sides = fields.Nested(SidesSchema, required=True)
    cautions = _sentences_field()
    best_times = _day_parts_field(required=True, validate=validate.Length(min=1))
    source = fields.Nested(SourceSchema, required=True)

    @validates_schema
    def side_placeholders(self, data: dict[str, Any], **_: Any) -> None:
        sides = data.get("sides")
        per_side = bool(sides and sides.per_side)
        texts = [*data.get("setup", ()), *data.get("movement", ()), *data.get("switch", ())]
        texts += [phase.cue for phase in data.get("rep", ())]
        for text in texts:
            for marker in re.findall(r"\{[^}]*\}", text):
                if marker not in SIDE_PLACEHOLDERS:
                    raise ValidationError(
                        f"unknown placeholder {marker} in '{text}'; only {{side}} and "
                        "{other_side} are filled in",
                        "_schema",
                    )
                if not per_side:
                    raise ValidationError(
                        f"{marker} in '{text}', but the exercise is not done per side", "_schema"
                    )
        if sides is not None and per_side != bool(data.get("switch")):
            raise ValidationError(
                "a per-side exercise says what to do on the switch to the other side; "
                "one done once has no switch"
                if per_side
                else "an exercise not done per side has no switch",
                "switch",
            )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Exercise:
        return Exercise(**_tupled(data))


class RoutineStepSchema(StrictSchema):
    exercise = fields.String(required=True)
    reps = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=50, error="must be 1 to 50 reps")
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> RoutineStep:
        return RoutineStep(**data)


class RoutineSchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    times_of_day = _day_parts_field(required=True, validate=validate.Length(min=1))
    default_for = _day_parts_field(load_default=list)
    plural = fields.Boolean(load_default=False)
    suits_bedtime = fields.Boolean(load_default=False)
    steps = fields.List(
        fields.Nested(RoutineStepSchema),
        required=True,
        validate=validate.Length(min=1, max=20, error="a routine needs 1 to 20 steps"),
    )

    @validates_schema
    def gentle_before_bed(self, data: dict[str, Any], **_: Any) -> None:
        times = data.get("times_of_day", ())
        if data.get("suits_bedtime") and not {"evening", "night"} & set(times):
            raise ValidationError(
                "a routine that suits bedtime is done then: add evening or night to times_of_day",
                "times_of_day",
            )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Routine:
        return Routine(**_tupled(data))


class RoutineFileSchema(StrictSchema):
    routine = fields.Dict(required=True)


class ActivitySchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    kind = fields.String(required=True, validate=validate.OneOf(ACTIVITY_KINDS))
    intensity = fields.String(required=True, validate=validate.OneOf(INTENSITIES))
    allowed = fields.Boolean(required=True)
    about = fields.String(required=True, validate=validate.Length(min=3, max=300))
    limit = fields.String(load_default=None, validate=validate.Length(min=3, max=300))
    tip = fields.String(load_default=None, validate=validate.Length(min=3, max=300))
    max_mph = fields.Integer(load_default=None, validate=validate.Range(min=1, max=30))
    best_times = _day_parts_field(required=True)
    instead = fields.String(required=True, validate=validate.Length(min=3, max=300))
    exercise = fields.String(load_default=None)
    keywords = _synonyms_field()
    source = fields.Nested(SourceSchema, required=True)

    @validates_schema
    def allowed_has_times(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("allowed") and not data.get("best_times"):
            raise ValidationError("an allowed activity needs at least one best time", "best_times")
        if data.get("allowed") is False and data.get("best_times"):
            raise ValidationError("an activity that is not allowed has no best time", "best_times")
        if data.get("intensity") == "extreme" and data.get("allowed"):
            raise ValidationError("the sources advise against extreme exercise", "allowed")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Activity:
        return Activity(**_tupled(data))


class TipPoint(fields.Field):
    """A tip point: a sentence, or ``{say: sentence, source: {article, section}}`` when the point
    cites a source of its own."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            return (_sentence_field().deserialize(value), None)
        if isinstance(value, dict):
            loaded = TipPointSchema().load(value)
            return (loaded["say"], loaded["source"])
        raise ValidationError(
            "write a sentence, or {say: a sentence, source: {article: an id, section: where}}"
        )


class TipPointSchema(StrictSchema):
    say = _sentence_field()
    source = fields.Nested(SourceSchema, required=True)


class TipTopicSchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    points = fields.List(TipPoint(), required=True, validate=validate.Length(min=1, max=8))
    sensitive = fields.Boolean(load_default=False)
    keywords = _synonyms_field()
    source = fields.Nested(SourceSchema, required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> TipTopic:
        points = data.pop("points")
        data["points"] = [text for text, _ in points]
        data["point_sources"] = [source for _, source in points]
        return TipTopic(**_tupled(data))


class SourceDocumentSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]*$"))
    title = _sentence_field()
    by = _sentence_field()
    where = _sentence_field()

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> SourceDocument:
        return SourceDocument(**data)


class MedicineSchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    keywords = _synonyms_field()

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Medicine:
        return Medicine(**_tupled(data))


class TimePhraseSchema(StrictSchema):
    id = _id_field()
    name = _words_field()
    synonyms = _synonyms_field()
    now = fields.Boolean(load_default=False)
    at = ClockTime(load_default=None)
    before_bed_minutes = fields.Integer(load_default=None, validate=validate.Range(min=0, max=360))

    @validates_schema
    def exactly_one(self, data: dict[str, Any], **_: Any) -> None:
        given = [data.get("now"), data.get("at") is not None]
        given.append(data.get("before_bed_minutes") is not None)
        if sum(bool(g) for g in given) != 1:
            raise ValidationError("give exactly one of now, at or before_bed_minutes", "_schema")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> TimePhrase:
        return TimePhrase(**_tupled(data))


class DayPartSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.OneOf(DAY_PARTS))
    starts = ClockTime(required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> DayPart:
        return DayPart(**data)


class PaceSchema(StrictSchema):
    id = _id_field()
    factor = fields.Float(required=True, validate=validate.Range(min=0.5, max=3.0))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Pace:
        return Pace(**data)


class RulesSchema(StrictSchema):
    day_parts = fields.List(fields.Nested(DayPartSchema), required=True)
    bedtime_buffer_hours = fields.Float(required=True, validate=validate.Range(min=0, max=12))
    default_bedtime = ClockTime(required=True)
    resume_within_hours = fields.Float(required=True, validate=validate.Range(min=0.5, max=168))
    position_seconds = fields.Dict(
        keys=fields.String(validate=validate.OneOf(POSITIONS)),
        values=fields.Float(
            validate=validate.Range(min=1, max=30, error="must be between 1 and 30 seconds")
        ),
        required=True,
    )
    paces = fields.List(fields.Nested(PaceSchema), required=True)
    mph_locales = fields.List(
        fields.String(
            validate=validate.Regexp(r"^[a-z]{2}-[A-Z]{2}$", error="a locale like en-US")
        ),
        load_default=["en-US", "en-GB"],
    )
    reminder_times = fields.Dict(
        keys=fields.String(validate=validate.OneOf(DAY_PARTS)), values=ClockTime(), required=True
    )

    @validates_schema
    def ordered(self, data: dict[str, Any], **_: Any) -> None:
        missing = set(DAY_PARTS) - set(data.get("reminder_times") or {})
        if "reminder_times" in data and missing:
            raise ValidationError(
                f"give a time for every part of the day: {', '.join(sorted(missing))}",
                "reminder_times",
            )
        parts = data.get("day_parts") or []
        if [p.id for p in parts] != list(DAY_PARTS):
            raise ValidationError(
                f"list the day parts in order: {', '.join(DAY_PARTS)}", "day_parts"
            )
        if [p.starts for p in parts] != sorted(p.starts for p in parts):
            raise ValidationError("day parts must start in increasing time order", "day_parts")
        positions = data.get("position_seconds")
        if positions is not None and set(positions) != set(POSITIONS):
            missing = ", ".join(p for p in POSITIONS if p not in positions)
            raise ValidationError(
                f"give a time for every position; missing: {missing}", "position_seconds"
            )
        paces = data.get("paces") or []
        if not any(p.id == "normal" and p.factor == 1.0 for p in paces):
            raise ValidationError("one pace must be 'normal' with factor 1.0", "paces")
        if [p.factor for p in paces] != sorted((p.factor for p in paces), reverse=True):
            raise ValidationError("list paces from slowest (largest factor) to fastest", "paces")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Rules:
        return Rules(**_tupled(data))


class IntentPhrasingSchema(StrictSchema):
    slots = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    samples = fields.List(
        fields.String(validate=validate.Length(min=1, max=300)),
        required=True,
        validate=validate.Length(min=1),
    )


class PhrasingsSchema(StrictSchema):
    intents = fields.Dict(
        keys=fields.String(validate=validate.Regexp(INTENT_PATTERN)),
        values=fields.Nested(IntentPhrasingSchema),
        required=True,
    )
    builtin_intents = fields.List(
        fields.String(validate=validate.Regexp(BUILTIN_INTENT_PATTERN)), required=True
    )
    invocation_name = fields.String(load_default=None, validate=validate.Length(min=2, max=50))
    builtin_samples = fields.Dict(
        keys=fields.String(validate=validate.Regexp(BUILTIN_INTENT_PATTERN)),
        values=fields.List(fields.String(validate=validate.Length(min=1, max=300))),
        load_default=dict,
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Phrasings:
        intents = {
            name: IntentPhrasing(name, dict(spec["slots"]), tuple(spec["samples"]))
            for name, spec in data["intents"].items()
        }
        return Phrasings(
            intents=intents,
            builtin_intents=tuple(data["builtin_intents"]),
            invocation_name=data["invocation_name"],
            builtin_samples={k: tuple(v) for k, v in data["builtin_samples"].items()},
        )


def _tupled(data: dict[str, Any]) -> dict[str, Any]:
    """Lists become tuples so the dataclasses are deeply immutable."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


class _Collector:
    """Accumulates ContentErrors while the loader walks the files."""

    def __init__(self) -> None:
        self.errors: list[ContentError] = []

    def add(self, file: str, path: Iterable[Any], message: str) -> None:
        self.errors.append(ContentError(file, tuple(str(p) for p in path), message))

    def add_marshmallow(
        self, file: str, prefix: tuple[Any, ...], messages: Any, schema: Schema, raw: Any
    ) -> None:
        for path, message in _flatten(messages, ()):
            parts = [p for p in path if p != "_schema"]
            explained = _explain_unknown(message, parts, schema, raw)
            self.add(file, (*prefix, *_human_path(parts, raw)), explained)


def _flatten(messages: Any, path: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _flatten(value, (*path, key))
    elif isinstance(messages, list):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield path, str(messages)


def _human_path(parts: list[Any], raw: Any) -> list[str]:
    """List indices become 1-based positions ("steps → 2"); data keys keep their YAML names."""
    out: list[str] = []
    node = raw
    for part in parts:
        if isinstance(part, int):
            out.append(str(part + 1))
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            name = "from" if part == "from_" else str(part)
            out.append(name)
            node = node.get(name) if isinstance(node, dict) else None
    return out


def _field_at(schema: Schema, parts: list[Any]) -> tuple[Schema | None, fields.Field | None]:
    """The schema that holds the last key of ``parts``, and that key's field (None if unknown)."""
    target: Schema | None = schema
    field: fields.Field | None = None
    for index, part in enumerate(parts):
        if isinstance(part, int) or target is None:
            continue
        field = target.fields.get(part)
        if index == len(parts) - 1:
            break
        inner = getattr(field, "inner", field)
        target = getattr(inner, "schema", None)
    return target, field


# What each kind of value looks like, for messages that say how to write it.
_FORMS: list[tuple[type[fields.Field], str]] = [
    (fields.Boolean, "true or false"),
    (fields.Integer, "a whole number, like 5"),
    (fields.Float, "a number, like 1.5"),
    (fields.List, "a list, like [one, two]"),
    (fields.Dict, "a mapping of names to values, like {name: value}"),
    (fields.Nested, "a mapping of keys"),
    (fields.String, "text (a word or a sentence)"),
]


def _form(field: fields.Field | None) -> str:
    if field is None:
        return "a value"
    example = field.metadata.get("example")
    if example:
        return f"{field.metadata.get('form', 'a value')}, like {example}"
    if isinstance(field, fields.Nested) and isinstance(field.schema, Schema):
        keys = ", ".join(f.data_key or name for name, f in field.schema.fields.items())
        return f"a mapping with the keys {keys}"
    return next((text for kind, text in _FORMS if isinstance(field, kind)), "a value")


def _explain_unknown(message: str, parts: list[Any], schema: Schema, raw: Any) -> str:
    """Turn marshmallow's bare messages into ones that say the fix: an unknown key lists the valid
    keys (with the likely one first), a wrong type says the accepted form with an example, and a
    missing field says what to add."""
    if not parts:
        return message
    target, field = _field_at(schema, parts)
    name = str(parts[-1])
    if message == "Unknown field.":
        known = [f.data_key or key for key, f in target.fields.items()] if target else []
        hint = did_you_mean(name, known)
        return f"unknown key '{name}'{hint or '.'} The keys here are: {', '.join(known)}"
    if message == "Missing data for required field.":
        return f"missing: add '{name}:' with {_form(field)}"
    if message.startswith(("Not a valid", "Invalid input type", "Invalid type")):
        return f"{message.rstrip('.')}: write {_form(field)}"
    if message.startswith("Must be one of: "):
        choices = message.removeprefix("Must be one of: ").rstrip(".").split(", ")
        hint = did_you_mean(str(_raw_at(raw, parts)), choices)
        return f"{message.rstrip('.')}{hint}" if hint else message
    return message


def _raw_at(raw: Any, parts: list[Any]) -> Any:
    node = raw
    for part in parts:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
        elif isinstance(node, dict):
            node = node.get("from" if part == "from_" else part)
        else:
            return None
    return node


def _read_yaml(path: Path, relative: str, errors: _Collector) -> Any:
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
    errors: _Collector,
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
    directory: Path, errors: _Collector
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


def _load_speech(directory: Path, errors: _Collector) -> dict[str, dict[str, tuple[str, ...]]]:
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


def _load_single(directory: Path, name: str, schema: Schema, errors: _Collector) -> Any:
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
    directory: Path, name: str, key: str, schema: Schema, errors: _Collector
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


def _normal(phrase: str) -> str:
    return " ".join(phrase.lower().replace("-", " ").split())


def _check_spoken_names(
    groups: Iterable[tuple[str, Mapping[str, Any]]], errors: _Collector, what: str
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


def _check_references(
    exercises_seen: set[str] | None,
    exercises: Mapping[str, Exercise] | None,
    routines: Mapping[str, Routine],
    routine_files: Mapping[str, str],
    activities: Mapping[str, Activity],
    phrasings: Phrasings | None,
    errors: _Collector,
) -> None:
    for routine in routines.values() if exercises_seen is not None else ():
        file = routine_files[routine.id]
        for number, step in enumerate(routine.steps, start=1):
            if step.exercise not in exercises_seen:
                errors.add(
                    file,
                    ("steps", str(number), "exercise"),
                    f"unknown exercise '{step.exercise}'"
                    f"{did_you_mean(step.exercise, exercises_seen)}",
                )
    for routine in routines.values() if exercises is not None else ():
        for number, step in enumerate(routine.steps, start=1):
            exercise = exercises.get(step.exercise)
            if routine.suits_bedtime and exercise is not None and exercise.intensity != "gentle":
                errors.add(
                    routine_files[routine.id],
                    ("steps", str(number), "exercise"),
                    f"the {exercise.name} is {exercise.intensity}: a routine that suits bedtime "
                    "holds only gentle exercises",
                )
    for activity in activities.values() if exercises_seen is not None else ():
        if activity.exercise and activity.exercise not in exercises_seen:
            errors.add(
                "activities.yaml",
                (activity.id, "exercise"),
                f"unknown exercise '{activity.exercise}'"
                f"{did_you_mean(activity.exercise, exercises_seen)}",
            )
    if phrasings is not None:
        _check_phrasings(phrasings, errors)


def _check_citations(
    sources: Mapping[str, SourceDocument],
    exercises: Mapping[str, Exercise],
    activities: Mapping[str, Activity],
    tips: Mapping[str, TipTopic],
    errors: _Collector,
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


def _check_phrasings(phrasings: Phrasings, errors: _Collector) -> None:
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
            where = ("intents", intent.name, "samples", str(number))
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


def collect_errors(
    directory: Path | str | None = None,
) -> tuple[Catalog | None, list[ContentError]]:
    """Read and check all content. Returns the catalog (None if anything is wrong) and errors."""
    directory = Path(directory) if directory is not None else CONTENT_DIR
    errors = _Collector()
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

    _check_references(
        exercises_seen, exercises, routines, routine_files, activities, phrasings, errors
    )
    # Exercises and routines share one namespace in speech ("start the calf stretch" vs
    # "start my morning stretches"), so their spoken names must not collide with each other.
    _check_spoken_names(
        [("exercises.yaml", exercises), *((routine_files[r], {r: routines[r]}) for r in routines)],
        errors,
        "exercise or routine",
    )
    # Everyday activities join the articles' own: one slot type, one lookup, one verdict.
    _check_spoken_names(
        [("activities.yaml", activities), ("everyday_activities.yaml", everyday)],
        errors,
        "activity",
    )
    activities = {**activities, **everyday}
    _check_understanding(understanding, tips, errors)
    _check_spoken_names([("tips.yaml", tips)], errors, "tip topic")
    _check_spoken_names([("time_phrases.yaml", time_phrases)], errors, "time phrase")
    _check_spoken_names([("medicines.yaml", medicines)], errors, "medicine")
    _check_citations(sources, exercises, activities, tips, errors)

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


def _check_understanding(
    understanding: Understanding | None, tips: Mapping[str, TipTopic], errors: _Collector
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
