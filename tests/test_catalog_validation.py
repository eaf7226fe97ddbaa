"""Every validation message, each from a bad fixture: a copy of the shipped content with one
mistake made in it. The message must name the file, the entry and the field."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.catalog.loader import default_catalog, load_catalog, validate_content
from skill.catalog.model import CONTENT_DIR, CatalogError
from skill.cli import main as cli_main


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


def edit(content: Path, relative: str, change: Callable[[Any], Any]) -> None:
    """Load a YAML file, let ``change`` mutate (or replace) it, and write it back."""
    path = content / relative
    data = yaml.safe_load(path.read_text())
    replaced = change(data)
    path.write_text(yaml.safe_dump(data if replaced is None else replaced, sort_keys=False))


def exercise(data: dict, exercise_id: str) -> dict:
    return next(e for e in data["exercises"] if e["id"] == exercise_id)


def activity(data: dict, activity_id: str) -> dict:
    return next(a for a in data["activities"] if a["id"] == activity_id)


def messages(content: Path) -> list[str]:
    return [str(error) for error in validate_content(content)]


def test_shipped_content_is_valid():
    assert validate_content() == []


# (test id, file, change, expected message) — the message is matched in full, so a vague or
# wrongly addressed message fails.
CASES: list[tuple[str, str, Callable[[Any], Any], str]] = [
    (
        "unknown-exercise-in-step",
        "routines/morning.yaml",
        lambda d: d["routine"]["steps"][1].update(exercise="calf_strech"),
        "routines/morning.yaml → steps → 2 → exercise: unknown exercise 'calf_strech'; "
        "did you mean 'calf_stretch'?",
    ),
    (
        "empty-routine",
        "routines/morning.yaml",
        lambda d: d["routine"].update(steps=[]),
        "routines/morning.yaml → steps: a routine needs 1 to 20 steps",
    ),
    (
        "unknown-key-with-suggestion",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(cautons=["Go slowly."]),
        "exercises.yaml → bridge → cautons: unknown key 'cautons'; did you mean 'cautions'? The "
        "keys here are: id, name, synonyms, kind, intensity, position, muscles, summary, setup, "
        "movement, switch, plural, rep, reps, sides, cautions, best_times, source",
    ),
    (
        "unknown-nested-key",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["reps"].update(upto=3),
        "exercises.yaml → bridge → reps → upto: unknown key 'upto'; did you mean 'up_to'? The keys "
        "here are: up_to, from, to, count, spoken, limit",
    ),
    (
        "reps-limit-not-the-sources-words",
        "exercises.yaml",
        lambda d: exercise(d, "gentle_squat")["reps"].update(limit="Do as many as you like."),
        "exercises.yaml → gentle_squat → reps: 'Do as many as you like.' is not in what the "
        "source says (source.says)",
    ),
    (
        "wrong-type",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(reps={"up_to": "twenty"}),
        "exercises.yaml → bridge → reps → up_to: Not a valid integer: write a whole number, like 5",
    ),
    (
        "negative-reps",
        "exercises.yaml",
        lambda d: exercise(d, "calf_stretch").update(reps={"up_to": -5}),
        "exercises.yaml → calf_stretch → reps → up_to: must be 1 to 50 reps",
    ),
    (
        "absurd-reps",
        "exercises.yaml",
        lambda d: exercise(d, "calf_stretch").update(reps={"up_to": 500}),
        "exercises.yaml → calf_stretch → reps → up_to: must be 1 to 50 reps",
    ),
    (
        "absurd-hold",
        "exercises.yaml",
        lambda d: exercise(d, "lunge_and_stretch")["rep"][0].update(seconds=300),
        "exercises.yaml → lunge_and_stretch → rep → 1 → seconds: "
        "must be between 0.5 and 30 seconds",
    ),
    (
        "reps-neither-form",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(reps={"spoken": "lots"}),
        "exercises.yaml → bridge → reps: give one of: count (an exact number, like {count: 10}), "
        "up_to (like {up_to: 5}), or a range (like {from: 5, to: 8})",
    ),
    (
        "reps-backwards-range",
        "exercises.yaml",
        lambda d: exercise(d, "lunge_and_stretch").update(reps={"from": 8, "to": 5}),
        "exercises.yaml → lunge_and_stretch → reps → to: from must be less than to",
    ),
    (
        "reps-half-range",
        "exercises.yaml",
        lambda d: exercise(d, "lunge_and_stretch").update(reps={"from": 5}),
        "exercises.yaml → lunge_and_stretch → reps: a range needs both from and to",
    ),
    (
        "missing-required-field",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").pop("cautions") and None,
        "exercises.yaml → bridge → cautions: missing: add 'cautions:' with a list, like [one, two]",
    ),
    (
        "bad-choice",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(kind="cardio"),
        "exercises.yaml → bridge → kind: Must be one of: stretch, strength, aerobic, mind-body.",
    ),
    (
        "bad-id",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(id="Bridge Pose"),
        "exercises.yaml → Bridge Pose → id: must be lower_snake_case, e.g. calf_stretch",
    ),
    (
        "duplicate-id",
        "exercises.yaml",
        lambda d: d["exercises"].append(dict(exercise(d, "bridge"))),
        "exercises.yaml → bridge → id: duplicate id 'bridge'",
    ),
    (
        "duplicate-synonym-across-exercises",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["synonyms"].append("calf raises"),
        "exercises.yaml → bridge → synonyms: 'calf raises' is already a name of exercise or "
        "routine 'calf_stretch' in exercises.yaml",
    ),
    (
        "synonym-listed-twice",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["synonyms"].append("Glute Bridge"),
        "exercises.yaml → bridge → synonyms: 'Glute Bridge' is listed twice",
    ),
    (
        "synonym-collides-exercise-and-routine",
        "routines/afternoon.yaml",
        lambda d: d["routine"]["synonyms"].append("quad stretch"),
        "routines/afternoon.yaml → afternoon_stretches → synonyms: 'quad stretch' is already a "
        "name of exercise or routine 'standing_quad_stretch' in exercises.yaml",
    ),
    (
        "first-side-without-sides",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(sides={"per_side": False, "first": "left"}),
        "exercises.yaml → bridge → sides → first: only a per-side exercise has a first side",
    ),
    (
        "count-outside-the-source",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["reps"].update(count=25),
        "exercises.yaml → bridge → reps → count: the coach must count within what the source "
        "gives: 1 to 20",
    ),
    (
        "spoken-count-disagrees",
        "exercises.yaml",
        lambda d: exercise(d, "calf_stretch")["reps"].update(spoken="up to six"),
        "exercises.yaml → calf_stretch → reps → spoken: 'up to six' says 6, but the numbers "
        "given are 5",
    ),
    (
        "per-side-without-body-part",
        "exercises.yaml",
        lambda d: exercise(d, "calf_stretch")["sides"].pop("body_part") and None,
        "exercises.yaml → calf_stretch → sides → body_part: a per-side exercise names the body "
        "part worked on each side (leg, foot, arm): it is said as 'with your left leg'",
    ),
    (
        "per-side-without-switch",
        "exercises.yaml",
        lambda d: exercise(d, "lunge_and_stretch").pop("switch") and None,
        "exercises.yaml → lunge_and_stretch → switch: a per-side exercise says what to do on the "
        "switch to the other side; one done once has no switch",
    ),
    (
        "long-movement",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["movement"].extend(["Breathe.", "Relax."]),
        "exercises.yaml → bridge → movement: one or two short sentences",
    ),
    (
        "position-time-missing",
        "rules.yaml",
        lambda d: d["position_seconds"].pop("lying") and None,
        "rules.yaml → position_seconds: give a time for every position; missing: lying",
    ),
    (
        "unknown-placeholder",
        "exercises.yaml",
        lambda d: exercise(d, "calf_stretch").update(setup=["Stand on your {foot} foot."]),
        "exercises.yaml → calf_stretch: unknown placeholder {foot} in "
        "'Stand on your {foot} foot.'; only {side} and {other_side} are filled in",
    ),
    (
        "side-placeholder-without-sides",
        "exercises.yaml",
        lambda d: exercise(d, "bridge").update(setup=["Lie on your {side} side."]),
        "exercises.yaml → bridge: {side} in 'Lie on your {side} side.', but the exercise is not "
        "done per side",
    ),
    (
        "unknown-article",
        "exercises.yaml",
        lambda d: exercise(d, "bridge")["source"].update(article="a blog"),
        "exercises.yaml → bridge → source → article: unknown source 'a blog'; the sources are: "
        "compendium, exercises-for-restless-leg-syndrome, restless-legs-exercises. Add it to "
        "sources.yaml to cite it",
    ),
    (
        "extreme-activity-allowed",
        "activities.yaml",
        lambda d: activity(d, "hot_yoga").update(allowed=True, best_times=["morning"]),
        "activities.yaml → hot_yoga → allowed: the sources advise against extreme exercise",
    ),
    (
        "allowed-activity-without-times",
        "activities.yaml",
        lambda d: activity(d, "swimming").update(best_times=[]),
        "activities.yaml → swimming → best_times: an allowed activity needs at least one best time",
    ),
    (
        "activity-links-unknown-exercise",
        "activities.yaml",
        lambda d: activity(d, "bridges").update(exercise="brige"),
        "activities.yaml → bridges → exercise: unknown exercise 'brige'; did you mean 'bridge'?",
    ),
    (
        "time-phrase-two-meanings",
        "time_phrases.yaml",
        lambda d: d["time_phrases"][0].update(at="08:00"),
        "time_phrases.yaml → now: give exactly one of now, at or before_bed_minutes",
    ),
    (
        "bad-clock-time",
        "time_phrases.yaml",
        lambda d: d["time_phrases"][1].update(at="25:00"),
        'time_phrases.yaml → this_morning → at: expected a 24-hour time like "22:30", got '
        "'25:00'",
    ),
    (
        # What an unquoted 22:30 becomes: YAML 1.1 reads it as base 60.
        "unquoted-clock-time",
        "time_phrases.yaml",
        lambda d: d["time_phrases"][1].update(at=1350),
        'time_phrases.yaml → this_morning → at: expected a 24-hour time like "22:30", got 1350; '
        "write it in quotes (YAML reads 22:30 as a number)",
    ),
    (
        "day-parts-out-of-order",
        "rules.yaml",
        lambda d: d["day_parts"].reverse(),
        "rules.yaml → day_parts: list the day parts in order: morning, afternoon, evening, night",
    ),
    (
        "no-normal-pace",
        "rules.yaml",
        lambda d: d.update(paces=[{"id": "slow", "factor": 1.5}]),
        "rules.yaml → paces: one pace must be 'normal' with factor 1.0",
    ),
    (
        "speech-with-ssml",
        "speech/en/common.yaml",
        lambda d: d.update(goodbye="Bye <break time='1s'/> now"),
        "speech/en/common.yaml → goodbye: plain text only: SSML is added by the speech builder",
    ),
    (
        "speech-variants-disagree",
        "speech/en/common.yaml",
        lambda d: d.update(goodbye=["Bye {name}.", "Bye."]),
        "speech/en/common.yaml → goodbye: every variant must use the same {placeholders}",
    ),
    (
        "speech-not-a-sentence",
        "speech/en/common.yaml",
        lambda d: d.update(goodbye=[]),
        "speech/en/common.yaml → goodbye: must be a sentence or a non-empty list of sentences",
    ),
    (
        "phrasing-undeclared-slot",
        "phrasings.yaml",
        lambda d: d["intents"]["TipIntent"]["samples"].append("tell me about {subject}"),
        "phrasings.yaml → intents → TipIntent → samples → "
        "{0}: slot {subject} is not declared on TipIntent",
    ),
    (
        "phrasing-unknown-slot-type",
        "phrasings.yaml",
        lambda d: d["intents"]["TipIntent"]["slots"].update(topic="TIP_TOPICS"),
        "phrasings.yaml → intents → TipIntent → slots → topic: unknown slot type 'TIP_TOPICS'; "
        "did you mean 'TIP_TOPIC'?",
    ),
    (
        "routine-file-wrong-shape",
        "routines/morning.yaml",
        lambda d: d["routine"],
        "routines/morning.yaml: the file must hold one top-level key 'routine' with a mapping",
    ),
    (
        "list-file-wrong-shape",
        "tips.yaml",
        lambda d: d["tips"],
        "tips.yaml: the file must hold one top-level key 'tips' with a list",
    ),
]


@pytest.mark.parametrize(
    ("relative", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_mistake_gets_a_message_naming_its_place(content, relative, change, expected):
    if "{0}" in expected:  # the sample's position depends on how many samples the file has
        count = len(
            yaml.safe_load((content / relative).read_text())["intents"]["TipIntent"]["samples"]
        )
        expected = expected.replace("{0}", str(count + 1))
    edit(content, relative, change)
    assert expected in messages(content)


def test_broken_yaml_names_the_line(content):
    path = content / "exercises.yaml"
    lines = path.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("    reps: {"))
    lines[index] = lines[index] + " ]["
    path.write_text("\n".join(lines))
    (found,) = messages(content)
    assert found.startswith(f"exercises.yaml: broken YAML at line {index + 1}, column")


def test_missing_and_empty_files_are_named(content):
    (content / "rules.yaml").unlink()
    (content / "routines" / "empty.yaml").write_text("# nothing yet\n")
    found = messages(content)
    assert "rules.yaml: the file is missing" in found
    assert "routines/empty.yaml: the file is empty" in found


def test_one_bad_entry_does_not_hide_another(content):
    """Mistakes in several entries and files are all reported at once."""
    edit(content, "exercises.yaml", lambda d: exercise(d, "bridge").update(kind="cardio"))
    edit(content, "exercises.yaml", lambda d: exercise(d, "gentle_squat").update(reps={"up_to": 0}))
    edit(
        content,
        "routines/gentle_strength.yaml",
        lambda d: d["routine"]["steps"][0].update(exercise="brigde"),
    )
    found = messages(content)
    assert any(m.startswith("exercises.yaml → bridge → kind") for m in found)
    assert any(m.startswith("exercises.yaml → gentle_squat → reps → up_to") for m in found)
    # The bridge entry failed to load, but its id is still known: no cascade of "unknown exercise
    # 'bridge'", while the real typo is caught.
    assert not any("unknown exercise 'bridge'" in m for m in found)
    assert any("unknown exercise 'brigde'; did you mean 'bridge'?" in m for m in found)


def test_load_catalog_raises_with_every_problem(content):
    edit(content, "exercises.yaml", lambda d: exercise(d, "bridge").update(kind="cardio"))
    edit(content, "activities.yaml", lambda d: activity(d, "swimming").update(best_times=[]))
    with pytest.raises(CatalogError) as raised:
        load_catalog(content)
    assert len(raised.value.errors) == 2
    assert "2 problem(s)" in str(raised.value)


def test_validate_command_exits_non_zero_and_lists_everything(content, capsys):
    edit(
        content,
        "routines/morning.yaml",
        lambda d: d["routine"]["steps"][1].update(exercise="calf_strech"),
    )
    edit(content, "exercises.yaml", lambda d: exercise(d, "bridge").update(kind="cardio"))
    assert cli_main(["validate", str(content)]) == 1
    err = capsys.readouterr().err
    assert "did you mean 'calf_stretch'?" in err
    assert "exercises.yaml → bridge → kind" in err
    assert "2 problem(s)" in err


@pytest.mark.slow
def test_validate_command_on_good_content_prints_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "skill.cli", "validate"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line == f"content OK: {default_catalog().summary()}"


def test_validate_command_on_a_missing_directory(tmp_path, capsys):
    assert cli_main(["validate", str(tmp_path / "nowhere")]) == 1
    assert "no such content directory" in capsys.readouterr().err


def test_validate_refuses_a_side_too_long_for_one_response(content, capsys):
    # Fifty bridges with a long cue, at the slowest pace, cannot be one response; a set is never
    # split, so the author hears about it instead of the user hearing "next" mid-set.
    def longer(data: dict) -> None:
        bridge = exercise(data, "bridge")
        bridge["reps"] = {"up_to": 50, "count": 50}
        cue = "lift your bottom slowly until your knees and shoulders make a line, and hold there"
        bridge["rep"][0]["cue"] = cue
        bridge["rep"][1]["cue"] = "and now lower your bottom slowly, all the way back to the floor"

    edit(content, "exercises.yaml", longer)
    assert cli_main(["validate", str(content)]) == 1
    err = capsys.readouterr().err
    assert "exercises.yaml → bridge → reps: one side of 50 reps (exercises.yaml) takes" in err
    assert "a side must fit one response (Alexa allows 8000)" in err
