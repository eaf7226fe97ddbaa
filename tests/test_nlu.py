"""Natural phrasings, written the way people talk rather than copied from the templates, reach
the intended intent and entity id through the committed interaction models."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest

from coach_dev.model import LOCALES, language_model, model_file
from coach_dev.nlu import (
    BUILTIN_PHRASINGS,
    LAUNCH_REQUEST,
    Resolver,
    spoken_time,
    words_of,
)


@pytest.fixture(scope="module")
def models() -> dict[str, dict[str, Any]]:
    return {
        locale: json.loads(model_file(locale).read_text(encoding="utf-8")) for locale in LOCALES
    }


@pytest.fixture(scope="module")
def resolver(models) -> Callable[[str], Resolver]:
    """The compiled resolver of a locale's committed model, built once per locale."""
    return functools.cache(lambda locale: Resolver(models[locale]))


# What people say → the intent, and each slot's entity id (for AMAZON.TIME, the value Alexa
# sends). Written as people talk, not copied from the templates.
NATURAL_PHRASINGS = """
# starting, resuming and insisting
start my stretches                         | StartRoutineIntent
Let's do my morning routine.               | StartRoutineIntent routine=morning_stretches
I'd like to do the afternoon stretches     | StartRoutineIntent routine=afternoon_stretches
time for my after work stretches           | StartRoutineIntent routine=afternoon_stretches
begin the strength routine                 | StartRoutineIntent routine=gentle_strength
walk me through my morning stretch         | StartRoutineIntent routine=morning_stretches
let's get stretching                       | StartRoutineIntent
resume my stretches                        | ResumeRoutineIntent
pick up where I left off                   | ResumeRoutineIntent
carry on with my routine                   | ResumeRoutineIntent
That's fine, start anyway.                 | StartAnywayIntent
I still want to stretch                    | StartAnywayIntent
# pace
slow down please                           | SlowDownIntent
you're going too fast                      | SlowDownIntent
could you count slower                     | SlowDownIntent
speed it up a bit                          | SpeedUpIntent
that's too slow                            | SpeedUpIntent
# single exercises
how do I do a calf raise?                  | ExplainExerciseIntent exercise=calf_stretch
what's a glute bridge                      | ExplainExerciseIntent exercise=bridge
how do you do squats                       | ExplainExerciseIntent exercise=gentle_squat
tell me about the quad stretch             | ExplainExerciseIntent exercise=standing_quad_stretch
what are bridges good for                  | ExplainExerciseIntent exercise=bridge
how does the hip flexor stretch work       | ExplainExerciseIntent exercise=lunge_and_stretch
walk me through the calf stretch           | GuideExerciseIntent exercise=calf_stretch
do a bridge with me                        | GuideExerciseIntent exercise=bridge
let's try some squats                      | GuideExerciseIntent exercise=gentle_squat
can you do the inner thigh stretch with me | GuideExerciseIntent exercise=inner_thigh_stretch
which stretches do you know                | ListExercisesIntent
list all the exercises                     | ListExercisesIntent
what routines do you have                  | ListRoutinesIntent
# "can I …?"
can I swim tonight                         | CanIDoIntent activity=swimming when=tonight
Is it okay to go cycling now?              | CanIDoIntent activity=cycling when=now
should I do squats before bed              | CanIDoIntent activity=squats when=before_bed
can I do hot yoga                          | CanIDoIntent activity=hot_yoga
can I run a marathon                       | CanIDoIntent activity=marathon
could I go for a jog this afternoon        | CanIDoIntent activity=running when=this_afternoon
is it safe to do pilates after dinner      | CanIDoIntent activity=pilates when=this_evening
am I allowed to go biking before bedtime   | CanIDoIntent activity=cycling when=before_bed
is yoga ok for restless legs               | CanIDoIntent activity=yoga
can I take a walk after work               | CanIDoIntent activity=walking when=after_work
can I go swimming at 7:30 p.m.             | CanIDoIntent activity=swimming time=19:30
is it alright to do crossfit tonight       | CanIDoIntent activity=extreme_exercise when=tonight
how fast should I cycle                    | ActivityLimitIntent activity=cycling
how far can I swim                         | ActivityLimitIntent activity=swimming
what's the speed limit for biking          | ActivityLimitIntent activity=cycling
how much running is too much               | ActivityLimitIntent activity=running
# tips
give me bedtime tips                       | TipIntent topic=bedtime
what should I do before bed                | TipIntent topic=bedtime
should I drink coffee                      | TipIntent topic=caffeine
what about cold packs                      | TipIntent topic=compresses
tell me about how long to exercise         | TipIntent topic=exercise_duration
when is the best time to stretch           | TipIntent topic=best_time
tell me about how exercise helps           | TipIntent topic=why_exercise
any tips on sleep hygiene                  | TipIntent topic=sleep_hygiene
is chocolate bad for me                    | TipIntent topic=caffeine
would a massage help                       | TipIntent topic=massage
tell me about ice packs                    | TipIntent topic=compresses
give me a tip                              | TipIntent
# medication and diagnosis go to the doctor
should I stop my pills                     | MedicationIntent
what medicine is best for restless legs    | MedicationIntent
can you diagnose me                        | MedicationIntent
do I have restless legs syndrome           | MedicationIntent
do I need to see a doctor                  | MedicationIntent
# bedtime
my bedtime is ten thirty                   | SetBedtimeIntent bedtime=10:30
I usually go to bed around eleven          | SetBedtimeIntent bedtime=11:00
set my bedtime to 10:45 pm                 | SetBedtimeIntent bedtime=22:45
I normally turn in at half past ten        | SetBedtimeIntent bedtime=10:30
is this medical advice                     | DisclaimerIntent
what's the disclaimer                      | DisclaimerIntent
# built-in intents inside a routine
yes please                                 | AMAZON.YesIntent
nope                                       | AMAZON.NoIntent
no thanks, not now                         | AMAZON.NoIntent
next                                       | AMAZON.NextIntent
skip this one                              | SkipExerciseIntent
next one                                   | AMAZON.NextIntent
go back                                    | AMAZON.PreviousIntent
take a break                               | AMAZON.PauseIntent
hold on a second                           | WaitIntent
keep going                                 | AMAZON.ResumeIntent
continue                                   | AMAZON.ResumeIntent
say that again                             | AMAZON.RepeatIntent
start over from the beginning              | AMAZON.StartOverIntent
what can I say                             | AMAZON.HelpIntent
that's enough for today                    | AMAZON.StopIntent
never mind                                 | AMAZON.CancelIntent
"""


