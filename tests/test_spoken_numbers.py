"""Spoken numbers come from a table generated from num2words, so serving never imports it; the
table must say exactly what num2words says, hold every number the catalog can lead to, and hand
anything else to num2words itself."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from skill.builder import build_skill
from skill.coach import spoken_numbers
from skill.coach.exercise_speech import estimated_minutes, number_words
from skill.coach.player import RoutinePlayer
from skill.records import replace
from skill.stores import MemoryAdapter
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
    long_step = replace(routine.steps[0], reps=150)
    longer = replace(routine, steps=(long_step, *routine.steps[1:]))
    edited = replace(catalog, routines={**catalog.routines, routine.id: longer})
    talk = Conversation(skill=build_skill(edited, MemoryAdapter(), settings), now=morning)
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert "one hundred and fifty" in reply.text
    assert "One," in reply.text
