"""Every word for a side of a per-side exercise names its body part: an author's foot exercise
says "your right foot" in speech, reprompt, card and screen, never "your right leg"."""

from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

from skill.builder import build_skill
from skill.catalog.loader import load_catalog
from skill.catalog.model import CONTENT_DIR
from skill.settings import Settings
from skill.stores.memory import MemoryAdapter
from tests.support import Conversation, Reply

# Ids of its own, so that this never collides with content an author adds for real.
SOURCE = """
  - id: side-words-check-notes
    title: Notes written for the side words check
    by: the coach's tests
    where: in the test that uses them
"""
EXERCISE = """
  - id: side_words_foot_check
    name: foot side words check
    synonyms: [foot words check]
    kind: stretch
    intensity: gentle
    position: seated
    muscles: [ankles]
    summary: It loosens your ankles.
    setup:
      - Sit tall on a chair and lift your {side} foot a little off the floor.
    switch:
      - Put your {other_side} foot down and lift your {side} foot.
    movement:
      - Slowly draw a circle with your {side} toes.
    rep:
      - cue: circle your foot
        seconds: 4
    reps: {count: 3}
    sides: {per_side: true, first: right, body_part: foot}
    cautions:
      - Move slowly.
    best_times: [morning, afternoon, evening, night]
    source:
      article: side-words-check-notes
      section: Foot circles
      says: Three slow circles, seated, for each foot.
"""
THE_EXERCISE = ("foot side words check", "side_words_foot_check")
# A side word: "your right leg", "each leg", "Right leg" on the screen.
SIDE_WORD = re.compile(r"\b(left|right|each|other)\s+(leg|foot|arm)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def foot_skill(tmp_path_factory):
    content = tmp_path_factory.mktemp("foot") / "content"
    shutil.copytree(CONTENT_DIR, content)
    for name, entry in (("sources.yaml", SOURCE), ("exercises.yaml", EXERCISE)):
        file = content / name
        file.write_text(file.read_text().rstrip("\n") + "\n" + entry, encoding="utf-8")
    settings = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")
    return build_skill(load_catalog(content), MemoryAdapter(), settings)


def everything_shown(reply: Reply) -> list[str]:
    """Speech, reprompt, card and screen of a reply, as text."""
    texts = [reply.text, reply.reprompt]
    card = reply.card or {}
    texts += [str(card.get("title", "")), str(card.get("text", ""))]
    if reply.screen is not None:
        texts += [str(value) for value in reply.screen[1].values()]
    return texts


def test_a_foot_exercise_says_foot_in_every_side_word(foot_skill, morning: dt.datetime):
    talk = Conversation(skill=foot_skill, now=morning, screen=True)
    replies = [talk.one_shot("GuideExerciseIntent", exercise=THE_EXERCISE)]
    replies.append(talk.intent("WhereAmIIntent"))  # "which foot?" during the set
    replies.append(talk.intent("AMAZON.NextIntent"))  # that set again, from its start
    talk.wait(minutes=1)
    replies.append(talk.intent("WhereAmIIntent"))  # after the set: "next is your left foot"
    replies.append(talk.intent("SlowDownIntent"))  # between sets: "say next for your left foot"
    replies.append(talk.intent("AMAZON.NextIntent"))  # the last set
    side_words = [
        match.group(0).lower()
        for reply in replies
        for text in everything_shown(reply)
        for match in SIDE_WORD.finditer(text)
    ]
    assert side_words, "no side words at all"
    assert not [word for word in side_words if not word.endswith("foot")], side_words
    first, where, again, where_next, slower, last = replies
    assert "right foot" in first.text and "say next for your left foot" in first.text.lower()
    assert "left foot" in first.reprompt
    assert "each foot" in first.card["text"] and "right foot" in first.card["text"]
    assert first.screen[1]["side"] == again.screen[1]["side"] == "Right foot"
    assert "this set is for your right foot" in where.text.lower()
    assert "next is your left foot" in where_next.text.lower()
    assert "say next for your left foot" in slower.text.lower()
    assert "switch to your left foot" in last.text and "each foot" in last.card["text"]