def _expectations() -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in NATURAL_PHRASINGS.strip().splitlines():
        if line.startswith("#"):
            continue
        utterance, expected = line.split("|")
        intent, *slots = expected.split()
        rows.append((utterance.strip(), intent, dict(slot.split("=") for slot in slots)))
    return rows


@pytest.mark.parametrize("locale", LOCALES)
def test_natural_phrasings_reach_the_intended_intent_and_ids(resolver, locale):
    wrong = []
    for utterance, intent, slots in _expectations():
        said = resolver(locale).resolve(utterance)
        got = (said.intent, {n: m.id or m.words for n, m in said.slots.items()}) if said else None
        if got != (intent, slots):
            wrong.append(f"{utterance!r}: expected {(intent, slots)}, got {got}")
    assert wrong == []


def test_words_that_are_no_request_resolve_to_nothing(resolver):
    for nonsense in ("", "   ", "purple monkey dishwasher", "the", "of"):
        assert resolver("en-US").resolve(nonsense) is None, nonsense


def test_words_no_slot_value_knows_reach_the_coach_as_free_text(resolver):
    # CanIDoIntent's "can I {activity} {when}" would leave "fly a kite" unresolved: the carrier
    # hands the whole question to the server instead, which judges it (skill.understand).
    said = resolver("en-US").resolve("can I fly a kite tonight")
    assert said is not None and said.intent == "AskingIntent"
    assert said.slots["words"] == ("i fly a kite tonight", None)
    assert said.slot_types == {"words": "AMAZON.SearchQuery"}


def test_a_known_activity_still_reaches_its_named_intent(resolver):
    said = resolver("en-US").resolve("can I play tennis tonight")
    assert said is not None and said.intent == "CanIDoIntent"
    assert said.slot_id("activity") == "tennis"
    assert said.slot_id("when") == "tonight"


def test_a_slot_said_alone_only_matches_a_value(resolver):
    assert resolver("en-US").resolve("coffee").slot_id("topic") == "caffeine"
    assert resolver("en-US").resolve("quantum physics") is None


