"""Free words: the order the coach judges them in, and everyday activities the articles don't name.

The conversations that show each step through the real webhook are in
tests/conversations/understanding_*.yaml; these pin the rules themselves.
"""

from __future__ import annotations

import datetime as dt
import shutil
from zoneinfo import ZoneInfo

import pytest
import yaml

from skill.catalog.loader import load_catalog
from skill.catalog.model import CONTENT_DIR
from skill.state import state_from_record
from skill.understand import interpret, two_requests
from tests.support import Conversation, stored_record

NEW_YORK = ZoneInfo("America/New_York")
EVERYDAY = yaml.safe_load((CONTENT_DIR / "everyday_activities.yaml").read_text())


@pytest.mark.parametrize(
    ("words", "step"),
    [
        # Safety first, whatever else the words name.
        ("my calf is cramping on the bike", "safety"),
        ("I feel a bit faint", "safety"),
        ("my chest feels a bit tight", "safety"),
        ("I fell over in the garden", "safety"),
        ("my toes have gone numb", "safety"),
        ("heart trouble and now my knee hurts", "safety"),
        # Then the doctor: a condition, a medicine, intake.
        ("I've got kidney disease can I swim", "doctor"),
        ("my pills have stopped working", "doctor"),
        ("should I take magnesium", "doctor"),
        ("does a glass of wine make it worse", "doctor"),
        # Then restless legs now.
        ("my legs won't settle tonight", "symptoms"),
        ("it feels like ants crawling in my calves", "symptoms"),
        # Then activities, tips, exercises.
        ("play tennis this afternoon", "activity"),
        ("take a walk", "activity"),
        ("jumping jacks", "activity"),
        ("hot water bottles", "tip"),
        ("what causes restless legs", "tip"),
        ("the inner thigh one", "exercise"),
        # An exercise someone can't do is one to leave out, never one to start.
        ("I can't do lunges with my knee", "leave_out"),
        ("I struggle with the bridge", "leave_out"),
    ],
)
def test_each_step_claims_its_words_in_order(catalog, words, step):
    reading = interpret(catalog, words)
    assert reading is not None and reading.step == step, reading


@pytest.mark.parametrize(
    "words", ["I've got no pain today", "it doesn't hurt any more", "I'm not dizzy at all"]
)
def test_words_that_deny_a_symptom_are_not_a_safety_stop(catalog, words):
    reading = interpret(catalog, words)
    assert reading is None or reading.step != "safety"


def test_words_no_step_claims_are_not_understood(catalog):
    assert interpret(catalog, "what's the capital of France") is None


def test_every_everyday_activity_has_a_met_value_and_cites_the_compendium(catalog):
    assert len(EVERYDAY["activities"]) >= 95
    for entry in EVERYDAY["activities"]:
        activity = catalog.activities[entry["id"]]
        assert activity.met == entry["met"] and 1 <= activity.met <= 25
        assert activity.source.article == "compendium"
        assert catalog.sources["compendium"].title == "Compendium of Physical Activities"
        # The Compendium's bands: light under 3, moderate 3 to under 6, vigorous 6 or more.
        band = "light" if activity.met < 3 else "moderate" if activity.met < 6 else "vigorous"
        assert activity.intensity == band, activity.id
        assert activity.allowed == (band != "vigorous"), activity.id


@pytest.mark.parametrize("hour", [9, 21])
def test_no_answer_says_the_articles_named_an_everyday_activity(catalog, skill, hour):
    moment = dt.datetime(2026, 11, 17, hour, 0, tzinfo=NEW_YORK)
    for entry in EVERYDAY["activities"]:
        talk = Conversation(skill=skill, now=moment)
        for question in (f"can I do {entry['name']}", f"how hard can I go at {entry['name']}"):
            heard = talk.intent("AskingIntent", words=question.split(" ", 1)[1]).text.lower()
            assert entry["name"].lower() in heard, (question, heard)
            assert "don't name it" in heard or "not one the articles name" in heard, heard
            for claim in ("the articles recommend", "the articles suggest", "the articles say it"):
                assert claim not in heard, heard


