"""Numbers are spoken as num2words says them, from the table generated from it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from coach_dev.numbers import MAX_SPOKEN, TABLE, table_text
from skill.builder import build_skill
from skill.coach.exercise_speech import SPOKEN_NUMBERS, number_words
from skill.stores import MemoryAdapter
from tests.support import Conversation

MORNING = ("morning stretches", "morning_stretches")


def test_the_committed_table_is_what_num2words_says_today():
    assert TABLE.read_text(encoding="utf-8") == table_text(), (
        "skill/coach/spoken_numbers.json is out of date: run python -m coach_dev.numbers"
    )
    assert set(SPOKEN_NUMBERS) == {"en"}  # every language the speech content has


@given(st.integers(min_value=0, max_value=MAX_SPOKEN))
def test_every_count_in_the_table_is_said_as_num2words_says_it(number):
    assert number_words(number, "en") == num2words(number, lang="en")


@given(st.integers(min_value=MAX_SPOKEN + 1, max_value=10**9))
def test_a_count_past_the_table_is_said_in_digits(number):
    assert number_words(number, "en") == str(number)


def test_a_routine_step_of_many_reps_is_counted_in_words(catalog, settings, morning):
    routine = catalog.routines["morning_stretches"]
    # Fifty, the most the content allows (a side must fit one response; see rls-coach validate).
    long_step = replace(routine.steps[0], reps=50)
    longer = replace(routine, steps=(long_step, *routine.steps[1:]))
    edited = replace(catalog, routines={**catalog.routines, routine.id: longer})
    talk = Conversation(skill=build_skill(edited, MemoryAdapter(), settings), now=morning)
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert "We'll do fifty" in reply.text
    assert "One," in reply.text and "Forty-seven," in reply.text
