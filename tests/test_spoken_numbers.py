"""Spoken numbers come from a table generated from num2words, so serving never imports it; the
table must say exactly what num2words says, hold every number the catalog can lead to, and hand
anything else to num2words itself."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from skill import spoken_numbers
from skill.builder import build_skill
from skill.coach import RoutinePlayer
from skill.exercise_speech import estimated_minutes, number_words
from skill.persistence import MemoryAdapter
from tests.support import Conversation

MORNING = ("morning stretches", "morning_stretches")
DAYS_IN_A_WEEK = 7


def test_every_entry_of_every_table_is_what_num2words_says():
    for language, table in spoken_numbers.TABLES.items():
        assert len(table) == spoken_numbers.TABLE_SIZE
        for number, words in enumerate(table):
            assert words == num2words(number, lang=language), (language, number)


def test_the_committed_table_is_what_the_generator_writes():
    assert spoken_numbers.generated_table("en") == spoken_numbers.ENGLISH


def test_every_number_the_catalog_can_lead_to_is_in_the_table(catalog):
    """Reps (counted and announced), a routine's steps and its minutes at every pace, days this
    week: if content grows past the table, num2words still speaks (slower); this says so."""
    needed = {DAYS_IN_A_WEEK}
    needed |= {exercise.reps.max for exercise in catalog.exercises.values()}
    for routine in catalog.routines.values():
        needed.add(len(routine.steps))
        needed |= {step.reps for step in routine.steps if step.reps is not None}
        for pace in catalog.rules.paces:
            player = RoutinePlayer(catalog, pace)
            needed.add(estimated_minutes(player.estimated_seconds(routine)))
    assert max(needed) < len(spoken_numbers.ENGLISH)


@given(st.integers(min_value=-(10**9), max_value=10**9) | st.booleans())
def test_any_count_is_said_as_num2words_says_it(number):
    assert number_words(number, "en") == num2words(number, lang="en")


def test_numbers_outside_the_table_and_other_types_go_to_num2words():
    for number in (101, 150, 1_000_000, -1, 5.0, 5.5, True):
        assert number_words(number, "en") == num2words(number, lang="en")  # type: ignore[arg-type]
    assert number_words(101, "en") == "one hundred and one"
    assert number_words(5.5, "en") == "five point five"  # type: ignore[arg-type]
    # A language without a table is num2words' all the way.
    assert number_words(21, "fr") == num2words(21, lang="fr") == "vingt et un"


def test_a_routine_step_of_more_reps_than_the_table_holds_is_still_counted(
    catalog, settings, morning
):
    routine = catalog.routines["morning_stretches"]
    long_step = dataclasses.replace(routine.steps[0], reps=150)
    longer = dataclasses.replace(routine, steps=(long_step, *routine.steps[1:]))
    edited = dataclasses.replace(catalog, routines={**catalog.routines, routine.id: longer})
    talk = Conversation(skill=build_skill(edited, MemoryAdapter(), settings), now=morning)
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert "one hundred and fifty" in reply.text
    assert "One," in reply.text


def test_a_routine_is_coached_without_importing_num2words_yaml_or_marshmallow(catalog):
    """(``catalog`` has made sure the snapshot matches this checkout.) A fresh process serving
    from the shipped snapshot: counted reps, the routine's length,
    "step two of three" and the days this week, all from the table."""
    probe = (
        "import datetime as dt, json, sys, zoneinfo\n"
        "from skill.builder import build_skill\n"
        "from skill.catalog import default_catalog\n"
        "from skill.persistence import MemoryAdapter\n"
        "from skill.settings import Settings\n"
        "from tests.support import Conversation\n"
        "settings = Settings(store_url='memory://', verify=False,"
        " default_timezone='America/New_York')\n"
        "now = dt.datetime(2026, 11, 17, 8, 15, tzinfo=zoneinfo.ZoneInfo('America/New_York'))\n"
        "talk = Conversation(skill=build_skill(default_catalog(), MemoryAdapter(), settings),"
        " now=now)\n"
        f"texts = [talk.one_shot('StartRoutineIntent', routine={MORNING!r}).text]\n"
        "for _ in range(40):\n"
        "    reply = talk.intent('AMAZON.NextIntent')\n"
        "    texts.append(reply.text)\n"
        "    if reply.ends_session:\n"
        "        break\n"
        "loaded = sorted(m for m in ('num2words', 'yaml', 'marshmallow') if m in sys.modules)\n"
        "print(json.dumps([texts, loaded]))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    texts, loaded = json.loads(completed.stdout)
    spoken = " ".join(texts)
    assert "One," in spoken and "Two," in spoken
    assert "exercises" in texts[0] and "minutes" in texts[0]
    assert "this week" in texts[-1]
    assert loaded == []
