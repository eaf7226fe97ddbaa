"""The catalog snapshot: the same catalog as a full load, used only for exactly the content and
code it was made from; anything else falls back to reading and checking the YAML."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skill import catalog_snapshot
from skill.catalog import CONTENT_DIR, CatalogError, default_catalog, load_catalog
from skill.catalog_snapshot import content_key, load_with_snapshot, read_snapshot, write_snapshot
from skill.records import replace

WELCOME_FILE = Path("speech") / "en" / "common.yaml"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, target)
    return target


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return tmp_path / "catalog.snapshot"


def reword_welcome(content: Path, words: str) -> None:
    path = content / WELCOME_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    (index,) = [n for n, line in enumerate(lines) if line.startswith("welcome:")]
    # One plain variant in place of whatever the key held (a string or a list below it).
    end = index + 1
    while end < len(lines) and lines[end].startswith((" ", "-")):
        end += 1
    lines[index:end] = [f"welcome: {words}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_snapshot_gives_the_catalog_a_full_load_gives(content, snapshot):
    first = load_with_snapshot(content, snapshot)
    assert read_snapshot(snapshot, content_key(content)) is not None
    again = load_with_snapshot(content, snapshot)
    assert again == first == load_catalog(content)
    assert again.directory == content
    assert again.phrases("common.welcome") == load_catalog(content).phrases("common.welcome")


def test_changed_content_is_read_again_not_taken_from_the_snapshot(content, snapshot):
    load_with_snapshot(content, snapshot)
    reword_welcome(content, "Hello from the edited content.")
    catalog = load_with_snapshot(content, snapshot)
    assert catalog.phrases("common.welcome") == ("Hello from the edited content.",)
    # ... and the new snapshot now serves the edited content.
    assert load_with_snapshot(content, snapshot).phrases("common.welcome") == (
        "Hello from the edited content.",
    )


def test_broken_content_fails_even_with_a_snapshot_of_the_good_content(content, snapshot):
    load_with_snapshot(content, snapshot)
    (content / "rules.yaml").unlink()
    with pytest.raises(CatalogError, match=r"rules\.yaml"):
        load_with_snapshot(content, snapshot)


def test_a_damaged_snapshot_is_ignored_and_replaced(content, snapshot, caplog):
    snapshot.write_bytes(b"not a pickle at all")
    assert load_with_snapshot(content, snapshot) == load_catalog(content)
    assert "ignoring the unreadable catalog snapshot" in caplog.text
    assert read_snapshot(snapshot, content_key(content)) is not None


def test_a_snapshot_that_cannot_be_written_only_costs_the_full_load(content, tmp_path):
    unwritable = tmp_path / "no-such-directory" / "catalog.snapshot"
    assert load_with_snapshot(content, unwritable) == load_catalog(content)
    assert not unwritable.exists()


def test_a_fresh_process_with_a_current_snapshot_reads_no_yaml():
    default_catalog()  # makes sure the shipped snapshot matches this checkout
    probe = (
        "import json, sys\n"
        "from skill.catalog import default_catalog\n"
        "catalog = default_catalog()\n"
        "print(json.dumps([catalog.phrases('common.welcome'),"
        " sorted(m for m in ('yaml', 'marshmallow', 'pickle') if m in sys.modules)]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    welcome, imported = json.loads(completed.stdout)
    assert tuple(welcome) == load_catalog().phrases("common.welcome")
    assert imported == []


def test_the_snapshot_keeps_every_value_and_type_the_full_load_has(content, snapshot):
    full = load_catalog(content)
    load_with_snapshot(content, snapshot)
    again = read_snapshot(snapshot, content_key(content))

    def walk(a: object, b: object) -> None:
        assert type(a) is type(b)
        if isinstance(a, tuple | list):
            assert len(a) == len(b)  # type: ignore[arg-type]
            for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
                walk(x, y)
        elif isinstance(a, dict):
            assert list(a) == list(b)  # type: ignore[call-overload]
            for key in a:
                walk(a[key], b[key])  # type: ignore[index]
        elif hasattr(a, "__dict__") and not isinstance(a, Path):
            walk(vars(a), vars(b))
        else:
            assert a == b

    walk(full, again)


def test_a_snapshot_that_names_anything_but_a_catalog_record_is_ignored(content, snapshot, caplog):
    import marshal

    key = content_key(content)
    for plain in (["CatalogError", ()], ["load_catalog"], ["Source", "a", "b"], ("not", "a")):
        snapshot.write_bytes(marshal.dumps((key, plain)))
        assert read_snapshot(snapshot, key) is None
    assert "ignoring" in caplog.text
    assert load_with_snapshot(content, snapshot) == load_catalog(content)


def test_a_catalog_the_snapshot_cannot_hold_is_simply_not_snapshotted(content, snapshot, caplog):
    odd = replace(load_catalog(content), speech={"en": {"odd.key": {1.5j}}})
    assert not write_snapshot(snapshot, content_key(content), odd)
    assert not snapshot.exists()
    assert "cannot hold" in caplog.text
    assert catalog_snapshot.FORMAT.startswith(b"rls-coach catalog snapshot 2")
