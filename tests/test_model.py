"""The committed skill package (manifest and interaction models, in the ASK CLI's layout): up to
date with the content, valid by Alexa's rules for every English locale, generated
deterministically from the catalog, and where ask-resources.json tells `ask deploy` to look."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from coach_dev import model as model_module
from coach_dev.model import (
    LOCALES,
    MANIFEST_FILE,
    MAX_SAMPLES_PER_INTENT,
    ManifestSourceError,
    build_command,
    build_manifest,
    build_models,
    check_manifest,
    check_model,
    generate_files,
    language_model,
    load_manifest_source,
    model_file,
)
from coach_dev.nlu import LAUNCH_REQUEST, Resolver
from skill.catalog.loader import load_catalog
from skill.catalog.model import CONTENT_DIR
from skill.cli import main
from tests.webhook_process import ROOT

CATALOG_TYPES = {
    "EXERCISE": "exercises",
    "ROUTINE": "routines",
    "ACTIVITY": "activities",
    "TIP_TOPIC": "tips",
    "TIME_PHRASE": "time_phrases",
    "MEDICINE": "medicines",
}


PACKAGE = ROOT / "skill-package"  # where ask-resources.json points `ask deploy`
MODELS = "interactionModels/custom"  # the ASK CLI's folder for custom interaction models


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def models() -> dict[str, dict[str, Any]]:
    return {locale: read_json(model_file(locale)) for locale in LOCALES}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return read_json(PACKAGE / MANIFEST_FILE)


def package_files(package: Path) -> list[str]:
    return sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())


# --- the ASK CLI project ---------------------------------------------------------------------


def test_ask_deploy_finds_the_manifest_and_every_locales_model(manifest):
    resources = read_json(ROOT / "ask-resources.json")
    assert resources["askcliResourcesVersion"] == "2020-03-31"
    profile = resources["profiles"]["default"]
    # Only the skill package: the code and its infrastructure are deployed by serverless.
    assert set(profile) == {"skillMetadata"}
    assert (ROOT / profile["skillMetadata"]["src"]).resolve() == PACKAGE.resolve()
    locales = sorted(manifest["manifest"]["publishingInformation"]["locales"])
    assert package_files(PACKAGE) == sorted(
        [MANIFEST_FILE, *(f"{MODELS}/{locale}.json" for locale in locales)]
    )
    assert all(model_file(locale) == PACKAGE / MODELS / f"{locale}.json" for locale in locales)


# --- drift -----------------------------------------------------------------------------------


def test_committed_files_match_the_content(capsys):
    assert main(["model", "build", "--check"]) == 0
    assert "6 files in skill-package match the content" in capsys.readouterr().out


def test_check_names_each_file_and_what_drifted(tmp_path, capsys):
    shutil.copytree(PACKAGE, tmp_path, dirs_exist_ok=True)
    british = read_json(model_file("en-GB", tmp_path))
    intents = language_model(british)["intents"]
    can_i = next(i for i in intents if i["name"] == "CanIDoIntent")
    can_i["samples"].remove("can i {activity} {when}")
    can_i["samples"].append("may i please {activity}")
    intents.append({"name": "DanceIntent", "samples": ["let's dance"]})
    model_file("en-GB", tmp_path).write_text(json.dumps(british))
    model_file("en-AU", tmp_path).unlink()
    model_file("en-NZ", tmp_path).write_text("{}")
    manifest = read_json(tmp_path / MANIFEST_FILE)
    manifest["manifest"]["permissions"] = [{"name": "alexa::devices:all:address:full:read"}]
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(manifest))

    assert build_command(check=True, output=tmp_path) == 1
    err = capsys.readouterr().err
    british = f"{MODELS}/en-GB.json"
    assert f"{british}: intent DanceIntent removed" in err
    assert f"{british}: intent CanIDoIntent: 1 sample added ('can i {{activity}} {{when}}')" in err
    assert f"{british}: intent CanIDoIntent: 1 sample removed ('may i please {{activity}}')" in err
    assert f"{MODELS}/en-AU.json: missing" in err
    assert f"{MODELS}/en-NZ.json: not generated any more" in err
    assert "skill.json: manifest.permissions changed" in err.splitlines()
    assert "en-US.json" not in err and "en-CA.json" not in err
    assert "run `rls-coach model build`" in err


def test_check_notices_reformatting(tmp_path, capsys):
    shutil.copytree(PACKAGE, tmp_path, dirs_exist_ok=True)
    model_file("en-IN", tmp_path).write_text(json.dumps(read_json(model_file("en-IN"))))
    assert build_command(check=True, output=tmp_path) == 1
    assert f"{MODELS}/en-IN.json: formatting differs" in capsys.readouterr().err


def test_build_is_deterministic_and_writes_what_is_committed(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert build_command(check=False, output=first) == 0
    assert build_command(check=False, output=second) == 0
    capsys.readouterr()
    names = package_files(first)
    assert names == sorted([*(f"{MODELS}/{locale}.json" for locale in LOCALES), MANIFEST_FILE])
    assert package_files(PACKAGE) == names
    for name in names:
        text = (first / name).read_bytes()
        assert text == (second / name).read_bytes() == (PACKAGE / name).read_bytes()
        decoded = text.decode()
        assert decoded.endswith("}\n")
        assert decoded == json.dumps(json.loads(decoded), indent=2, sort_keys=True) + "\n"


def test_build_removes_models_of_dropped_locales(tmp_path, capsys):
    french = model_file("fr-FR", tmp_path)
    french.parent.mkdir(parents=True)
    french.write_text("{}")
    assert build_command(check=False, output=tmp_path) == 0
    assert not french.exists()
    assert f"removed {MODELS}/fr-FR.json" in capsys.readouterr().out


def test_a_model_that_breaks_alexas_rules_is_not_written(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(model_module, "MAX_SAMPLE_CHARS", 30)
    assert build_command(check=False, output=tmp_path) == 1
    err = capsys.readouterr().err
    assert (
        f"{MODELS}/en-GB.json: CanIDoIntent: "
        "'is it a good idea to go {activity} {when}' is longer than 30 characters"
    ) in err
    assert "nothing written" in err
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "models.json"
    target.write_text("{}")
    assert build_command(check=False, output=target) == 1
    assert "cannot write to" in capsys.readouterr().err
    assert build_command(check=True, output=target) == 1
    assert "is not a directory" in capsys.readouterr().err


def test_without_a_checkout_the_command_asks_for_an_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(model_module, "PROJECT_ROOT", tmp_path)
    assert build_command(check=True, output=None) == 2
    assert "pass --output DIR" in capsys.readouterr().err


def test_a_bad_manifest_source_names_the_field(tmp_path):
    source = tmp_path / "manifest.yaml"
    text = (CONTENT_DIR / "manifest.yaml").read_text(encoding="utf-8")
    source.write_text(text.replace("  - Alexa, open", "  - Open"), encoding="utf-8")
    expected = r"example_phrases → 0: must start with 'Alexa, '"
    with pytest.raises(ManifestSourceError, match=expected):
        load_manifest_source(source)


# --- generated from the catalog --------------------------------------------------------------


def test_every_locale_carries_every_intent_of_the_contract(models, catalog):
    expected = {*catalog.phrasings.intents, *catalog.phrasings.builtin_intents}
    for locale, document in models.items():
        lm = language_model(document)
        assert lm["invocationName"] == "restless legs coach", locale
        assert {intent["name"] for intent in lm["intents"]} == expected, locale
        for intent in lm["intents"]:
            spec = catalog.phrasings.intents.get(intent["name"])
            if spec:
                slots = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
                assert slots == dict(spec.slots), intent["name"]


def test_every_custom_intent_has_a_generous_set_of_samples(models):
    for intent in language_model(models["en-US"])["intents"]:
        if intent["name"].startswith("AMAZON."):
            continue
        slot_types = {slot["type"] for slot in intent.get("slots", [])}
        if slot_types == {"AMAZON.SearchQuery"}:
            # A free-text carrier has one sample per sentence opening: any words may follow, so
            # more samples would only take sentences from the named intents.
            assert 1 <= len(intent["samples"]) <= MAX_SAMPLES_PER_INTENT, intent["name"]
        else:
            assert 20 <= len(intent["samples"]) <= MAX_SAMPLES_PER_INTENT, intent["name"]


def test_every_catalog_entry_is_a_slot_value_with_its_id_and_synonyms(models, catalog):
    types = {t["name"]: t for t in language_model(models["en-US"])["types"]}
    assert set(types) == set(CATALOG_TYPES)
    for type_name, attribute in CATALOG_TYPES.items():
        entries = getattr(catalog, attribute)
        values = {value["id"]: value["name"] for value in types[type_name]["values"]}
        assert set(values) == set(entries), type_name
        for entry_id, entry in entries.items():
            spoken = {values[entry_id]["value"], *values[entry_id].get("synonyms", [])}
            assert {entry.name, *entry.synonyms} <= spoken, entry_id


def test_a_routine_added_in_yaml_becomes_speakable(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    (content / "routines" / "wind_down.yaml").write_text(
        "routine:\n"
        "  id: wind_down\n"
        "  name: wind down stretches\n"
        "  synonyms: [wind down routine, gentle wind down]\n"
        "  times_of_day: [afternoon]\n"
        "  steps:\n"
        "    - exercise: calf_stretch\n",
        encoding="utf-8",
    )
    document = build_models(load_catalog(content))["en-CA"]
    assert check_model(document) == []
    said = Resolver(document).resolve("let's do my wind down routine")
    assert said is not None
    assert (said.intent, said.slot_id("routine")) == ("StartRoutineIntent", "wind_down")


def test_built_in_intents_carry_only_the_added_phrasings(models, catalog):
    by_name = {i["name"]: i for i in language_model(models["en-US"])["intents"]}
    assert by_name["AMAZON.FallbackIntent"]["samples"] == []
    assert by_name["AMAZON.NavigateHomeIntent"]["samples"] == []
    assert "okay let's go" in by_name["AMAZON.NextIntent"]["samples"]
    assert "take a break" in by_name["AMAZON.PauseIntent"]["samples"]
    assert all("slots" not in by_name[name] for name in catalog.phrasings.builtin_intents)


# --- Alexa's rules ---------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_each_locale_follows_alexas_rules(models, locale):
    assert check_model(models[locale]) == []


def _intent(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in language_model(document)["intents"] if i["name"] == name)


def _type(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in language_model(document)["types"] if t["name"] == name)


def _set_invocation(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: language_model(d).__setitem__("invocationName", name)


def _add_samples(intent: str, *samples: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: _intent(d, intent)["samples"].extend(samples)


def _add_synonym(type_name: str, entity_id: str, synonym: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        value = next(v for v in _type(document, type_name)["values"] if v["id"] == entity_id)
        value["name"].setdefault("synonyms", []).append(synonym)

    return edit


def _drop_intent(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        intents = language_model(document)["intents"]
        intents.remove(_intent(document, name))

    return edit


def _many_samples(document: dict[str, Any]) -> None:
    words = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "more")
    _intent(document, "SlowDownIntent")["samples"].extend(
        f"slower {a} {b} {c}" for a, b, c in itertools.product(words, repeat=3)
    )


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        pytest.param(_set_invocation("Restless Legs Coach"), "lower-case", id="capitals"),
        pytest.param(_set_invocation("coach"), "at least two words", id="one-word"),
        pytest.param(_set_invocation("ask legs coach"), "launch word", id="launch-word"),
        pytest.param(_set_invocation("alexa legs coach"), "wake or generic", id="wake-word"),
        pytest.param(
            _add_samples("SlowDownIntent", "speed up"),
            "'speed up' is a sample of both",
            id="sample-in-two-intents",
        ),
        pytest.param(
            _add_samples("SlowDownIntent", "slow down", "slow down"),
            "SlowDownIntent: 'slow down' is listed twice",
            id="sample-twice",
        ),
        pytest.param(
            _add_samples("SetBedtimeIntent", "my bedtime is at 10 pm"),
            "spell numbers out",
            id="digits",
        ),
        pytest.param(
            _add_samples("SlowDownIntent", "slow down!"), "only letters", id="punctuation"
        ),
        pytest.param(
            _add_samples("SlowDownIntent", "slow down by {amount}"),
            "uses {amount}, not declared on the intent",
            id="undeclared-slot",
        ),
        pytest.param(
            lambda d: _intent(d, "SlowDownIntent").__setitem__(
                "slots", [{"name": "amount", "type": "AMAZON.NUMBER"}]
            ),
            "SlowDownIntent: slot amount is not used in any sample",
            id="unused-slot",
        ),
        pytest.param(
            lambda d: _intent(d, "TipIntent")["slots"][0].__setitem__("type", "TIPS"),
            "slot topic has the undefined type TIPS",
            id="undefined-type",
        ),
        pytest.param(
            lambda d: language_model(d)["types"].append({"name": "MOOD", "values": []}),
            "slot type MOOD is defined but no slot uses it",
            id="unused-type",
        ),
        pytest.param(
            _add_synonym("ACTIVITY", "walking", "swim"),
            "ACTIVITY: 'swim' belongs to both swimming and walking",
            id="synonym-claimed-twice",
        ),
        pytest.param(
            lambda d: _type(d, "ROUTINE")["values"][1].__setitem__(
                "id", _type(d, "ROUTINE")["values"][0]["id"]
            ),
            "ROUTINE: id afternoon_stretches is used twice",
            id="duplicate-id",
        ),
        pytest.param(
            _add_synonym("EXERCISE", "bridge", "bridge " * 30),
            "is over 140 chars",
            id="long-slot-value",
        ),
        pytest.param(
            _add_samples("AMAZON.FallbackIntent", "something else"),
            "give AMAZON.FallbackIntent no samples",
            id="fallback-samples",
        ),
        pytest.param(
            _drop_intent("AMAZON.StopIntent"),
            "the required built-in intent AMAZON.StopIntent is missing",
            id="missing-stop",
        ),
        pytest.param(
            lambda d: _intent(d, "AMAZON.NextIntent").__setitem__(
                "slots", [{"name": "count", "type": "AMAZON.NUMBER"}]
            ),
            "AMAZON.NextIntent: a built-in intent cannot have slots",
            id="builtin-slots",
        ),
        pytest.param(_many_samples, "samples (at most 1000)", id="too-many-samples"),
    ],
)
def test_the_rules_catch_what_alexa_rejects(models, edit, problem):
    document = copy.deepcopy(models["en-US"])
    edit(document)
    problems = check_model(document)
    assert any(problem in p for p in problems), problems


# --- the manifest ----------------------------------------------------------------------------


def test_the_manifest_follows_the_publishing_rules(manifest, catalog):
    assert check_manifest(manifest, "restless legs coach") == []
    body = manifest["manifest"]
    # Reminders only; the time zone (Settings API) needs no permission.
    assert body["permissions"] == [{"name": "alexa::alerts:reminders:skill:readwrite"}]
    assert body["publishingInformation"]["category"] == "HEALTH_AND_FITNESS"
    assert set(body["publishingInformation"]["locales"]) == set(LOCALES)
    privacy = body["privacyAndCompliance"]
    assert privacy["allowsPurchases"] is privacy["isChildDirected"] is False
    assert privacy["containsAds"] is privacy["usesPersonalInfo"] is False
    for text in body["publishingInformation"]["locales"].values():
        assert text["name"] == "Restless Legs Coach"
        assert "general information, not medical advice" in text["summary"].lower()
        assert "not medical advice" in text["description"]
        assert "Medzock" not in json.dumps(text)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_example_phrase_resolves_to_the_intended_intent(manifest, models, locale):
    phrases = manifest["manifest"]["publishingInformation"]["locales"][locale]["examplePhrases"]
    expected = [
        (LAUNCH_REQUEST, None, None),
        ("StartRoutineIntent", "routine", "morning_stretches"),
        ("TipIntent", "topic", "bedtime"),
    ]
    assert len(phrases) == len(expected)
    resolver = Resolver(models[locale])
    for phrase, (intent, slot, entity_id) in zip(phrases, expected, strict=True):
        said = resolver.resolve_invocation(phrase)
        assert said is not None, phrase
        assert said.intent == intent, phrase
        if slot:
            assert said.slot_id(slot) == entity_id, phrase


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        pytest.param(
            lambda text: text["examplePhrases"].append("Alexa, ask restless legs coach for help"),
            "give 1 to 3 example phrases",
            id="four-phrases",
        ),
        pytest.param(
            lambda text: text["examplePhrases"].__setitem__(0, "open restless legs coach"),
            "must start with 'Alexa, '",
            id="no-wake-word",
        ),
        pytest.param(
            lambda text: text.__setitem__("summary", "Stretches for restless legs."),
            "the summary lacks the health disclaimer",
            id="no-disclaimer",
        ),
    ],
)
def test_the_manifest_rules_catch_mistakes(manifest, edit, problem):
    broken = copy.deepcopy(manifest)
    edit(broken["manifest"]["publishingInformation"]["locales"]["en-GB"])
    assert any(problem in p for p in check_manifest(broken, "restless legs coach"))


def test_the_manifest_declares_the_screens(manifest):
    interfaces = manifest["manifest"]["apis"]["custom"]["interfaces"]
    assert interfaces == [{"type": "ALEXA_PRESENTATION_APL"}]
    broken = copy.deepcopy(manifest)
    broken["manifest"]["apis"]["custom"]["interfaces"] = []
    assert any("ALEXA_PRESENTATION_APL" in p for p in check_manifest(broken, "restless legs coach"))


def test_the_manifest_asks_for_no_other_permission_and_no_purchases(manifest):
    broken = copy.deepcopy(manifest)
    broken["manifest"]["permissions"] = [{"name": "alexa::devices:all:address:full:read"}]
    broken["manifest"]["privacyAndCompliance"]["allowsPurchases"] = True
    problems = check_manifest(broken, "restless legs coach")
    assert (
        "manifest.permissions: the skill does not use 'alexa::devices:all:address:full:read'"
        in problems
    )
    assert "privacyAndCompliance.allowsPurchases must be false for this skill" in problems


def test_the_default_model_is_the_committed_one(models):
    assert model_module.default_model("en-AU") == models["en-AU"]
    with pytest.raises(ValueError, match="no interaction model for locale 'fr-FR'"):
        model_module.default_model("fr-FR")


def test_generation_is_pure(catalog):
    source = load_manifest_source()
    assert generate_files(catalog, source) == generate_files(catalog, source)
    assert build_manifest(catalog, source) == read_json(PACKAGE / MANIFEST_FILE)
