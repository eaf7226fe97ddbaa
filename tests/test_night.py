"""Night mode, from the user's bedtime until 5 AM: shorter answers that end the session with no
question and no offer, slower speech, and nothing on a screen or in a reprompt that suggests the
stretches. Words go through the simulated device (the model's resolver → a real envelope → the
real skill), as a person would say them.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from coach_dev.alexa_response import output_text, response_problems
from coach_dev.chat import InProcessTransport, SimulatedDevice, load_model
from skill.builder import build_skill
from skill.catalog.loader import default_catalog, load_catalog
from skill.settings import Settings
from skill.stores import MemoryAdapter
from skill.turn import is_night
from tests.conftest import NEW_YORK
from tests.support import Conversation, store_record

CATALOG = default_catalog()
SETTINGS = Settings(store_url="memory://", verify=False, default_timezone="America/New_York")
ASKED = ["my legs are restless", "what can I do", "can you help me relax"]
NIGHTS = [dt.datetime(2026, 12, 8, 1, 30), dt.datetime(2026, 12, 7, 23, 30)]
DAY = dt.datetime(2026, 12, 8, 10, 30)


def device(moment: dt.datetime, catalog=CATALOG, user: str = "night") -> SimulatedDevice:
    return SimulatedDevice(
        transport=InProcessTransport(build_skill(catalog, MemoryAdapter(), SETTINGS)),
        model=load_model("en-US"),
        locale="en-US",
        user=user,
        skill_id="amzn1.ask.skill.00000000-0000-4000-8000-00000000n1g7",
        clock=lambda: moment.replace(tzinfo=NEW_YORK),
    )


def answer(moment: dt.datetime, words: str, catalog=CATALOG) -> dict:
    """The response to ``words`` said as a one-shot by a user who has heard the disclaimer."""
    simulated = device(moment, catalog)
    simulated.say("ask restless legs coach what's my bedtime")  # the disclaimer is heard here
    exchange = simulated.say(f"ask restless legs coach {words}")
    assert exchange is not None and exchange.matched
    return exchange.response


@pytest.mark.parametrize("words", ASKED)
@pytest.mark.parametrize("night", NIGHTS, ids=["1:30 AM", "11:30 PM"])
def test_at_night_the_answer_is_shorter_than_by_day_and_ends_the_session(night, words):
    at_night, by_day = answer(night, words), answer(DAY, words)
    heard = output_text(at_night["response"]["outputSpeech"])
    assert len(heard.split()) < len(output_text(by_day["response"]["outputSpeech"]).split())
    assert at_night["response"]["shouldEndSession"] is True
    assert "reprompt" not in at_night["response"]
    assert "?" not in heard
    assert by_day["response"]["shouldEndSession"] is False  # by day the coach asks what else
    rate = CATALOG.rules.night.rate
    assert f'<prosody rate="{rate}">' in at_night["response"]["outputSpeech"]["ssml"]
    assert response_problems(at_night) == []


def test_the_night_ends_at_five_in_the_morning():
    assert CATALOG.rules.night.ends == dt.time(5, 0)
    before = answer(dt.datetime(2026, 12, 8, 4, 59), "my legs are restless")
    after = answer(dt.datetime(2026, 12, 8, 5, 0), "my legs are restless")
    assert before["response"]["shouldEndSession"] is True
    assert after["response"]["shouldEndSession"] is False


def test_night_starts_at_the_users_own_bedtime():
    store = MemoryAdapter()
    skill = build_skill(CATALOG, store, SETTINGS)
    store_record(store, {"version": 1, "bedtime": "00:30", "disclaimer_heard": True})
    talk = Conversation(skill=skill, now=dt.datetime(2026, 12, 7, 23, 45, tzinfo=NEW_YORK))
    assert not talk.one_shot("SymptomsNowIntent").ends_session  # before their bedtime
    talk.wait(hours=1)
    assert talk.one_shot("SymptomsNowIntent").ends_session  # 00:45: past it


# What someone might say or tap at night, with and without a routine saved for later.
NIGHT_TURNS = [
    ("launch", {}),
    ("AMAZON.HelpIntent", {}),
    ("AMAZON.FallbackIntent", {}),
    ("AMAZON.YesIntent", {}),
    ("AMAZON.NextIntent", {}),
    ("AMAZON.PauseIntent", {}),
    ("ResumeRoutineIntent", {}),
    ("StartRoutineIntent", {"routine": ("morning stretches", "morning_stretches")}),
    ("StartRoutineIntent", {}),
    ("ExplainExerciseIntent", {"exercise": ("bridge", "bridge")}),
    ("TipIntent", {}),
    ("SymptomsNowIntent", {}),
    ("RelaxIntent", {}),
    ("ThanksIntent", {}),
    ("SoundsOffIntent", {}),
]


@pytest.mark.parametrize("saved", [False, True], ids=["nothing saved", "a routine saved"])
def test_at_night_no_reprompt_or_screen_suggests_starting_the_stretches(saved):
    store = MemoryAdapter()
    record = {"version": 1, "disclaimer_heard": True}
    if saved:
        record["progress"] = {"routine_id": "morning_stretches", "exercise_id": "calf_stretch"}
    skill = build_skill(CATALOG, store, SETTINGS)
    moment = dt.datetime(2026, 12, 8, 1, 30, tzinfo=NEW_YORK)
    for name, slots in NIGHT_TURNS:
        store_record(store, record)
        talk = Conversation(skill=skill, now=moment, screen=True)
        reply = talk.launch() if name == "launch" else talk.one_shot(name, **slots)
        shown = json.dumps(reply.screens).lower()
        assert "start my stretches" not in reply.reprompt.lower(), name
        assert "start my stretches" not in shown, name
        assert "anything else" not in reply.text.lower(), name
        if reply.ends_session:
            assert "?" not in reply.text, (name, reply.text)


def test_asked_to_relax_at_night_a_routine_that_suits_bedtime_is_named_then_the_session_ends(
    tmp_path,
):
    content = tmp_path / "content"
    shutil.copytree(CATALOG.directory, content)
    (content / "routines" / "wind_down.yaml").write_text(
        "routine:\n"
        "  id: wind_down\n"
        "  name: wind down stretch\n"
        "  synonyms: [wind down]\n"
        "  times_of_day: [evening, night]\n"
        "  suits_bedtime: true\n"
        "  steps:\n"
        "    - exercise: calf_stretch\n"
        "      reps: 3\n",
        encoding="utf-8",
    )
    catalog = load_catalog(content)
    response = answer(NIGHTS[0], "can you help me relax my legs", catalog)["response"]
    heard = output_text(response["outputSpeech"])
    assert "wind down stretch" in heard and "no stretches" not in heard.lower()
    assert response["shouldEndSession"] is True and "?" not in heard
    without = answer(NIGHTS[0], "can you help me relax my legs")["response"]
    assert "skip the stretches" in output_text(without["outputSpeech"]).lower()


@pytest.mark.parametrize(
    ("bedtime", "clock", "night"),
    [
        ("22:30", "23:30", True),
        ("22:30", "04:50", True),
        ("22:30", "05:10", False),
        ("22:30", "19:00", False),
        # A night shift's bedtime: the hours after it are night, not the whole day until 5 AM.
        ("08:00", "10:00", True),
        ("08:00", "16:30", True),
        ("08:00", "17:30", False),
        ("08:00", "23:00", False),
    ],
)
def test_night_runs_from_bedtime_to_five_and_never_longer_than_a_nights_sleep(
    catalog, bedtime, clock, night
):
    rules = catalog.rules.night
    longest = dt.timedelta(hours=rules.longest_hours)
    at = dt.time.fromisoformat(clock)
    assert is_night(at, dt.time.fromisoformat(bedtime), rules.ends, longest) is night
