"""A store URL naming something that is not a SQLite file (a directory, a text file, a device,
a /proc file) gets the same one-line error as any other bad store URL, and creates nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

RLS_COACH = [sys.executable, "-m", "skill.cli"]
ROOT = Path(__file__).resolve().parent.parent


def run(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("RLS_COACH_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [*RLS_COACH, *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_refusal(outcome: subprocess.CompletedProcess[str], path: str) -> None:
    assert outcome.returncode == 2, outcome.stderr
    assert "Traceback" not in outcome.stderr
    [line] = outcome.stderr.strip().splitlines()
    assert line.startswith("rls-coach say: ") and path in line


def siblings(path: Path) -> set[str]:
    return {entry.name for entry in path.parent.iterdir()}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["directory", "text file"])
def test_a_store_url_naming_a_directory_or_a_text_file_is_refused_in_one_line(tmp_path, kind):
    target = tmp_path / "store"
    if kind == "directory":
        target.mkdir()
    else:
        target.write_text("root:x:0:0:root:/root:/bin/bash\n")
    before = siblings(target)
    outcome = run("say", "--store", f"sqlite:///{target}", "open", cwd=tmp_path)
    assert_one_line_refusal(outcome, str(target))
    assert siblings(target) == before  # no -wal, -shm or -journal beside it
    if kind == "text file":
        assert target.read_text() == "root:x:0:0:root:/root:/bin/bash\n"


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/dev/null", "/proc/self/mem", "/etc/passwd"])
def test_a_store_url_naming_a_system_file_is_refused_and_creates_nothing(tmp_path, path):
    if not Path(path).exists():
        pytest.skip(f"{path} does not exist here")
    before = siblings(Path(path))
    outcome = run("say", "--store", f"sqlite:///{path}", "open", cwd=tmp_path)
    assert_one_line_refusal(outcome, path)
    assert siblings(Path(path)) == before
