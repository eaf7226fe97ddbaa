"""The phrasing corpus (tests/phrasings/en-US.yaml): how people really say things to the coach.

Each line must match a sample of the en-US interaction model exactly (the chat tool's matcher:
slot values from the slot types, nothing caught beside them), reach its intent with the catalog
ids it names, and get an answer with the expected word that is not "I didn't catch that": in
process, and over HTTP through virtual-alexa against the real webhook.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from coach_dev.chat import InProcessTransport, SimulatedDevice, load_model, stable_id, timestamp
from coach_dev.model import SEARCH_QUERY, model_file
from coach_dev.nlu import TIME_TYPE, Resolution
from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.handlers.free_text import free_words
from skill.stores import MemoryAdapter
from skill.understand import interpret
from tests.webhook_process import drive

CORPUS = Path(__file__).parent / "phrasings" / "en-US.yaml"
MODEL = model_file("en-US")
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-0000000c0a95"
# A Tuesday morning in New York (the webhook's time zone): a time to stretch, far from bedtime.
MORNING = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
BUILT_IN_WITHOUT_ROUTINE = ("AMAZON.YesIntent", "AMAZON.NoIntent")


@dataclass(frozen=True)
class Case:
    intent: str
    said: str
    slots: dict[str, str]
    word: str
    after: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.intent}: {self.said}"


def load_corpus(path: Path = CORPUS) -> list[Case]:
    cases = []
    for intent, entry in yaml.safe_load(path.read_text(encoding="utf-8")).items():
        after, lines = ((), entry) if isinstance(entry, list) else (entry["after"], entry["say"])
        for line in lines:
            said, slots, word = (part.strip() for part in line.split("|"))
            pairs = dict(pair.split("=", 1) for pair in slots.split())
            cases.append(Case(intent, said, pairs, word, tuple(after)))
    return cases


CASES = load_corpus()
FALLBACKS = tuple(
    re.sub(r"\{[^}]*\}.*", "", text)
    for key in ("common.fallback", "routine.fallback_routine")
    for text in default_catalog().phrases(key)
)


def speech_text(response: dict[str, Any] | None) -> str:
    ssml = ((response or {}).get("response") or {}).get("outputSpeech", {}).get("ssml", "")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", ssml)).split())


def answer_problems(case: Case, text: str) -> list[str]:
    problems = []
    if case.word.lower() not in text.lower():
        problems.append(f"the answer does not say '{case.word}': {text[:160]!r}")
    if any(text.startswith(fallback) for fallback in FALLBACKS):
        problems.append(f"the answer is a fallback: {text[:100]!r}")
    return problems


def reading_problems(case: Case, said: Resolution | None) -> list[str]:
    """The model's reading of the line: its intent, and every slot a value with the named id."""
    if said is None:
        return ["no sample matches"]
    if said.intent != case.intent:
        return [f"matched {said.intent} (sample '{said.sample}')"]
    problems = []
    for name, match in said.slots.items():
        slot_type = said.slot_types.get(name, "")
        if slot_type == SEARCH_QUERY:
            # The entry the coach's interpretation finds in the words (skill.understand).
            reading = interpret(default_catalog(), free_words(case.intent, match.words))
            got = (reading.found.id if reading.found else reading.topic) if reading else None
        elif slot_type == TIME_TYPE or slot_type.startswith("AMAZON."):
            got = match.words
        else:
            got = match.id
            if got is None:
                problems.append(f"slot {name} caught '{match.words}', which is no {slot_type}")
        if name in case.slots and got != case.slots[name]:
            problems.append(f"slot {name}: expected {case.slots[name]}, got {got}")
    for name in set(case.slots) - set(said.slots):
        problems.append(f"slot {name} is empty (sample '{said.sample}')")
    return problems


def adjacent_slots(said: Resolution | None) -> bool:
    """Whether the matched sample has two slots side by side ("can I {activity} {when}"), which
    virtual-alexa's regular expressions cannot split."""
    return bool(said and said.sample and re.search(r"\}\s*\{", said.sample))


# ---- the corpus itself -------------------------------------------------------------------------


def test_the_corpus_covers_every_intent(catalog):
    counts = Counter(case.intent for case in CASES)
    expected = {*catalog.phrasings.intents}
    expected |= {f"AMAZON.{n}Intent" for n in ("Next", "Previous", "Pause", "Resume", "Repeat")}
    expected |= {f"AMAZON.{n}Intent" for n in ("StartOver", "Help", "Stop", "Cancel", "Yes", "No")}
    thin = {i: counts[i] for i in expected if counts[i] < (10 if "." not in i else 4)}
    assert thin == {}, "intents with too few phrasings in the corpus"
    assert len(CASES) >= 300


def test_no_line_is_listed_twice():
    counts = Counter(case.said.lower() for case in CASES)
    assert [said for said, n in counts.items() if n > 1] == []


# ---- through the model's matcher and the skill, in process -------------------------------------


def test_every_line_matches_a_sample_and_gets_its_answer(settings):
    model = load_model("en-US")
    skill = build_skill(default_catalog(), MemoryAdapter(), settings)
    failures = []
    for number, case in enumerate(CASES):
        problems = reading_problems(case, model.resolve(case.said))
        if not problems:
            device = SimulatedDevice(
                transport=InProcessTransport(skill),
                model=model,
                user=f"corpus-{number}",
                skill_id=SKILL_ID,
                clock=lambda: MORNING,
            )
            device.launch()
            for turn in case.after:
                device.say(turn)
            exchange = device.say(case.said)
            assert exchange is not None
            problems = answer_problems(case, speech_text(exchange.response))
        failures += [f"{case.name}: {problem}" for problem in problems]
    assert failures == [], "\n".join(failures)


# ---- over HTTP: virtual-alexa builds the requests, the real webhook answers --------------------


@pytest.mark.slow
def test_every_line_through_virtual_alexa_and_the_webhook(webhook):
    model = load_model("en-US")
    cases = [case for case in CASES if not adjacent_slots(model.resolve(case.said))]
    steps: list[dict[str, Any]] = []
    said_at: list[int] = []
    for number, case in enumerate(cases):
        user = stable_id("amzn1.ask.account.", "user", f"va-corpus-{number}-{MORNING}")
        at = timestamp(MORNING)
        steps.append({"action": "launch", "timestamp": at, "userId": user})
        steps += [{"action": "say", "text": turn, "timestamp": at} for turn in case.after]
        said_at.append(len(steps))
        steps.append({"action": "say", "text": case.said, "timestamp": at})
    plan = {
        "skillUrl": webhook.url,
        "model": str(MODEL),
        "locale": "en-US",
        "applicationId": SKILL_ID,
        "deviceId": "amzn1.ask.device.corpus",
        "steps": steps,
    }
    exchanges = {entry["step"]: entry for entry in drive(plan)["exchanges"]}
    failures = []
    for case, step in zip(cases, said_at, strict=True):
        entry = exchanges.get(step)
        if entry is None or "error" in entry:
            failures.append(f"{case.name}: not run ({(entry or {}).get('error', 'stopped')})")
            continue
        intent = entry["request"]["request"].get("intent", {}).get("name")
        problems = [] if intent == case.intent else [f"virtual-alexa sent {intent}"]
        problems += answer_problems(case, speech_text(entry["response"]))
        failures += [f"{case.name}: {problem}" for problem in problems]
    assert len(cases) >= 250
    assert failures == [], "\n".join(failures)
