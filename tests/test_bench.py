"""``python -m bench`` runs end to end (a quick smoke run) and reports what it promises.

No figure is judged here (speed belongs to the benchmark's own table): these tests only keep the
benchmark runnable through the coach's public entry points, its JSON complete, and its table, with
every row and column, written where the docs expect it.
"""

from __future__ import annotations

import json

import pytest

from bench.run import TABLE_BEGIN, TABLE_COLUMNS, TABLE_END, main

ROWS = (
    "turn latency in process, p50",
    "turn latency in process, p99",
    "webhook throughput, 4 users",
    "webhook latency under load, p99 (4 users)",
    "peak memory, webhook process",
    "Lambda cold start to first answer",
    "peak memory, Lambda process (8 turns)",
)


@pytest.mark.slow
def test_a_quick_run_measures_every_side_and_writes_the_table(tmp_path, capsys):
    output = tmp_path / "latest.json"
    docs = tmp_path / "benchmarks.md"
    readme = tmp_path / "README.md"
    for page in (docs, readme):
        page.write_text(f"# Benchmarks\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nMore text.\n")
    arguments = ["--quick", "--output", str(output), "--docs", str(docs), "--docs", str(readme)]
    assert main(arguments) == 0

    report = json.loads(output.read_text())
    assert [figure["measure"] for figure in report["figures"]] == list(ROWS)
    for figure in report["figures"]:
        for side in ("ours", "peer", "floor"):
            assert figure[side][figure["statistic"]] > 0
        assert figure["ratio"] > 0 and figure["target"] and figure["met"] in (True, False)
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]

    printed = capsys.readouterr().out
    for page_text in (printed, docs.read_text(), readme.read_text()):
        lines = [line for line in page_text.splitlines() if line.startswith("|")]
        assert lines[0] == "| " + " | ".join(TABLE_COLUMNS) + " |"
        assert [line.split(" | ")[0].removeprefix("| ") for line in lines[2:]] == list(ROWS)
        assert all(line.count(" | ") == len(TABLE_COLUMNS) - 1 for line in lines)
    for page in (docs, readme):
        text = page.read_text()
        assert "old table" not in text and "More text." in text


def test_an_unknown_section_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "latency,speed"])
    assert exit_info.value.code == 2
    assert "unknown section(s) speed" in capsys.readouterr().err
