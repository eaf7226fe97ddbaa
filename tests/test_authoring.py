"""An author adds an exercise (from a source of their own), a routine and a tip in YAML alone,
and everything works: validation, the interaction model, a guided routine, the answers.

What is added is the worked example of docs/authoring.md. It is added to a copy of the content,
and it replaces what that copy already holds under the example's ids: an author who has followed
the guide into the real content must not see these tests fail on a duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from coach_dev.alexa_response import output_text
from coach_dev.chat import InProcessTransport, InteractionModel, SimulatedDevice
from coach_dev.model import build_language_model, model_file
from skill.builder import build_skill
from skill.catalog.loader import collect_errors, load_catalog
from skill.catalog.model import CONTENT_DIR
from skill.cli import main
from skill.settings import Settings
from skill.stores.memory import MemoryAdapter

ADDITIONS = Path(__file__).parent / "authoring"
GUIDE = Path(__file__).parent.parent / "docs" / "authoring.md"
ZONE = ZoneInfo("America/New_York")
# The example's list entries: each file of the example, and the content file it is pasted into.
LIST_PARTS = {
    "source.yaml": "sources.yaml",
    "exercise.yaml": "exercises.yaml",
    "tip.yaml": "tips.yaml",
}
ROUTINE_PART = "routine.yaml"
ROUTINE_FILE = "routines/evening_wind_down.yaml"


def add_to_list(file: Path, entry: Path) -> None:
    """Append a YAML list entry to a content file whose list is its last key, as an author would
    paste one in at the end."""
    file.write_text(file.read_text().rstrip("\n") + "\n\n" + entry.read_text(), encoding="utf-8")


def add_the_example(content: Path) -> None:
    """Add the guide's worked example to ``content`` as an author following the guide does."""
    for part, file in LIST_PARTS.items():
        add_to_list(content / file, ADDITIONS / part)
    shutil.copy(ADDITIONS / ROUTINE_PART, content / ROUTINE_FILE)


def example_ids(part: str) -> set[str]:
    raw = yaml.safe_load((ADDITIONS / part).read_text(encoding="utf-8"))
    entries = [raw["routine"]] if part == ROUTINE_PART else raw
    return {entry["id"] for entry in entries}


def take_out_the_example(content: Path) -> None:
    """Take out of ``content`` every entry and routine file holding an id of the guide's example
    (as written there or changed since), so that adding the example replaces it."""
    for part, file in LIST_PARTS.items():
        cut_entries(content / file, example_ids(part))
    routine_ids = example_ids(ROUTINE_PART)
    for path in (content / "routines").glob("*.yaml"):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(raw, dict) and (raw.get("routine") or {}).get("id") in routine_ids:
            path.unlink()


def cut_entries(file: Path, ids: set[str]) -> None:
    """Cut the entries whose id is in ``ids`` out of a ``{key: [entries]}`` content file, line for
    line, leaving the rest as its author wrote it. The list is the file's one key, so an entry
    runs from its "- " line to the next entry's, or to the end of the file."""
    text = file.read_text(encoding="utf-8")
    ((_, entries),) = yaml.compose(text, Loader=yaml.SafeLoader).value
    starts = [text.rfind("\n", 0, entry.start_mark.index) + 1 for entry in entries.value]
    spans = zip(entries.value, starts, [*starts[1:], len(text)], strict=True)
    for entry, start, end in reversed(list(spans)):
        keys = {key.value: value.value for key, value in entry.value}
        if keys.get("id") in ids:
            text = text[:start] + text[end:]
    file.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module", params=["shipped-content", "content-already-holding-the-example"])
def base(request, tmp_path_factory) -> Path:
    """The content the author starts from: the shipped content, or a copy to which an author has
    already added the guide's example (the tests add it once more, and must still pass)."""
    if request.param == "shipped-content":
        return CONTENT_DIR
    directory = tmp_path_factory.mktemp("already") / "content"
    shutil.copytree(CONTENT_DIR, directory)
    take_out_the_example(directory)  # the shipped content may hold it already
    add_the_example(directory)
    return directory


@pytest.fixture(scope="module")
def content(base: Path, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("authored") / "content"
    shutil.copytree(base, directory)
    take_out_the_example(directory)
    add_the_example(directory)
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


def test_the_additions_validate_and_are_counted(base: Path, content: Path, capsys):
    catalog, errors = collect_errors(content)
    assert errors == [] and catalog is not None
    before = load_catalog(base)
    assert set(catalog.exercises) == {*before.exercises, "seated_ankle_circles"}
    assert set(catalog.routines) == {*before.routines, "evening_wind_down"}
    assert set(catalog.tips) == {*before.tips, "leg_massage"}
    assert set(catalog.sources) == {*before.sources, "clinic-notes"}
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


@pytest.mark.parametrize("part", sorted(path.name for path in ADDITIONS.glob("*.yaml")))
def test_what_is_added_is_the_guides_worked_example(part: str):
    assert (ADDITIONS / part).read_text(encoding="utf-8") in GUIDE.read_text(encoding="utf-8")
