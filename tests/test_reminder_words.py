"""The reminder words (skill/content/reminder_words.yaml): checked when loaded, tied to the tips
they name, and heard the same in every English locale."""

from __future__ import annotations

import shutil
import uuid

import pytest
import yaml

from skill.builder import build_skill
from skill.catalog.loader import validate_content
from skill.reminder_words import CONTENT, WordsError, load_vocabulary, vocabulary
from tests.support import Conversation

LOCALES = ("en-US", "en-GB", "en-CA", "en-AU", "en-IN")


def test_a_typo_in_the_words_file_is_named_with_its_field(tmp_path):
    data = yaml.safe_load(CONTENT.read_text(encoding="utf-8"))
    data["weekday"] = data.pop("weekdays")
    data["max_reminders"] = 0
    path = tmp_path / "reminder_words.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(WordsError) as raised:
        load_vocabulary(path)
    message = str(raised.value)
    assert message.startswith("reminder_words.yaml: ")
    assert "weekday" in message and "weekdays" in message and "max_reminders" in message


def test_every_wind_down_reminder_names_a_tip_the_catalog_has(catalog):
    for name, entry in vocabulary()["wind_down"].items():
        topic = catalog.tips[entry["tip"]]
        assert 1 <= entry["point"] <= len(topic.points), name


@pytest.mark.parametrize("locale", LOCALES)
def test_half_seven_is_half_past_seven_in_every_english_locale(
    catalog, store, settings, morning, alexa_api, locale
):
    talk = Conversation(
        skill=build_skill(catalog, store, settings),
        now=morning,
        device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
        api_endpoint=alexa_api.endpoint,
        api_access_token="token",
        consent_token="consent",
    )
    talk.locale = locale
    for words, expected in (
        ("half seven tomorrow morning", "2026-11-18T07:30:00"),
        ("tomorrow at quarter past eight in the morning", "2026-11-18T08:15:00"),
        ("tomorrow at five thirty pm", "2026-11-18T17:30:00"),
    ):
        reply = talk.one_shot("SetReminderIntent", request=words)
        assert "I've set it" in reply.text, words
        assert alexa_api.reminder_bodies()[-1]["trigger"]["scheduledTime"] == expected, words
        talk.intent("AMAZON.CancelIntent")


def test_validate_names_a_mistake_in_the_reminder_words(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(CONTENT.parent, content)
    words = content / "reminder_words.yaml"
    words.write_text(words.read_text(encoding="utf-8").replace("\nevery:", "\neveryy:", 1))
    problems = [str(problem) for problem in validate_content(content)]
    assert any(p.startswith("reminder_words.yaml") and "everyy" in p for p in problems), problems
