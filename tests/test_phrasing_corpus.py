"""The phrasing corpus (tests/phrasings/): how people really say things to the coach.

``en-US.yaml``: each line must match a sample of the en-US interaction model exactly (the chat
tool's matcher: slot values from the slot types, nothing caught beside them), reach its intent
with the catalog ids it names, and get an answer with the expected word that is not "I didn't
catch that": in process, and over HTTP through virtual-alexa against the real webhook.

``en-US-heldout.yaml``: lines never turned into samples (none may be one), which measure how far
the model and the coach's reading of free words reach beyond the samples. Each must reach some
intent (never AMAZON.FallbackIntent, which carries no words) and get an answer with its word that
is neither the fallback nor "I'm not sure I can help with that"; ``python -m
coach_dev.corpus_report`` prints its exact-match coverage by intent and the step of the
interpretation order that answered each free-text line.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from typing import Any

import pytest

from coach_dev.chat import InProcessTransport, SimulatedDevice, load_model, stable_id, timestamp
from coach_dev.corpus_report import CORPUS, HELDOUT, Line, load_corpus, report
from coach_dev.corpus_report import main as corpus_report_main
from coach_dev.model import SEARCH_QUERY, model_file
from coach_dev.nlu import TIME_TYPE, Resolution, recognized
from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.handlers.free_text import free_words
from skill.stores import MemoryAdapter
from skill.understand import interpret
from tests.conftest import NEW_YORK
from tests.webhook_process import drive

MODEL = model_file("en-US")
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-0000000c0a95"
# A Tuesday morning in New York (the webhook's time zone): a time to stretch, far from bedtime.
MORNING = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
BUILT_IN_WITHOUT_ROUTINE = ("AMAZON.YesIntent", "AMAZON.NoIntent")
Case = Line


def moment_of(case: Case) -> dt.datetime:
    """When a line is said: its block's local time in New York on the corpus's day, or the
    morning."""
    if case.at is None:
        return MORNING
    local = dt.datetime.combine(MORNING.astimezone(NEW_YORK).date(), case.at, tzinfo=NEW_YORK)
    return local.astimezone(dt.UTC)


CASES = load_corpus(CORPUS)
HELD_OUT = load_corpus(HELDOUT)
FALLBACKS = tuple(
    re.sub(r"\{[^}]*\}.*", "", text)
    for key in ("common.fallback", "routine.fallback_routine")
    for text in default_catalog().phrases(key)
)
# For a held-out line, "I'm not sure I can help with that one" is as much a miss as the fallback.
NOT_FOUND = tuple(
    re.sub(r"\{[^}]*\}.*", "", t) for t in default_catalog().phrases("answers.not_found")
)


def speech_text(response: dict[str, Any] | None) -> str:
    ssml = ((response or {}).get("response") or {}).get("outputSpeech", {}).get("ssml", "")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", ssml)).split())


def answer_problems(case: Case, text: str, misses: tuple[str, ...] = FALLBACKS) -> list[str]:
    problems = []
    if case.word.lower() not in text.lower():
        problems.append(f"the answer does not say '{case.word}': {text[:160]!r}")
    if any(miss in text for miss in misses):
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


def answers_in_process(settings, cases: list[Case], model: Any) -> list[tuple[Case, str]]:
    """Each line said to the skill in process (after its block's turns, at its time): the
    line and the answer's text."""
    skill = build_skill(default_catalog(), MemoryAdapter(), settings)
    answers = []
    for number, case in enumerate(cases):
        device = SimulatedDevice(
            transport=InProcessTransport(skill),
            model=model,
            user=f"corpus-{number}-{case.intent}",
            skill_id=SKILL_ID,
            clock=lambda case=case: moment_of(case),
        )
        device.launch()
        for turn in case.after:
            device.say(turn)
        exchange = device.say(case.said)
        assert exchange is not None
        answers.append((case, speech_text(exchange.response)))
    return answers


def test_every_line_matches_a_sample_and_gets_its_answer(settings):
    model = load_model("en-US")
    failures = []
    readable = []
    for case in CASES:
        problems = reading_problems(case, model.resolve(case.said))
        failures += [f"{case.name}: {problem}" for problem in problems]
        if not problems:
            readable.append(case)
    for case, text in answers_in_process(settings, readable, model):
        failures += [f"{case.name}: {problem}" for problem in answer_problems(case, text)]
    assert failures == [], "\n".join(failures)


# ---- the held-out part: never samples, and still understood ----------------------------------


def test_the_corpus_has_grown_and_keeps_a_held_out_part():
    lines = sum(len(path.read_text(encoding="utf-8").splitlines()) for path in (CORPUS, HELDOUT))
    assert lines >= 1200
    assert len(HELD_OUT) >= 300
    said = Counter(case.said.lower() for case in HELD_OUT)
    assert [line for line, n in said.items() if n > 1] == []
    assert not {case.said.lower() for case in CASES} & set(said), "a held-out line is a sample's"


def test_no_held_out_line_is_a_sample():
    """Held-out lines measure what the samples do not hold: none is verbatim a sample."""
    language = json.loads(MODEL.read_text(encoding="utf-8"))["interactionModel"]["languageModel"]
    samples = {
        " ".join(sample.lower().split())
        for intent in language["intents"]
        for sample in intent.get("samples", ())
    }
    held_out = {" ".join(re.sub(r"[^a-z0-9' ]", " ", c.said.lower()).split()) for c in HELD_OUT}
    assert len(samples) > 1000
    assert sorted(held_out & samples) == []


def test_every_held_out_line_reaches_an_intent_and_gets_its_answer(settings):
    model = load_model("en-US")
    failures = [f"{c.name}: no sample matches (AMAZON.FallbackIntent)" for c in HELD_OUT
                if model.resolve(c.said) is None]  # fmt: skip
    reached = [case for case in HELD_OUT if model.resolve(case.said) is not None]
    for case, text in answers_in_process(settings, reached, model):
        problems = answer_problems(case, text, FALLBACKS + NOT_FOUND)
        failures += [f"{case.name}: {problem}" for problem in problems]
    assert failures == [], "\n".join(failures)


def test_the_report_runs_as_a_command(capsys):
    assert corpus_report_main([]) == 0
    assert "Exact-match coverage by intent" in capsys.readouterr().out
    assert corpus_report_main(["no-such-corpus.yaml"]) == 2
    assert "no-such-corpus.yaml" in capsys.readouterr().err


def test_the_report_shows_coverage_by_intent_and_the_step_of_each_free_text_line(catalog):
    text = report(HELD_OUT, load_model("en-US"), catalog)
    assert "Exact-match coverage by intent" in text
    assert re.search(r"^  PainIntent +\d+ +\d+ +\d+%", text, re.MULTILINE)
    assert "'my chest feels tight' → SayingIntent → safety" in text
    assert "(mid-routine) → WhatIntent → this_exercise" in text


# ---- over HTTP: virtual-alexa builds the requests, the real webhook answers --------------------


def through_virtual_alexa(webhook: Any, cases: list[Case]) -> list[tuple[Case, dict | None]]:
    """Every case said through virtual-alexa to the real webhook, in one run (a launch, the
    block's turns, then the line, each as its own user): each case with its exchange."""
    steps: list[dict[str, Any]] = []
    said_at: list[int] = []
    for number, case in enumerate(cases):
        at = timestamp(moment_of(case))
        user = stable_id("amzn1.ask.account.", "user", f"va-corpus-{number}-{case.name}-{at}")
        steps.append({"action": "launch", "timestamp": at, "userId": user})
        steps += [{"action": "say", "text": turn, "timestamp": at} for turn in case.after]
        said_at.append(len(steps))
        # As speech recognition hands it on: without "um" or "er".
        steps.append({"action": "say", "text": recognized(case.said), "timestamp": at})
    plan = {
        "skillUrl": webhook.url,
        "model": str(MODEL),
        "locale": "en-US",
        "applicationId": SKILL_ID,
        "deviceId": "amzn1.ask.device.corpus",
        "steps": steps,
    }
    exchanges = {entry["step"]: entry for entry in drive(plan)["exchanges"]}
    return [(case, exchanges.get(step)) for case, step in zip(cases, said_at, strict=True)]


def va_problems(entry: dict | None, intent: str | None) -> tuple[str | None, list[str]]:
    """The intent virtual-alexa sent, or the reason the step did not run."""
    if entry is None or "error" in entry:
        return None, [f"not run ({(entry or {}).get('error', 'stopped')})"]
    return entry["request"]["request"].get("intent", {}).get("name"), []


def va_can_say(said: Resolution) -> bool:
    """virtual-alexa can send this reading: no two slots side by side, no AMAZON.TIME (which it
    does not normalise), and every catalog slot holds one of its values."""
    kinds = said.slot_types
    catalog_slots = [name for name, kind in kinds.items() if not kind.startswith("AMAZON.")]
    return (
        not adjacent_slots(said)
        and TIME_TYPE not in kinds.values()
        and all(said.slots[n].id is not None for n in catalog_slots)
    )


@pytest.mark.slow
def test_every_line_through_virtual_alexa_and_the_webhook(webhook):
    model = load_model("en-US")
    cases = [case for case in CASES if not adjacent_slots(model.resolve(case.said))]
    failures = []
    for case, entry in through_virtual_alexa(webhook, cases):
        intent, problems = va_problems(entry, case.intent)
        if not problems:
            problems = [] if intent == case.intent else [f"virtual-alexa sent {intent}"]
            problems += answer_problems(case, speech_text(entry["response"]))
        failures += [f"{case.name}: {problem}" for problem in problems]
    assert len(cases) >= 250
    assert failures == [], "\n".join(failures)


@pytest.mark.slow
def test_every_held_out_line_through_virtual_alexa_and_the_webhook(webhook):
    """The held-out lines virtual-alexa can say: it matches samples by its own rules, and words
    in a catalog slot that are no value of it (which Alexa sends, unresolved) become its
    AMAZON.FallbackIntent; so those lines, and samples with two slots side by side, are left to
    the in-process test. Each line sent must reach an intent and get its answer over HTTP."""
    model = load_model("en-US")
    cases = [c for c in HELD_OUT if (r := model.resolve(c.said)) and va_can_say(r)]
    failures = []
    for case, entry in through_virtual_alexa(webhook, cases):
        intent, problems = va_problems(entry, None)
        if not problems:
            if intent in (None, "AMAZON.FallbackIntent"):
                problems = [f"virtual-alexa sent {intent}"]
            problems += answer_problems(case, speech_text(entry["response"]), FALLBACKS + NOT_FOUND)
        failures += [f"{case.name}: {problem}" for problem in problems]
    assert len(cases) >= 250
    assert failures == [], "\n".join(failures)
