"""The marshmallow schemas that say what each content file may hold, and build its frozen
dataclasses (:mod:`skill.catalog.model`) with ``@post_load``.

Each schema checks one entry on its own (fields, ranges, choices and the rules between fields
of that entry); what one entry says about another is checked in :mod:`skill.catalog.checks`.
Every schema raises on an unknown key, so a typo fails loudly.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

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
    DAY_PARTS,
    ID_PATTERN,
    INTENSITIES,
    INTENT_PATTERN,
    KINDS,
    POSITIONS,
    SIDE_PLACEHOLDERS,
    SIDES,
    Activity,
    Exercise,
    IntentPhrasing,
    Medicine,
    Phrasings,
    RepPhase,
    Reps,
    Routine,
    RoutineStep,
    Sides,
    Source,
    SourceDocument,
    TimePhrase,
    TipTopic,
)
from skill.clock import ClockTimeError, parse_clock_time


def _id_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Regexp(ID_PATTERN, error="must be lower_snake_case, e.g. calf_stretch"),
    )


def _words_field() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=200))


def _sentence_field() -> fields.String:
    return fields.String(validate=validate.Length(min=3, max=400))


def _sentences_field(required: bool = True) -> fields.List[str]:
    extra: dict[str, Any] = {"required": True} if required else {"load_default": list}
    return fields.List(_sentence_field(), validate=validate.Length(min=1, max=8), **extra)


def _synonyms_field() -> fields.List[str]:
    return fields.List(
        fields.String(validate=validate.Length(min=1, max=100)),
        load_default=list,
        validate=validate.Length(max=60),
    )


def _day_parts_field(**kwargs: Any) -> fields.List[str]:
    return fields.List(fields.String(validate=validate.OneOf(DAY_PARTS)), **kwargs)


class ClockTime(fields.Field[dt.time]):
    """A local clock time written "HH:MM", in quotes: YAML reads an unquoted 22:30 as the number
    1350 (minutes in base 60)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.time:
        try:
            return parse_clock_time(value)
        except ClockTimeError as exc:
            unquoted = not isinstance(value, str)
            hint = "; write it in quotes (YAML reads 22:30 as a number)" if unquoted else ""
            raise ValidationError(f"{exc}{hint}") from None


def check_best_times(data: dict[str, Any], what: str) -> None:
    """An allowed ``what`` (an activity, an intensity) has a best time of day; one that is not
    allowed has none."""
    if data.get("allowed") and not data.get("best_times"):
        raise ValidationError(f"an allowed {what} needs at least one best time", "best_times")
    if data.get("allowed") is False and data.get("best_times"):
        raise ValidationError(f"an {what} that is not allowed has no best time", "best_times")


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
    # The source's own words for the range, said when a count outside it is asked for.
    limit = fields.String(load_default=None, validate=validate.Length(min=3, max=200))

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
            return Reps(
                min=exact,
                max=exact,
                count=exact,
                spoken=data.get("spoken"),
                limit=data.get("limit"),
            )
        if "up_to" in data:
            low, high = None, data["up_to"]
        else:
            low, high = data["from_"], data["to"]
        # Without an explicit count: the top of "up to N", the bottom of a range.
        count = data.get("count") or (high if low is None else low)
        return Reps(
            min=low, max=high, count=count, spoken=data.get("spoken"), limit=data.get("limit")
        )


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

    @validates_schema
    def limit_in_source(self, data: dict[str, Any], **_: Any) -> None:
        """The words said for the range of reps are the source's own, as its `says` quotes."""
        reps, source = data.get("reps"), data.get("source")
        if reps is None or not reps.limit or source is None:
            return
        if _plain(reps.limit) not in _plain(source.says or ""):
            raise ValidationError(
                f"'{reps.limit}' is not in what the source says (source.says)", "reps"
            )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Exercise:
        return Exercise(**_tupled(data))


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


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
        check_best_times(data, "activity")
        if data.get("intensity") == "extreme" and data.get("allowed"):
            raise ValidationError("the sources advise against extreme exercise", "allowed")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Activity:
        return Activity(**_tupled(data))


class TipPoint(fields.Field[Any]):
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
