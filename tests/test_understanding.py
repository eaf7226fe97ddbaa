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
from skill.understand import interpret
from tests.support import Conversation

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
