"""``python -m bench`` runs end to end (a quick smoke run) and reports what it promises.

No figure is judged here (speed belongs to the benchmark's own table): these tests only keep the
benchmark runnable, its JSON complete and its table written where the docs expect it.
"""

from __future__ import annotations

import json

import pytest

from bench.run import TABLE_BEGIN, TABLE_END, main


def test_a_quick_run_reports_every_turn_and_verification_as_ratios(tmp_path, capsys):
    output = tmp_path / "latest.json"
    docs = tmp_path / "benchmarks.md"
    readme = tmp_path / "README.md"
    for page in (docs, readme):
        page.write_text(f"# Benchmarks\n\n{TABLE_BEGIN}\nold table\n{TABLE_END}\n\nMore text.\n")
    arguments = ["--quick", "--only", "latency,verification", "--output", str(output)]
    assert main([*arguments, "--docs", str(docs), "--docs", str(readme)]) == 0

    report = json.loads(output.read_text())
    measures = [figure["measure"] for figure in report["figures"]]
    for turn in ("launch", "start routine", "next", "can-I question", "bedtime tips"):
        assert f"turn latency: {turn}" in measures
    assert "verification per request, chain cached" in measures
    for figure in report["figures"]:
        assert figure["ours"]["p50"] > 0 and figure["baseline"]["p50"] > 0
        assert figure["ratio"] > 0 and figure["target"]
    assert report["machine"]["nproc"] >= 1 and report["machine"]["python"]

    printed = capsys.readouterr().out
    assert "| measure |" in printed and "turn latency: next" in printed
    for page in (docs, readme):
        text = page.read_text()
        assert "old table" not in text and "More text." in text
        assert "turn latency: bedtime tips" in text.split(TABLE_BEGIN)[1].split(TABLE_END)[0]


def test_an_unknown_section_is_refused_by_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--only", "latency,speed"])
    assert exit_info.value.code == 2
    assert "unknown section(s) speed" in capsys.readouterr().err
