"""What reaches the log from hostile requests: hashed ids, never a token, slot words cut short
and escaped, and never a forged line. A capturing handler on the root logger sees every record
as the server would write it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from skill.builder import build_skill
from skill.logsafe import clip, hashed
from tests.support import Conversation

TOKEN = "Bearer-SECRET-TOKEN-42\r\nX-Forged: yes"  # not a valid header value: requests quotes it
DEVICE = "amzn1.ask.device.PRIVATE-DEVICE-7"
# Words that name nothing the coach knows (an activity would be answered, not logged as unknown).
FORGED = "unicycling\n2026-11-17 13:15:00,000 INFO webhook.app: POST /alexa status=200 user=admin"


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record))


@pytest.fixture
def captured() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.fixture
def talk(catalog, store, settings, morning) -> Conversation:
    skill = build_skill(catalog, store, settings.with_overrides(settings_api_timeout=0.3))
    return Conversation(
        skill=skill,
        now=morning,
        device_id=DEVICE,
        api_access_token=TOKEN,
        api_endpoint="https://127.0.0.1:9",
    )


def test_a_failed_zone_lookup_logs_neither_the_token_nor_the_device_id(talk, captured):
    talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), when=("now", "now"))
    text = "\n".join(captured.lines)
    assert "could not read the time zone of device " + hashed(DEVICE) in text
    assert "SECRET" not in text and DEVICE not in text


@pytest.mark.parametrize(
    ("intent", "slots"),
    [
        ("ExplainExerciseIntent", {"exercise": FORGED + "x" * 5000}),
        ("CanIDoIntent", {"activity": FORGED + "x" * 5000}),
        ("StartRoutineIntent", {"routine": FORGED + "x" * 5000}),
    ],
)
def test_slot_words_are_logged_cut_short_and_escaped(talk, captured, intent, slots):
    talk.api_access_token = None  # no zone lookup: only the slot words are logged
    talk.one_shot(intent, **slots)
    assert captured.lines, "the unknown words were not logged at all"
    for line in captured.lines:
        assert "\n" not in line and "\r" not in line
        assert len(line) < 400
    # The newline never reaches a handler (invisible and control characters are removed where
    # the words enter); what is logged is the words, cut short, on one line.
    assert any(clip(FORGED.replace("\n", " ")) in line for line in captured.lines)


def test_clip_escapes_control_characters_and_marks_the_cut():
    assert clip("a\nb\x1b[2J") == "a\\nb\\x1b[2J"
    assert clip("x" * 61) == "x" * 60 + "…"
    assert clip("\ud800") == "\\ud800"
    assert len(hashed("\ud800")) == 12
