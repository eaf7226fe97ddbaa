"""``rls-coach preview``: an author reads the whole spoken script before any device speaks it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skill.catalog.loader import default_catalog
from skill.catalog.model import CONTENT_DIR
from skill.cli import main


def test_a_routine_is_previewed_part_by_part_to_its_end(capsys):
    assert main(["preview", "morning", "stretches"]) == 0
    printed = capsys.readouterr().out
    routine = default_catalog().routines["morning_stretches"]
    assert "Preview of the morning stretches, at the normal pace." in printed
    assert "── part 1:" in printed and "One," in printed
    # Every exercise of the routine is spoken, in order, and the script ends with the finish.
    names = [default_catalog().exercises[step.exercise].name for step in routine.steps]
    positions = [printed.index(f"the {name}") for name in names]
    assert positions == sorted(positions)
    assert "this week" in printed.split("── part")[-1]
    assert "In all about" in printed


def test_a_slower_pace_is_previewed_with_longer_pauses(capsys):
    main(["preview", "calf_stretch"])
    normal = capsys.readouterr().out
    main(["preview", "calf stretch", "--pace", "slowest"])
    slowest = capsys.readouterr().out
    assert "lift your heel (2 s)" in normal
    assert "lift your heel (2 s)" not in slowest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["preview", "swimming"], "no routine or exercise called 'swimming'; try one of:"),
        (["preview", "bridge", "--pace", "warp"], "no pace called 'warp'; the paces are:"),
    ],
)
def test_a_bad_target_or_pace_names_what_can_be_previewed(capsys, args, message):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_an_authors_own_content_directory_is_previewed(tmp_path: Path, capsys):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    exercises = content / "exercises.yaml"
    exercises.write_text(
        exercises.read_text().replace("lift your heel", "raise your heel", 1), encoding="utf-8"
    )
    assert main(["preview", "calf stretch", "--content", str(content)]) == 0
    assert "raise your heel" in capsys.readouterr().out


def test_content_with_problems_is_not_previewed(tmp_path: Path, capsys):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    (content / "rules.yaml").write_text("paces: nope\n", encoding="utf-8")
    assert main(["preview", "bridge", "--content", str(content)]) == 1
    assert "rls-coach validate" in capsys.readouterr().err


@pytest.mark.parametrize("exercise", sorted(default_catalog().exercises))
def test_one_exercise_is_previewed_to_its_end_and_no_further(capsys, exercise):
    """A guided exercise ends with "anything else?", and the preview stops there: it does not
    go on saying "next" to a coach that is no longer guiding."""
    assert main(["preview", exercise]) == 0
    printed = capsys.readouterr().out
    parts = printed.split("── part")[1:]
    catalog = default_catalog()
    sets = len(catalog.exercises[exercise].sides.order)
    assert len(parts) == sets  # one part per side (one for an exercise done once)
    assert "done" in parts[-1] or "finished" in parts[-1]
    assert "not doing any stretches" not in printed
    minutes = float(printed.rsplit("In all about ", 1)[1].split()[0])
    assert 0 < minutes < 5
