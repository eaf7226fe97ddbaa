"""Sound cues in guided sets: every response of every routine at every pace, through the real
skill, is valid SSML within Alexa's limits, with each cue where rules.yaml says; with "no sounds"
and at night there are none.

The audio limits are Alexa's SSML reference's (the <audio> tag): at most five audio tags in one
output speech, whose clips together last at most 240 seconds; a clip comes from the ASK sound
library (soundbank://soundlibrary/...) or an HTTPS address. Output speech is at most 8,000
characters and the whole response at most 24 KB (the JSON interface reference).
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from coach_dev.alexa_response import parse_ssml, response_problems, spoken_seconds, spoken_text
from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.settings import Settings
from skill.speech import MAX_AUDIO_SECONDS, MAX_AUDIO_TAGS, MAX_SSML_CHARS, WORDS_PER_SECOND
from skill.stores import MemoryAdapter
from tests.conftest import NEW_YORK
from tests.support import Conversation, Reply

CATALOG = default_catalog()
SETTINGS = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")
RULES = CATALOG.rules
PACES = [pace.id for pace in RULES.paces]
# From the normal pace, the words that reach each pace.
PACE_WORDS = {"slowest": ["SlowDownIntent"] * 2, "slower": ["SlowDownIntent"], "normal": []}
PACE_WORDS["faster"] = ["SpeedUpIntent"]
DAYTIME = dt.datetime(2026, 11, 17, 10, 30, tzinfo=NEW_YORK)
NIGHT = dt.datetime(2026, 11, 17, 23, 30, tzinfo=NEW_YORK)


def test_the_limits_are_alexas():
    assert (MAX_AUDIO_TAGS, MAX_AUDIO_SECONDS, MAX_SSML_CHARS) == (5, 240, 8000)


def test_every_pace_is_walked():
    assert sorted(PACE_WORDS) == sorted(PACES)


def test_each_moment_has_its_own_clip_from_the_sound_library():
    sources = [cue.src for cue in RULES.sound_cues.values()]
    assert len(set(sources)) == len(sources) == 4
    assert all(src.startswith("soundbank://soundlibrary/") for src in sources)
    assert all(cue.seconds <= 5 for cue in RULES.sound_cues.values())  # short: no music


def walk(routine_id: str, pace: str, *, at: dt.datetime, before: tuple[str, ...] = ()) -> list:
    """Every response of a routine, from its start to its last set, for a new user at ``pace``
    who first said ``before`` (e.g. "no sounds")."""
    talk = Conversation(skill=build_skill(CATALOG, MemoryAdapter(), SETTINGS), now=at)
    for intent in (*before, *PACE_WORDS[pace]):
        talk.one_shot(intent)
    routine = CATALOG.routines[routine_id]
    if at == NIGHT:  # past bedtime the coach only starts when told to anyway
        reply = talk.one_shot("StartAnywayIntent")
    else:
        reply = talk.one_shot("StartRoutineIntent", routine=(routine.name, routine.id))
    replies = [reply]
    while not FINISHED.search(reply.text):
        assert len(replies) < 60, "the routine never finished"
        talk.wait(seconds=reply.estimated_seconds + 30)  # the set is done (clips included)
        reply = talk.intent("AMAZON.NextIntent")
        replies.append(reply)
    return replies


def _said(key: str) -> re.Pattern:
    """Any variant of a speech string, its placeholders filled with anything."""
    variants = [
        ".+?".join(re.escape(piece) for piece in re.split(r"\{[a-z_]+\}", variant))
        for variant in CATALOG.phrases(key)
    ]
    return re.compile("|".join(f"(?:{v})" for v in variants))


FINISHED = _said("routine.finished")
SWITCH = _said("routine.switch_side")


def tokens(reply: Reply) -> list[tuple[str, str]]:
    """The speech in order: ("text", words), ("break", ms) and ("audio", src)."""
    out: list[tuple[str, str]] = []

    def visit(element: ET.Element) -> None:
        name = element.tag.rsplit("}", 1)[-1]
        if name == "break":
            out.append(("break", element.get("time") or ""))
        elif name == "audio":
            out.append(("audio", element.get("src") or ""))
        else:
            if element.text and element.text.strip():
                out.append(("text", element.text.strip()))
            for child in element:
                visit(child)
                if child.tail and child.tail.strip():
                    out.append(("text", child.tail.strip()))

    visit(parse_ssml(reply.ssml))
    return out


def moments_spoken(reply: Reply) -> Counter:
    """How many of each cue moment the response speaks, read from its words: holds (a text that
    ends with a hold phase's cue), a side switch, a routine's end."""
    hold_cues = set()
    for exercise in CATALOG.exercises.values():
        for phase in exercise.rep:
            if phase.hold:
                for side in (*exercise.sides.order, None):
                    text = phase.cue.replace("{side}", side or "").replace("{other_side}", "")
                    hold_cues.add(" ".join(text.split()))
    texts = [words for kind, words in tokens(reply) if kind == "text"]
    holds = sum(1 for words in texts if any(words.endswith(cue) for cue in hold_cues if cue))
    return Counter(
        hold_start=holds,
        hold_end=holds,
        side_switch=len(SWITCH.findall(reply.text)),
        routine_end=len(FINISHED.findall(reply.text)),
    )


def expected_cues(spoken: Counter) -> Counter:
    """What rules.yaml says is heard: moment by moment in cue_priority, every mark of a moment or
    none, while Alexa's limits leave room."""
    heard: Counter = Counter()
    clips, seconds = 0, 0.0
    for moment in RULES.cue_priority:
        count = spoken[moment]
        more = RULES.sound_cues[moment].seconds * count
        if count and clips + count <= MAX_AUDIO_TAGS and seconds + more <= MAX_AUDIO_SECONDS:
            heard[moment] = count
            clips, seconds = clips + count, seconds + more
    return heard


MOMENT_OF = {cue.src: moment for moment, cue in RULES.sound_cues.items()}


def check_cues(reply: Reply) -> None:
    assert response_problems(reply.body) == []  # valid SSML, 8,000 characters, 24 KB, clips
    sequence = tokens(reply)
    clips = [(index, words) for index, (kind, words) in enumerate(sequence) if kind == "audio"]
    assert len(clips) <= MAX_AUDIO_TAGS
    assert sum(RULES.sound_cues[MOMENT_OF[src]].seconds for _, src in clips) <= MAX_AUDIO_SECONDS
    heard = Counter(MOMENT_OF[src] for _, src in clips)
    assert heard == expected_cues(moments_spoken(reply)), reply.text
    for index, src in clips:
        moment = MOMENT_OF[src]
        before = sequence[index - 1] if index > 0 else ("", "")
        after = sequence[index + 1] if index + 1 < len(sequence) else ("", "")
        if moment == "hold_start":  # after the words of the hold, before its silence
            assert before[0] == "text" and after[0] == "break"
        elif moment == "hold_end":  # after the silence of the hold
            assert before[0] == "break"
        elif moment == "side_switch":
            assert after[0] == "text" and SWITCH.match(after[1])
        else:
            assert after[0] == "text" and FINISHED.match(after[1])


@pytest.mark.parametrize("pace", PACES)
@pytest.mark.parametrize("routine_id", sorted(CATALOG.routines))
def test_every_response_of_a_routine_keeps_alexas_limits_with_cues_where_the_content_says(
    routine_id, pace
):
    replies = walk(routine_id, pace, at=DAYTIME)
    for reply in replies:
        check_cues(reply)
    heard = Counter(MOMENT_OF[src] for r in replies for kind, src in tokens(r) if kind == "audio")
    assert heard["routine_end"] == 1  # the bell when the routine is done
    exercises = [CATALOG.exercises[step.exercise] for step in CATALOG.routines[routine_id].steps]
    if any(exercise.sides.per_side for exercise in exercises):
        assert heard["side_switch"]  # at least one side switch has room for its bell


@pytest.mark.parametrize("routine_id", sorted(CATALOG.routines))
def test_with_no_sounds_no_response_has_an_audio_tag(routine_id):
    for pace in PACES:
        for reply in walk(routine_id, pace, at=DAYTIME, before=("SoundsOffIntent",)):
            assert "<audio" not in reply.ssml
            assert response_problems(reply.body) == []


def test_sounds_on_again_brings_the_cues_back():
    replies = walk(
        "morning_stretches", "normal", at=DAYTIME, before=("SoundsOffIntent", "SoundsOnIntent")
    )
    assert any("<audio" in reply.ssml for reply in replies)


def test_at_night_a_routine_started_anyway_has_no_cues_and_slower_speech():
    for reply in walk("morning_stretches", "normal", at=NIGHT):
        assert "<audio" not in reply.ssml
        assert f'<prosody rate="{RULES.night.rate}">' in reply.ssml
        assert response_problems(reply.body) == []


def test_no_sounds_is_remembered_and_said_in_the_routine_without_stopping_it():
    talk = Conversation(skill=build_skill(CATALOG, MemoryAdapter(), SETTINGS), now=DAYTIME)
    talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    reply = talk.intent("SoundsOffIntent")
    assert "no sounds" in reply.text.lower() and not reply.ends_session
    talk.wait(minutes=2)
    assert "<audio" not in talk.intent("AMAZON.NextIntent").ssml
    talk.end_session()
    talk.wait(days=1)
    replies = [
        talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    ]
    for _ in range(6):
        talk.wait(minutes=2)
        replies.append(talk.intent("AMAZON.NextIntent"))
    assert not any("<audio" in reply.ssml for reply in replies)


def _body(ssml: str) -> dict:
    return {
        "version": "1.0",
        "response": {"outputSpeech": {"type": "SSML", "ssml": ssml}, "shouldEndSession": True},
    }


def test_the_response_checker_refuses_a_sixth_clip_and_audio_from_elsewhere():
    clip = '<audio src="soundbank://soundlibrary/musical/amzn_sfx_bell_short_chime_02"/>'
    assert response_problems(_body(f"<speak>{clip * 5}</speak>")) == []
    assert any(
        "6 <audio> clips" in p for p in response_problems(_body(f"<speak>{clip * 6}</speak>"))
    )
    plain_http = '<speak><audio src="http://example.com/bell.mp3"/></speak>'
    assert any("sound library" in p for p in response_problems(_body(plain_http)))


def test_the_device_shows_a_clip_by_its_name():
    clip = '<audio src="soundbank://soundlibrary/musical/amzn_sfx_bell_short_chime_02"/>'
    ssml = f"<speak>Hold {clip} and release</speak>"
    assert spoken_text(ssml) == "Hold [bell short chime] and release"
    # The clip's name is no words the device's clock should count as speech.
    assert spoken_seconds({"type": "SSML", "ssml": ssml}) == pytest.approx(3 / WORDS_PER_SECOND)
