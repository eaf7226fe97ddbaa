"""The marshmallow schema of a stored user-state record: the definition of a valid record.

:mod:`skill.state` reads and writes the common case (a current record of plain types) itself and
asks this schema about everything else; the two are proven equal in
``tests/test_state_fast_path.py``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_load, validate

from skill.state import BEDTIME_PATTERN, DATE_PATTERN, MAX_INDEX, STATE_VERSION, Progress, UserState


class ProgressSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # fields a newer version added are ignored by an older reader

    routine_id = fields.String(allow_none=True, load_default=None)
    exercise_id = fields.String(allow_none=True, load_default=None)
    step = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INDEX))
    segment = fields.Integer(load_default=0, validate=validate.Range(min=0, max=MAX_INDEX))
    paused = fields.Boolean(load_default=False)
    updated_at = fields.String(load_default="")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Progress:
        return Progress(**data)


class UserStateSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(load_default=STATE_VERSION)
    progress = fields.Nested(ProgressSchema, allow_none=True, load_default=None)
    pace = fields.String(load_default="normal")
    bedtime = fields.String(
        allow_none=True, load_default=None, validate=validate.Regexp(BEDTIME_PATTERN)
    )
    completions = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(validate=validate.Regexp(DATE_PATTERN))),
        load_default=dict,
    )
    disclaimer_heard = fields.Boolean(load_default=False)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> UserState:
        data["version"] = STATE_VERSION
        return UserState(**data)


# One instance for the process: building a marshmallow schema deep-copies its declared fields
# (~60 µs, several times a turn), while load and dump keep no state on it, so sharing is safe.
SCHEMA = UserStateSchema()
