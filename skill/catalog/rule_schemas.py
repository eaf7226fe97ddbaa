"""The schema of rules.yaml: the parts of the day, the paces, night mode and the sound cues, and
the times and limits the coach keeps to. Beside the content entries' schemas (schemas.py), whose
field helpers and base it shares.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from skill.catalog.model import (
    CUE_MOMENTS,
    DAY_PARTS,
    ID_PATTERN,
    POSITIONS,
    DayPart,
    Night,
    Pace,
    Rules,
    SoundCue,
)
from skill.catalog.schemas import ClockTime, StrictSchema, _id_field, _tupled


class DayPartSchema(StrictSchema):
    id = fields.String(required=True, validate=validate.OneOf(DAY_PARTS))
    starts = ClockTime(required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> DayPart:
        return DayPart(**data)


class PaceSchema(StrictSchema):
    id = _id_field()
    factor = fields.Float(required=True, validate=validate.Range(min=0.5, max=3.0))
    # How fast the instructions are spoken, in percent of Alexa's normal rate (SSML prosody).
    rate = fields.Integer(load_default=100, validate=validate.Range(min=50, max=150))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Pace:
        return Pace(**data)


_RATE = r"^(x-slow|slow|medium|[2-9][0-9]%|1[0-9]{2}%)$"  # SSML prosody rates, 20% or more
_SOUND_LIBRARY = r"^soundbank://soundlibrary/[a-z0-9_/]+$"  # hosted by Amazon: nothing else plays


class NightSchema(StrictSchema):
    ends = ClockTime(required=True)
    longest_hours = fields.Float(load_default=9.0, validate=validate.Range(min=1, max=14))
    rate = fields.String(required=True, validate=validate.Regexp(_RATE, error="an SSML rate"))
    quiet_keys = fields.List(fields.String(validate=validate.Regexp(r"^[a-z_]+\.[a-z_]+$")))
    optional_offers = fields.List(fields.String(validate=validate.Regexp(ID_PATTERN)))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Night:
        return Night(**_tupled(data))


class SoundCueSchema(StrictSchema):
    src = fields.String(required=True, validate=validate.Regexp(_SOUND_LIBRARY))
    seconds = fields.Float(required=True, validate=validate.Range(min=0.1, max=5))
    label = fields.String(required=True, validate=validate.Regexp(r"^[a-z ]{1,20}$"))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> SoundCue:
        return SoundCue(**data)


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
    quick_minutes = fields.Float(load_default=5, validate=validate.Range(min=1, max=60))
    night = fields.Nested(NightSchema, required=True)
    sound_cues = fields.Dict(
        keys=fields.String(validate=validate.OneOf(CUE_MOMENTS)),
        values=fields.Nested(SoundCueSchema),
        required=True,
    )
    cue_priority = fields.List(fields.String(validate=validate.OneOf(CUE_MOMENTS)), required=True)

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
            unset = ", ".join(p for p in POSITIONS if p not in positions)
            raise ValidationError(
                f"give a time for every position; missing: {unset}", "position_seconds"
            )
        cues = data.get("sound_cues")
        priority = data.get("cue_priority")
        if cues is not None and priority is not None and sorted(priority) != sorted(cues):
            raise ValidationError(
                "list every moment of sound_cues once, most wanted first", "cue_priority"
            )
        paces = data.get("paces") or []
        if not any(p.id == "normal" and p.factor == 1.0 for p in paces):
            raise ValidationError("one pace must be 'normal' with factor 1.0", "paces")
        if [p.factor for p in paces] != sorted((p.factor for p in paces), reverse=True):
            raise ValidationError("list paces from slowest (largest factor) to fastest", "paces")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Rules:
        return Rules(**_tupled(data))
