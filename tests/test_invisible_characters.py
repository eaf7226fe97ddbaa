"""Characters nobody can see (right-to-left overrides, zero-width spaces and joiners, other
format and control characters) in what the user said never reach the coach's speech, card or
screen: they are removed where the words enter the skill."""

from __future__ import annotations

import json
import unicodedata

import pytest

from tests.support import Conversation

INVISIBLE = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\ufeff", "\u2060", "\U000e0041"]


def invisible_in(text: str) -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in text
        if unicodedata.category(c) in {"Cf", "Cc", "Co", "Cs", "Cn"} and c not in "\n"
    ]


@pytest.mark.parametrize("mark", INVISIBLE, ids=[f"U+{ord(m):04X}" for m in INVISIBLE])
def test_invisible_characters_in_a_slot_never_reach_speech_card_or_screen(skill, morning, mark):
    talk = Conversation(skill=skill, now=morning, screen=True)
    words = f"hop{mark}scotch{mark} twist"
    reply = talk.one_shot("GuideExerciseIntent", exercise=words)
    everything = json.dumps(reply.response, ensure_ascii=False)
    assert "hopscotch twist" in reply.text  # the words are still heard, without the marks
    assert invisible_in(everything) == []
