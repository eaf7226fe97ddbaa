"""An author adds an exercise (from a source of their own), a routine and a tip in YAML alone,
and everything works: validation, the interaction model, a guided routine, the answers."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from coach_dev.alexa_response import output_text
from coach_dev.chat import InProcessTransport, InteractionModel, SimulatedDevice
from coach_dev.model import build_language_model, model_file
from skill.builder import build_skill
from skill.catalog.loader import collect_errors, default_catalog, load_catalog
from skill.catalog.model import CONTENT_DIR
from skill.cli import main
from skill.settings import Settings
from skill.stores.memory import MemoryAdapter

ADDITIONS = Path(__file__).parent / "authoring"
ZONE = ZoneInfo("America/New_York")


def add_to_list(file: Path, entry: Path) -> None:
    """Append a YAML list entry to a content file whose list is its last key, as an author would
    paste one in at the end."""
    file.write_text(file.read_text().rstrip("\n") + "\n\n" + entry.read_text(), encoding="utf-8")


@pytest.fixture(scope="module")
def content(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("authored") / "content"
    shutil.copytree(CONTENT_DIR, directory)
    add_to_list(directory / "sources.yaml", ADDITIONS / "source.yaml")
    add_to_list(directory / "exercises.yaml", ADDITIONS / "exercise.yaml")
    add_to_list(directory / "tips.yaml", ADDITIONS / "tip.yaml")
    shutil.copy(ADDITIONS / "routine.yaml", directory / "routines" / "evening_wind_down.yaml")
    return directory


def talk(content: Path, at: str):
    catalog = load_catalog(content)
    clock = {"now": dt.datetime.strptime(at, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)}
    settings = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")
    device = SimulatedDevice(
        transport=InProcessTransport(build_skill(catalog, MemoryAdapter(), settings)),
        model=InteractionModel(build_language_model(catalog)),
        user="author",
        clock=lambda: clock["now"],
    )

    def say(text: str) -> tuple[str, bool]:
        clock["now"] += dt.timedelta(seconds=30)
        exchange = device.say(text)
        assert exchange is not None and exchange.matched, f"no sample matches {text!r}"
        response = exchange.response["response"]
        return output_text(response.get("outputSpeech")), response.get("shouldEndSession") is False

    return say


def test_the_additions_validate_and_are_counted(content: Path, capsys):
    catalog, errors = collect_errors(content)
    assert errors == [] and catalog is not None
    shipped = default_catalog()
    assert len(catalog.exercises) == len(shipped.exercises) + 1
    assert len(catalog.routines) == len(shipped.routines) + 1
    assert catalog.exercises["seated_ankle_circles"].source.article == "clinic-notes"
    assert catalog.tips["leg_massage"].point_source(0).section == "Self-massage"
    assert main(["validate", str(content)]) == 0
    assert capsys.readouterr().out.strip() == f"content OK: {catalog.summary()}"


def test_the_model_is_built_from_the_additions_and_checks_clean(content: Path, tmp_path: Path):
    output = tmp_path / "models"
    assert main(["model", "build", "--content", str(content), "--output", str(output)]) == 0
    assert (
        main(["model", "build", "--check", "--content", str(content), "--output", str(output)]) == 0
    )
    model = json.loads(model_file("en-US", output).read_text())
    types = {t["name"]: t for t in model["interactionModel"]["languageModel"]["types"]}
    ids = {v["id"] for v in types["EXERCISE"]["values"]} | {
        v["id"] for v in types["ROUTINE"]["values"]
    }
    assert {"seated_ankle_circles", "evening_wind_down"} <= ids


def test_the_new_routine_is_guided_to_its_end_even_near_bedtime(content: Path):
    say = talk(content, "2026-11-17 21:45")
    text, open_ = say("start my evening wind down")
    assert "close to your bedtime" not in text
    assert "seated ankle circles" in text and "right foot" in text
    assert "Slowly draw a circle with your right toes" in text
    assert open_
    text, _ = say("next")
    assert "left foot" in text and "leg" not in text.split("left foot")[0][-40:]
    heard = [text]
    for _ in range(8):
        text, open_ = say("next")
        heard.append(text)
        if not open_ or "remind you tomorrow" in text:
            break
    assert any("calf stretch" in part for part in heard)
    assert "evening wind down finished" in text or "evening wind down done" in text


def test_how_to_and_tip_answers_come_from_the_additions(content: Path):
    say = talk(content, "2026-11-17 10:00")
    text, _ = say("how do I do ankle circles")
    assert "Sit tall on a chair" in text
    text, _ = say("give me leg massage tips")
    assert "massaging your calves and thighs" in text


def test_a_routine_that_suits_bedtime_may_hold_only_gentle_exercises(content: Path, tmp_path):
    broken = tmp_path / "content"
    shutil.copytree(content, broken)
    routine = broken / "routines" / "evening_wind_down.yaml"
    routine.write_text(routine.read_text().replace("calf_stretch", "bridge"), encoding="utf-8")
    _, errors = collect_errors(broken)
    assert [str(e) for e in errors] == [
        "routines/evening_wind_down.yaml → steps → 2 → exercise: the bridge is moderate: a "
        "routine that suits bedtime holds only gentle exercises"
    ]
