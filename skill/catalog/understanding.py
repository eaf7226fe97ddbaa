"""The content behind free words: understanding.yaml (what each interpretation step listens for)
and everyday_activities.yaml (activities the articles do not name, with their Compendium MET).

Schemas and the records they build. The loader reads the files and reports errors the same way as
for every other file; everyday activities become ordinary :class:`Activity` entries, so they are
slot values Alexa hears, names the lookup finds, and verdicts :func:`skill.advice.advise` gives.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from skill.catalog.model import Activity, DoctorGroup, Source, Understanding
from skill.catalog.schemas import StrictSchema, _day_parts_field, check_best_times

# The Compendium's bands: light under 3 METs, moderate 3 to under 6, vigorous 6 or more.
INTENSITY_BANDS = ("light", "moderate", "vigorous")
EVERYDAY_KIND = "everyday"
_PHRASE = fields.String(validate=validate.Length(min=1, max=60))


def _phrases(**kwargs: Any) -> fields.List[str]:
    return fields.List(_PHRASE, validate=validate.Length(min=1, max=400), **kwargs)


class _PhrasesSchema(StrictSchema):
    phrases = _phrases(required=True)


class _DoctorGroupSchema(StrictSchema):
    topic = fields.String(required=True)
    phrases = _phrases(required=True)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> DoctorGroup:
        return DoctorGroup(data["topic"], tuple(data["phrases"]))


class _SymptomsSchema(StrictSchema):
    phrases = _phrases(required=True)
    unless = fields.List(_PHRASE, load_default=list)


class _NegationsSchema(StrictSchema):
    within_three_words = fields.List(_PHRASE, required=True)
    right_after = fields.List(_PHRASE, load_default=list)


class UnderstandingSchema(StrictSchema):
    negations = fields.Nested(_NegationsSchema, required=True)
    safety = fields.Nested(_PhrasesSchema, required=True)
    doctor = fields.List(fields.Nested(_DoctorGroupSchema), required=True)
    symptoms = fields.Nested(_SymptomsSchema, required=True)
    limits = fields.Nested(_PhrasesSchema, required=True)
    this_exercise = fields.Nested(_PhrasesSchema, load_default=None)
    joints = fields.Nested(_PhrasesSchema, load_default=None)
    how_to = fields.Nested(_PhrasesSchema, load_default=None)
    any_tip = fields.Nested(_PhrasesSchema, load_default=None)
    leave_out = fields.Nested(_PhrasesSchema, load_default=None)
    start = fields.Nested(_PhrasesSchema, load_default=None)
    the_stretches = fields.Nested(_PhrasesSchema, load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Understanding:
        return Understanding(
            safety=tuple(data["safety"]["phrases"]),
            doctor=tuple(data["doctor"]),
            symptoms=tuple(data["symptoms"]["phrases"]),
            symptoms_unless=tuple(data["symptoms"]["unless"]),
            negations=tuple(data["negations"]["within_three_words"]),
            negations_right_after=tuple(data["negations"]["right_after"]),
            limits=tuple(data["limits"]["phrases"]),
            this_exercise=tuple((data["this_exercise"] or {}).get("phrases", ())),
            joints=tuple((data["joints"] or {}).get("phrases", ())),
            how_to=tuple((data["how_to"] or {}).get("phrases", ())),
            any_tip=tuple((data["any_tip"] or {}).get("phrases", ())),
            leave_out=tuple((data["leave_out"] or {}).get("phrases", ())),
            start=tuple((data["start"] or {}).get("phrases", ())),
            the_stretches=tuple((data["the_stretches"] or {}).get("phrases", ())),
        )


class _IntensitySchema(StrictSchema):
    below_met = fields.Float(load_default=None, validate=validate.Range(min=1, max=20))
    allowed = fields.Boolean(required=True)
    best_times = _day_parts_field(load_default=list)
    about = fields.String(required=True, validate=validate.Length(min=3, max=300))
    limit = fields.String(load_default=None, validate=validate.Length(min=3, max=300))
    instead = fields.String(required=True, validate=validate.Length(min=3, max=300))

    @validates_schema
    def times_fit(self, data: dict[str, Any], **_: Any) -> None:
        check_best_times(data, "intensity")


class _EverydaySchema(StrictSchema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]*$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))
    met = fields.Float(
        required=True,
        validate=validate.Range(min=1, max=25, error="a MET value is between 1 and 25"),
    )
    synonyms = fields.List(_PHRASE, load_default=list, validate=validate.Length(max=30))


class EverydayFileSchema(StrictSchema):
    source = fields.Dict(required=True)
    intensities = fields.Dict(
        keys=fields.String(validate=validate.OneOf(INTENSITY_BANDS)),
        values=fields.Nested(_IntensitySchema),
        required=True,
    )
    activities = fields.List(fields.Nested(_EverydaySchema), required=True)

    @validates_schema
    def every_band(self, data: dict[str, Any], **_: Any) -> None:
        missing = [band for band in INTENSITY_BANDS if band not in data.get("intensities", {})]
        if missing:
            wanted = ", ".join(missing)
            raise ValidationError(f"say what the coach says for {wanted}", "intensities")
        source = data.get("source", {})
        if set(source) - {"article", "section"} or not source.get("article"):
            raise ValidationError("give the source as {article: <id>, section: ...}", "source")


def band_for(met: float) -> str:
    """The Compendium's intensity band for a MET value."""
    if met < 3:
        return "light"
    return "moderate" if met < 6 else "vigorous"


def everyday_activities(data: dict[str, Any]) -> dict[str, Activity]:
    """Activities built from the loaded everyday_activities.yaml: each gets what the coach says for
    its band, with its own name in place of {name}/{Name}, and cites the Compendium for its MET."""
    built: dict[str, Activity] = {}
    source = data["source"]
    for entry in data["activities"]:
        band = band_for(entry["met"])
        says = data["intensities"][band]
        name = entry["name"]

        def filled(text: str | None, name: str = name) -> str | None:
            if text is None:
                return None
            return text.replace("{Name}", name[:1].upper() + name[1:]).replace("{name}", name)

        built[entry["id"]] = Activity(
            id=entry["id"],
            name=name,
            synonyms=tuple(entry["synonyms"]),
            kind=EVERYDAY_KIND,
            intensity=band,
            allowed=says["allowed"],
            about=filled(says["about"]) or "",
            best_times=tuple(says["best_times"]),
            instead=filled(says["instead"]) or "",
            limit=filled(says["limit"]),
            source=Source(
                article=source["article"],
                section=source.get("section", ""),
                says=f"{entry['met']:g} METs",
            ),
            met=entry["met"],
        )
    return built