def test_an_everyday_activity_added_in_yaml_gets_a_verdict(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "everyday_activities.yaml"
    path.write_text(
        path.read_text()
        + "  - {id: line_dancing, name: line dancing, met: 4.5, synonyms: [do some line dancing]}\n"
    )
    added = load_catalog(content).activities["line_dancing"]
    assert (added.intensity, added.allowed, added.met) == ("moderate", True, 4.5)
    assert added.about.startswith("Line dancing counts as moderate exercise")


# ---- two requests, start requests, "this exercise" -------------------------------------------


@pytest.mark.parametrize(
    ("words", "first", "second_step"),
    [
        ("how do I do a bridge and can I do it tonight", "how do i do a bridge", "activity"),
        ("can I swim and then cycle tonight", "can i swim", "activity"),
        ("what causes restless legs and how do I sleep better", "what causes restless legs", "tip"),
    ],
)
def test_a_second_request_begins_at_a_joint_word(catalog, words, first, second_step):
    split = two_requests(catalog, words)
    assert split is not None and split.first == first
    assert split.second_reading.step == second_step


@pytest.mark.parametrize(
    "words",
    [
        "my legs are jumping and I can't sleep",  # one request, said twice
        "it's three in the morning and my legs are going",  # about the legs, not the morning
        "I have diabetes and can I swim",  # a condition: only ever the doctor answer
        "my knee hurts and can I still walk",  # safety first, whole
    ],
)
def test_one_request_with_a_joint_word_is_not_split(catalog, words):
    assert two_requests(catalog, words) is None


def test_this_exercise_is_the_one_being_done_only_mid_routine(catalog):
    assert interpret(catalog, "why are we doing this", guiding=True).step == "this_exercise"
    assert interpret(catalog, "why are we doing this", guiding=False).step != "this_exercise"
    # Another exercise named is about that one, mid-routine or not.
    assert interpret(catalog, "what's the bridge good for", guiding=True).step != "this_exercise"


@pytest.mark.parametrize(
    "words", ["let's crack on with the stretches", "okay do my routine", "begin the calf stretch"]
)
def test_a_request_to_start_the_stretches_starts_them(catalog, skill, words):
    assert interpret(catalog, words).step == "start"
    talk = Conversation(skill=skill, now=dt.datetime(2026, 11, 17, 8, 15, tzinfo=NEW_YORK))
    heard = talk.intent("SayingIntent", words=words).text
    assert "calf stretch" in heard and "lift your" in heard


def test_starting_an_activity_is_not_a_routine(catalog):
    assert interpret(catalog, "can I start swimming again").step == "activity"


# ---- words that look like something else ------------------------------------------------------


def _morning(skill) -> Conversation:
    return Conversation(skill=skill, now=dt.datetime(2026, 11, 17, 9, 0, tzinfo=NEW_YORK))


@pytest.mark.parametrize(
    ("intent", "slot", "words", "expected"),
    [
        ("CanIDoIntent", "activity", "take the stairs", "climbing the stairs"),
        ("CanIDoIntent", "activity", "take a walk", "walk"),
        ("MedicationIntent", "medicine", "a walk", "walk"),
        ("MedicationIntent", "medicine", "the stairs", "stairs"),
        ("MedicationIntent", "medicine", "a warm bath", "bath"),
    ],
)
def test_taking_the_stairs_a_walk_or_a_bath_is_no_medicine(skill, intent, slot, words, expected):
    heard = _morning(skill).intent(intent, **{slot: words}).text
    assert expected in heard.lower() and "doctor" not in heard.lower(), heard


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("in the evening", "what time do you usually go to bed"),  # no clock time: asks
        ("in bed", "bed"),  # the words as free words: a tip about bed, not a bedtime
        ("after dinner", "what time do you usually go to bed"),
    ],
)
def test_a_bedtime_with_no_clock_time_sets_no_bedtime(skill, store, words, expected):
    talk = _morning(skill)
    heard = talk.intent("SetBedtimeIntent", bedtime=words).text
    assert expected in heard.lower(), heard
    assert "your bedtime is" not in heard.lower()
    assert state_from_record(stored_record(store)).bedtime is None


def test_my_legs_worse_in_the_evening_is_restless_legs_not_a_bedtime(skill, store):
    heard = _morning(skill).intent("SayingIntent", words="legs are worse in the evening").text
    assert "doctor" in heard and "your bedtime is" not in heard.lower()
    assert state_from_record(stored_record(store)).bedtime is None
