"""The phrasing corpus (``tests/phrasings/``), read and reported.

``python -m coach_dev.corpus_report [FILE]`` prints, for the held-out part of the corpus by default
(``en-US-heldout.yaml``, lines never turned into samples): by intent, how many lines match a
sample of that intent exactly, how many reach another intent, and how many match nothing (Alexa
would send AMAZON.FallbackIntent); then, for every line that reaches the coach as free words,
which step of the interpretation order (:mod:`skill.understand`) answers it, and where one
sentence held two requests, which step the second is offered by.

A corpus file maps an intent to its lines, ``what they say | slot=id … | a word the answer must
contain``. A key may carry a label after the intent's name ("PainIntent mid-routine") to keep
keys apart, and a block may be ``{after: [...], at: "HH:MM", say: [...]}``: said after those
turns of the same session, at that local time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coach_dev.chat import load_model
from coach_dev.model import PROJECT_ROOT
from coach_dev.nlu import SEARCH_QUERY_TYPE, Resolution
from skill.advice import read_clock
from skill.catalog.loader import default_catalog
from skill.handlers.free_text import free_words
from skill.understand import interpret, two_requests

CORPUS_DIR = PROJECT_ROOT / "tests" / "phrasings"
CORPUS = CORPUS_DIR / "en-US.yaml"
HELDOUT = CORPUS_DIR / "en-US-heldout.yaml"
FALLBACK = "AMAZON.FallbackIntent"
# The slot a named intent may carry words in that are not what it asks for (no clock time).
LOOSE_SLOTS = {"SetBedtimeIntent": "bedtime"}


@dataclass(frozen=True)
class Line:
    """One corpus line: the intent it means (and its key's label), what is said, the slot ids it
    must resolve to, the word its answer must contain, and the turns and local time before it."""

    intent: str
    said: str
    slots: Mapping[str, str]
    word: str
    after: tuple[str, ...] = ()
    at: dt.time | None = None
    label: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        return f"{self.intent}: {self.said}"


class CorpusError(ValueError):
    """A corpus file that cannot be read; the message names the file and the line."""


def load_corpus(path: Path = CORPUS) -> list[Line]:
    """Every line of a corpus file, in order."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CorpusError(f"{path}: {error}") from error
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: expected intents mapped to lines")
    lines = []
    for key, entry in data.items():
        intent, _, label = str(key).partition(" ")
        after: Sequence[str] = ()
        at = None
        if isinstance(entry, dict):
            after, said_lines = entry.get("after", ()), entry.get("say", [])
            if entry.get("at"):
                at = dt.time.fromisoformat(str(entry["at"]))
        else:
            said_lines = entry
        for text in said_lines or ():
            parts = [part.strip() for part in str(text).split("|")]
            if len(parts) != 3 or not parts[0] or not parts[2]:
                raise CorpusError(f"{path}: {key}: '{text}' is not 'said | slots | word'")
            said, slots, word = parts
            pairs = dict(pair.split("=", 1) for pair in slots.split())
            lines.append(Line(intent, said, pairs, word, tuple(after), at, label))
    return lines


def free_words_of(resolution: Resolution | None) -> str | None:
    """The words a line hands the coach to interpret, if it reaches a free-text slot (or a
    bedtime slot with no clock time in it): with the carrier's opening word put back."""
    if resolution is None:
        return None
    for name, slot_type in resolution.slot_types.items():
        if slot_type == SEARCH_QUERY_TYPE:
            return free_words(resolution.intent, resolution.slots[name].words)
    loose = LOOSE_SLOTS.get(resolution.intent)
    if loose and loose in resolution.slots and read_clock(resolution.slots[loose].words) is None:
        return resolution.slots[loose].words
    return None


def step_of(catalog: Any, words: str, *, guiding: bool) -> str:
    """Which step of the interpretation order answers ``words`` (and offers a second request)."""
    reading = interpret(catalog, words, guiding=guiding)
    if reading is None:
        return "nothing (not understood)"
    said = f"{reading.step} (heard '{reading.heard}')"
    split = None if guiding or reading.step == "safety" else two_requests(catalog, words)
    if split is not None and (first := interpret(catalog, split.first)) is not None:
        second = split.second_reading
        said = f"{first.step} (heard '{first.heard}'), then offered: {second.step}"
    return said


def report(lines: Sequence[Line], model: Any, catalog: Any) -> str:
    """The coverage table by intent, then the step that answered each free-text line."""
    by_intent: dict[str, Counter[str]] = defaultdict(Counter)
    reached: dict[str, Counter[str]] = defaultdict(Counter)
    free: list[tuple[Line, str, str]] = []
    for line in lines:
        resolution = model.resolve(line.said)
        got = resolution.intent if resolution else FALLBACK
        counts = by_intent[line.intent]
        counts["lines"] += 1
        if got == line.intent:
            counts["exact"] += 1
        elif got == FALLBACK:
            counts["fallback"] += 1
        else:
            counts["other"] += 1
            reached[line.intent][got] += 1
        words = free_words_of(resolution)
        if words is not None:
            free.append((line, got, step_of(catalog, words, guiding=bool(line.after))))
    out = ["Exact-match coverage by intent (a sample of that very intent matches the line):", ""]
    out.append(f"  {'intent':<28} {'lines':>5} {'exact':>6} {'other':>6} {'none':>5}   reached")
    total = Counter[str]()
    for intent in sorted(by_intent):
        counts = by_intent[intent]
        total.update(counts)
        share = 100 * counts["exact"] // counts["lines"]
        others = ", ".join(f"{name} {n}" for name, n in reached[intent].most_common())
        out.append(
            f"  {intent:<28} {counts['lines']:>5} {counts['exact']:>4}{share:>3}% "
            f"{counts['other']:>5} {counts['fallback']:>5}   {others}"
        )
    share = 100 * total["exact"] // max(total["lines"], 1)
    out.append(
        f"  {'all':<28} {total['lines']:>5} {total['exact']:>4}{share:>3}% "
        f"{total['other']:>5} {total['fallback']:>5}"
    )
    out += ["", f"Free words ({len(free)} lines): the interpretation step that answers each"]
    steps = Counter(step.split(" ")[0] for _, _, step in free)
    out.append("  " + ", ".join(f"{step} {n}" for step, n in steps.most_common()))
    out.append("")
    for line, got, step in free:
        where = " (mid-routine)" if line.after else ""
        out.append(f"  {line.said!r}{where} → {got} → {step}")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m coach_dev.corpus_report",
        description="Coverage of a phrasing corpus by the en-US model, and which step of the "
        "interpretation order answers each free-text line.",
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=HELDOUT, help="a corpus file")
    args = parser.parse_args(argv)
    try:
        lines = load_corpus(args.corpus)
    except CorpusError as error:
        print(error, file=sys.stderr)
        return 2
    sys.stdout.write(report(lines, load_model("en-US"), default_catalog()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
