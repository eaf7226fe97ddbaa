"""``rls-coach preview ROUTINE|EXERCISE [--pace P]``: the whole spoken script, before any device.

An author hears what the coach will say: the routine (or guided exercise) is started in a skill
built in this process from the content being previewed, and "next" is said after every part until
it ends, asks a question or stops guiding (a single exercise is done when its last set is spoken;
the coach then asks what else, and "next" means nothing there). Each part is printed as Alexa
would speak it, pauses shown as "(3 s)", with its length in characters and its rough duration, so
a part that runs too long or a pause that is too short shows up on the page. Nothing is stored:
the skill runs on a memory store.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from coach_dev.alexa_response import output_text
from coach_dev.chat import InProcessTransport, InteractionModel, SimulatedDevice
from coach_dev.model import build_language_model
from skill.builder import build_skill
from skill.catalog.loader import load_catalog
from skill.catalog.model import CONTENT_DIR, Catalog
from skill.handlers.guiding import GUIDING_KEY
from skill.settings import Settings
from skill.stores.memory import MemoryAdapter
from skill.turn import OFFER_KEY

# A weekday mid-morning, far from any bedtime, so that nothing is refused for the time of day.
PREVIEW_MOMENT = dt.datetime(2026, 11, 17, 10, 0, tzinfo=ZoneInfo("UTC"))
WORDS_PER_SECOND = 2.6  # Alexa's speaking rate, roughly 155 words a minute
MAX_PARTS = 80  # a runaway script (a "next" that never ends it) stops here
PAUSE = re.compile(r"\((\d+(?:\.\d+)?) s\)")


class PreviewError(Exception):
    """What to preview cannot be found; the message names what can be."""


def find_target(catalog: Catalog, words: str) -> tuple[str, str, str]:
    """(intent, slot, id) for a routine or exercise named by id, name or synonym."""
    wanted = " ".join(words.lower().replace("_", " ").split())
    for intent, slot, entries in (
        ("StartRoutineIntent", "routine", catalog.routines),
        ("GuideExerciseIntent", "exercise", catalog.exercises),
    ):
        for entry in entries.values():
            names = (entry.id.replace("_", " "), entry.name, *entry.synonyms)
            if wanted in (" ".join(n.lower().split()) for n in names):
                return intent, slot, entry.id
    known = sorted([*catalog.routines, *catalog.exercises])
    raise PreviewError(f"no routine or exercise called '{words}'; try one of: {', '.join(known)}")


def seconds_spoken(text: str) -> float:
    """Roughly how long a part takes: its pauses plus its words at Alexa's pace."""
    pauses = sum(float(seconds) for seconds in PAUSE.findall(text))
    words = len(PAUSE.sub(" ", text).split())
    return pauses + words / WORDS_PER_SECOND


def preview(
    target: str,
    *,
    pace: str = "normal",
    content: Path | None = None,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    catalog = load_catalog(content or CONTENT_DIR)
    intent, slot, entry_id = find_target(catalog, target)
    paces = [p.id for p in catalog.rules.paces]
    if pace not in paces:
        raise PreviewError(f"no pace called '{pace}'; the paces are: {', '.join(paces)}")
    skill = build_skill(catalog, MemoryAdapter(), Settings(store_url="memory://", verify=False))
    device = SimulatedDevice(
        transport=InProcessTransport(skill, "preview"),
        model=InteractionModel(build_language_model(catalog)),
        user="preview",
        clock=lambda: PREVIEW_MOMENT,
    )
    # The pace is the user's own setting: say "slow down" or "speed up" until it is the one asked.
    steps = paces.index(pace) - paces.index("normal")
    for _ in range(abs(steps)):
        device.intent("SpeedUpIntent" if steps > 0 else "SlowDownIntent")
    name = (catalog.routines.get(entry_id) or catalog.exercises[entry_id]).name
    print(f"Preview of the {name}, at the {pace} pace.", file=out)
    exchange = device.intent(intent, {slot: (name, entry_id)})
    total = 0.0
    for number in range(1, MAX_PARTS + 1):
        response = exchange.response.get("response") or {}
        text = output_text(response.get("outputSpeech"))
        seconds = seconds_spoken(text)
        total += seconds
        print(f"\n── part {number}: {len(text)} characters, about {seconds:.0f} s ──", file=out)
        print(text, file=out)
        if response.get("shouldEndSession") is not False:
            break
        session = exchange.response.get("sessionAttributes") or {}
        if not session.get(GUIDING_KEY):
            # Done: a guided exercise ends with "anything else?", where "next" means nothing.
            break
        if session.get(OFFER_KEY):
            # A yes-or-no question (the one-time reminder offer after a first routine) is where
            # the script ends: "next" is not an answer to it.
            print("   [a yes-or-no question: the script ends here]", file=out)
            break
        print("   [the user says: next]", file=out)
        exchange = device.intent("AMAZON.NextIntent")
    print(f"\nIn all about {total / 60:.1f} minutes.", file=out)
    return 0