@pytest.mark.parametrize(
    ("phrase", "intent", "slot", "entity_id"),
    [
        ("Alexa, open restless legs coach", LAUNCH_REQUEST, None, None),
        ("launch restless legs coach", LAUNCH_REQUEST, None, None),
        ("Alexa, talk to restless legs coach", LAUNCH_REQUEST, None, None),
        ("alexa ask restless legs coach", LAUNCH_REQUEST, None, None),
        ("Alexa, ask restless legs coach to start my stretches", "StartRoutineIntent", None, None),
        ("Alexa, ask restless legs coach how do I do a bridge", "ExplainExerciseIntent",
         "exercise", "bridge"),
        ("Alexa, ask restless legs coach if I can swim tonight", "CanIDoIntent", "activity",
         "swimming"),
        ("Alexa, tell restless legs coach my bedtime is eleven", "SetBedtimeIntent", None, None),
        ("Alexa, open restless legs coach and give me a tip", "TipIntent", None, None),
        ("Alexa, open sleepy sounds", None, None, None),
        ("Alexa, order restless legs coach", None, None, None),
    ],
)  # fmt: skip
def test_phrases_that_name_the_skill(resolver, phrase, intent, slot, entity_id):
    said = resolver("en-US").resolve_invocation(phrase)
    assert (said.intent if said else None) == intent
    if slot:
        assert said.slot_id(slot) == entity_id


def _filled(sample: str, slot_types: dict[str, str], fillers: dict[str, list[str]]) -> list[str]:
    """The sample with its first slot set to each value of its type and the others to one."""
    slots = [word[1:-1] for word in sample.split() if word.startswith("{")]
    if not slots:
        return [sample]
    utterances = []
    for index, choice in enumerate(fillers[slot_types[slots[0]]]):
        text = sample.replace(f"{{{slots[0]}}}", choice)
        for other in slots[1:]:
            options = fillers[slot_types[other]]
            text = text.replace(f"{{{other}}}", options[index % len(options)])
        utterances.append(text)
    return utterances


def test_every_sample_resolves_back_to_its_own_intent(models, resolver):
    """No sample is shadowed by another intent's: each one, filled with slot values, comes back
    to the intent that owns it. This is what makes the model unambiguous for the resolver."""
    lm = language_model(models["en-US"])
    fillers = {t["name"]: [value["name"]["value"] for value in t["values"]] for t in lm["types"]}
    fillers["AMAZON.TIME"] = ["ten thirty", "half past nine", "7 pm"]
    fillers["AMAZON.NUMBER"] = ["eight", "three", "five"]
    fillers["AMAZON.SearchQuery"] = ["the weather on tuesday", "knitting a scarf"]
    fillers["AMAZON.DayOfWeek"] = ["monday", "friday"]
    fillers["AMAZON.DURATION"] = ["an hour", "twenty minutes"]
    resolver = resolver("en-US")
    wrong = []
    for intent in lm["intents"]:
        slot_types = {slot["name"]: slot["type"] for slot in intent.get("slots", [])}
        for sample in intent["samples"]:
            utterances = _filled(sample, slot_types, fillers)
            for utterance in utterances:
                said = resolver.resolve(utterance)
                if said is None or said.intent != intent["name"]:
                    wrong.append(f"{utterance!r} ({intent['name']}): {said}")
    assert wrong == []


def test_built_in_phrasings_are_not_claimed_by_a_custom_intent(models):
    resolver = Resolver(models["en-US"])
    for intent, phrasings in BUILTIN_PHRASINGS.items():
        if intent in resolver.intents:
            for phrasing in phrasings:
                said = resolver.resolve(phrasing)
                assert said is not None and said.intent == intent, phrasing


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ({}, "it has no key 'interactionModel'"),
        ({"interactionModel": {"languageModel": {"intents": []}}}, "no key 'invocationName'"),
        ([], "not an interaction model"),
    ],
)
def test_a_document_that_is_no_model_is_refused_clearly(document, complaint):
    with pytest.raises(ValueError, match=complaint):
        Resolver(document)


@pytest.mark.parametrize(
    ("said", "value"),
    [
        ("ten thirty", "10:30"),
        ("10:30", "10:30"),
        ("10.30 pm", "22:30"),
        ("ten thirty p.m.", "22:30"),
        ("ten thirty at night", "22:30"),
        ("eleven o'clock", "11:00"),
        ("eleven", "11:00"),
        ("half past nine", "09:30"),
        ("quarter to eleven", "10:45"),
        ("twenty past ten in the evening", "22:20"),
        ("nine forty five", "09:45"),
        ("ten oh five", "10:05"),
        ("seven a.m.", "07:00"),
        ("twelve am", "00:00"),
        ("12 pm", "12:00"),
        ("noon", "12:00"),
        ("midnight", "00:00"),
        ("tonight", "NI"),
        ("this morning", "MO"),
        ("in the afternoon", "AF"),
        ("purple", None),
        ("thirteen pm", None),
        ("ten sixty", None),
        ("25:00", None),
    ],
)
def test_spoken_times_become_the_values_alexa_sends(said, value):
    assert spoken_time(words_of(said)) == value
