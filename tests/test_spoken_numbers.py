"""Numbers are spoken as num2words says them, however large a count the content leads to."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st
from num2words import num2words

from skill.builder import build_skill
from skill.coach.exercise_speech import number_words
from skill.stores import MemoryAdapter
from tests.support import Conversation

MORNING = ("morning stretches", "morning_stretches")


@given(st.integers(min_value=-(10**9), max_value=10**9))
def test_any_count_is_said_as_num2words_says_it(number):
    assert number_words(number, "en") == num2words(number, lang="en")


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
