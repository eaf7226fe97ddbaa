"""Answers through the real skill: real envelopes in, what the user would hear out.

One test (or a few) per question family: explaining an exercise, the lists, "can I … ?", limits,
tips, medication, bedtime, the disclaimer; and the device's time zone read over real HTTPS from a
fake Alexa Settings API on 127.0.0.1: a success, a 403 and a timeout.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from skill import clock
from skill.builder import build_skill
from skill.catalog.model import Catalog
from skill.settings import Settings
from tests.fake_alexa_api import ZONE_PATH, FakeAlexaApi, TlsFiles, make_tls_files
from tests.support import Conversation

# ---- the disclaimer --------------------------------------------------------------------------


def test_disclaimer_is_heard_once_and_replayed_on_request(talk):
    assert "not medical advice" in talk.launch().text
    talk.end_session()
    again = talk.launch()
    assert "not medical advice" not in again.text
    replay = talk.intent("DisclaimerIntent")
    assert "general information" in replay.text and "not medical advice" in replay.text
    assert not replay.ends_session


@pytest.mark.parametrize(
    ("intent", "slots"),
    [
        ("TipIntent", {"topic": ("bedtime tips", "bedtime")}),
        ("CanIDoIntent", {"activity": ("swim", "swimming"), "when": ("tonight", "tonight")}),
        ("ExplainExerciseIntent", {"exercise": ("bridge", "bridge")}),
        ("StartRoutineIntent", {"routine": ("morning stretches", "morning_stretches")}),
    ],
)
def test_a_new_users_first_one_shot_question_opens_with_the_disclaimer(talk, intent, slots):
    first = talk.one_shot(intent, **slots)
    assert first.text.startswith("Just so you know")
    assert "not medical advice" in first.text
    talk.end_session()
    assert "not medical advice" not in talk.launch().text


# ---- one exercise ------------------------------------------------------------------------------


def test_explaining_the_bridge_gives_setup_movement_reps_a_caution_and_an_offer(talk):
    talk.launch()
    reply = talk.intent("ExplainExerciseIntent", exercise=("bridge", "bridge"))
    assert "Lie down on your back" in reply.text
    assert "straight line from your knees to your shoulders" in reply.text
    assert "up to twenty times" in reply.text
    assert "Come back down slowly" in reply.text
    assert "walk you through it" in reply.text
    assert not reply.ends_session and "yes or no" in reply.reprompt
    assert talk.session_attributes["offer"] == {"kind": "guide_exercise", "exercise": "bridge"}
    assert reply.card and reply.card["title"] == "Bridge"


def test_a_per_side_exercise_names_the_sides_and_the_switch(talk):
    reply = talk.one_shot("ExplainExerciseIntent", exercise="lunges")  # a synonym, unresolved
    assert "left leg forward" in reply.text and "right shin down" in reply.text
    assert "hold for three seconds" in reply.text
    assert "five to eight times, then switch to your right leg" in reply.text
    assert "{" not in reply.ssml


def test_squats_are_only_a_few(talk):
    reply = talk.one_shot("ExplainExerciseIntent", exercise=("squats", "gentle_squat"))
    assert "Do this a few times" in reply.text
    assert "only a few at a time" in reply.text


def test_no_to_the_walk_through_ends_politely(talk):
    talk.launch()
    talk.intent("ExplainExerciseIntent", exercise=("calf stretch", "calf_stretch"))
    reply = talk.intent("AMAZON.NoIntent")
    assert reply.ends_session
    assert "go gently" in reply.text.lower()


def test_an_unknown_exercise_names_a_few_it_knows_and_keeps_listening(talk):
    talk.launch()
    reply = talk.intent("ExplainExerciseIntent", exercise="burpee")
    assert "burpee" not in reply.text  # never the user's words said back as if a name
    assert "Which exercise" in reply.text
    named = [n for n in ("calf stretch", "bridge", "lunge and stretch") if n in reply.text]
    assert len(named) == 3
    assert not reply.ends_session and reply.reprompt
    follow_up = talk.intent("ExplainExerciseIntent", exercise=("bridge", "bridge"))
    assert "Lie down on your back" in follow_up.text


def test_no_exercise_heard_asks_which(talk):
    talk.launch()
    reply = talk.intent("ExplainExerciseIntent")
    assert "Which exercise" in reply.text and not reply.ends_session


# ---- lists -------------------------------------------------------------------------------------


def test_the_exercise_list_is_short_and_grouped(talk, catalog: Catalog):
    reply = talk.one_shot("ListExercisesIntent")
    assert "Stretches:" in reply.text and "Strength moves:" in reply.text
    # Each kind names a few and counts the rest ("… and 2 more"), however many there are.
    named = [e for e in catalog.exercises.values() if e.name in reply.text]
    assert len(named) >= min(len(catalog.exercises), 3)
    assert len(named) == len(catalog.exercises) or "more" in reply.text
    assert len(reply.text.split()) < 60  # a short list, not a wall of names
    assert not reply.ends_session


def test_routines_are_listed_with_the_one_that_suits_the_morning(talk, catalog: Catalog):
    reply = talk.one_shot("ListRoutinesIntent")
    for routine in catalog.routines.values():
        assert routine.name in reply.text
    assert "Right now, the morning stretches would suit you" in reply.text
    assert "start my morning stretches" in reply.reprompt


def test_at_night_the_routine_list_suggests_none(talk):
    talk.wait(hours=14)  # 22:15
    reply = talk.one_shot("ListRoutinesIntent")
    assert "would suit you" not in reply.text


# ---- can I … ? ---------------------------------------------------------------------------------


def test_can_i_swim_tonight(talk):
    reply = talk.one_shot(
        "CanIDoIntent", activity=("swim", "swimming"), when=("tonight", "tonight")
    )
    assert not reply.answer.startswith("Yes")
    assert "great low-impact choice" in reply.text
    assert "close to your bedtime" in reply.text
    assert "warm, not hot, bath, and swim tomorrow morning" in reply.text
    assert not reply.ends_session


def test_cycling_now_in_the_morning_is_fine_below_ten_mph(talk):
    reply = talk.one_shot("CanIDoIntent", activity=("go cycling", "cycling"), when=("now", "now"))
    assert reply.answer.startswith("Yes")
    assert "below 10 miles per hour" in reply.text


def test_squats_before_bed_wait_for_the_day(talk):
    reply = talk.one_shot(
        "CanIDoIntent", activity=("squats", "squats"), when=("before bed", "before_bed")
    )
    assert "close to your bedtime" in reply.text
    assert "a few squats tomorrow during the day" in reply.text


@pytest.mark.parametrize(
    ("words", "activity_id", "alternative"),
    [
        ("hot yoga", "hot_yoga", "gentle yoga or Pilates"),
        ("run a marathon", "marathon", "gentle and simple"),
        ("crossfit", "extreme_exercise", "a few gentle squats"),
    ],
)
def test_extreme_forms_are_a_no_with_a_gentler_alternative(
    talk, catalog: Catalog, words, activity_id, alternative
):
    reply = talk.one_shot("CanIDoIntent", activity=(words, activity_id))
    assert not reply.answer.startswith("Yes")
    assert catalog.activities[activity_id].about in reply.text
    instead = catalog.activities[activity_id].instead.replace("{mph:10}", "10 miles per hour")
    assert f"Instead, {instead}" in reply.text
    assert alternative in reply.text


def test_an_afternoon_swim_is_fine_but_the_morning_is_better(talk):
    reply = talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), time="15:00")
    assert reply.answer.startswith("At 3 PM? You can.")
    assert "works best in the morning" in reply.text


def test_a_time_it_cannot_read_is_answered_for_now_and_says_so(talk):
    reply = talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), when="next blue moon")
    assert "didn't catch the time" in reply.text
    assert "Yes" in reply.text  # 8:15 in the morning: a good time for a swim


def test_an_unknown_activity_names_some_it_knows(talk):
    talk.launch()
    reply = talk.intent("CanIDoIntent", activity="burpees", when=("tonight", "tonight"))
    assert "burpees" not in reply.text
    assert "swimming, cycling or walking" in reply.text
    assert not reply.ends_session


@pytest.mark.parametrize(
    ("words", "activity_id", "expected"),
    [
        ("cycle", "cycling", "below 10 miles per hour"),
        ("squats", "squats", "only do a few at a time"),
        ("swim", "swimming", "pool float"),
        ("stretch", "stretching", "gentle and simple"),
        ("marathon", "marathon", "you shouldn't be running a marathon"),
    ],
)
def test_how_fast_or_how_much(talk, words, activity_id, expected):
    reply = talk.one_shot("ActivityLimitIntent", activity=(words, activity_id))
    assert expected in reply.text
    assert not reply.ends_session


def test_how_fast_with_no_activity_named_follows_the_last_answer(talk):
    alone = talk.one_shot("ActivityLimitIntent")
    assert "Which activity do you mean?" in alone.text  # nothing said before: ask which
    talk.intent("CanIDoIntent", activity=("ride my bike", "cycling"))
    follow_up = talk.intent("ActivityLimitIntent")
    assert "below 10 miles per hour" in follow_up.text
    talk.intent("CanIDoIntent", activity=("swim", "swimming"))
    assert "pool float" in talk.intent("ActivityLimitIntent").text
    talk.end_session()
    assert "Which activity" in talk.one_shot("ActivityLimitIntent").text  # not across sessions


# ---- bedtime -----------------------------------------------------------------------------------


def test_bedtime_is_confirmed_remembered_and_changes_the_advice(talk):
    talk.wait(hours=12, minutes=15)  # 20:30
    before = talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), when=("now", "now"))
    assert "close to your bedtime" in before.text  # the default bedtime is 22:30
    talk.end_session()

    said = talk.one_shot("SetBedtimeIntent", bedtime="12:30")  # "twelve thirty"
    assert "your bedtime is 12:30 AM" in said.text
    assert "three hours before it" in said.text
    talk.end_session()

    after = talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), when=("now", "now"))
    assert "close to your bedtime" not in after.text
    assert "You can." in after.text and "works best in the morning" in after.text


def test_ten_thirty_is_taken_as_the_evening(talk):
    reply = talk.one_shot("SetBedtimeIntent", bedtime="10:30")
    assert "your bedtime is 10:30 PM" in reply.text


@pytest.mark.parametrize("value", [None, "NI", "tomorrow"])
def test_a_bedtime_it_cannot_read_asks_for_a_clock_time(talk, value):
    reply = talk.one_shot("SetBedtimeIntent", bedtime=value)
    assert "What time do you usually go to bed" in reply.text
    assert not reply.ends_session


# ---- tips ----------------------------------------------------------------------------------------


def test_bedtime_tips_come_one_at_a_time_and_rotate(talk, catalog: Catalog):
    points = catalog.tips["bedtime"].points
    talk.launch()
    first = talk.intent("TipIntent", topic=("bedtime tips", "bedtime"))
    assert points[0] in first.text and points[1] not in first.text
    assert "another tip about bedtime" in first.text and not first.ends_session
    second = talk.intent("AMAZON.YesIntent")
    assert points[1] in second.text and points[0] not in second.text
    third = talk.intent("AMAZON.YesIntent")
    assert points[2] in third.text
    assert "a tip about" in third.text  # the topic is done: another topic is offered
    fourth = talk.intent("AMAZON.YesIntent")
    assert not any(point in fourth.text for point in points)
    goodbye = talk.intent("AMAZON.NoIntent")
    assert goodbye.ends_session


def test_asking_for_the_same_topic_again_gives_the_next_point(talk, catalog: Catalog):
    points = catalog.tips["caffeine"].points
    talk.launch()
    assert points[0] in talk.intent("TipIntent", topic=("coffee", "caffeine")).text
    assert points[1] in talk.intent("TipIntent", topic=("coffee", "caffeine")).text


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("what to do before bed", "warm, but not hot, bath"),
        ("coffee", "Cutting out caffeine"),
        ("cold packs", "Warm and cold compresses"),
        ("how long", "thirty minutes"),
        ("best time to stretch", "in the morning, and again in the afternoon"),
        ("how does exercise help", "blood to your leg muscles"),
    ],
)
def test_tip_questions(talk, words, expected):
    reply = talk.one_shot("TipIntent", topic=words)  # unresolved words: the catalog's synonyms
    assert expected in reply.text
    assert "Would you like" in reply.text and not reply.ends_session


def test_a_tip_with_no_topic_is_a_useful_general_one(talk, catalog: Catalog):
    reply = talk.one_shot("TipIntent")
    every_point = [p for t in catalog.tips.values() if not t.sensitive for p in t.points]
    assert sum(point in reply.text for point in every_point) == 1
    assert "Would you like" in reply.text


def test_an_unknown_topic_says_so_and_gives_a_general_tip(talk):
    reply = talk.one_shot("TipIntent", topic="unicorns")
    assert "don't have a tip on that" in reply.text and "unicorns" not in reply.text
    assert "Would you like" in reply.text


# ---- words that did not resolve: whatever the catalog knows about them, whichever intent ------


@pytest.mark.parametrize(
    ("intent", "slot", "words", "expected"),
    [
        ("TipIntent", "topic", "coffee being a problem", "Cutting out caffeine"),
        ("TipIntent", "topic", "use ice or heat", "Warm and cold compresses"),
        ("MedicationIntent", "medicine", "a can of soda", "Cutting out caffeine"),
        ("MedicationIntent", "medicine", "more ropinirole tonight", "ropinirole"),
        ("TipIntent", "topic", "take more ropinirole", "doctor"),
        ("ExplainExerciseIntent", "exercise", "a swim in the pool", "Swimming"),
        ("CanIDoIntent", "activity", "the quad stretch thing", "standing quad stretch"),
        ("ActivityLimitIntent", "activity", "riding my bike", "below 10 miles per hour"),
        ("QuestionIntent", "question", "my morning routine", "say start my morning stretches"),
        ("QuestionIntent", "question", "drinking decaf", "caffeine"),
    ],
)
def test_words_that_name_something_get_its_answer_whichever_intent(
    talk, intent, slot, words, expected
):
    reply = talk.one_shot(intent, **{slot: words})
    assert expected in reply.text
    assert words not in reply.text


@pytest.mark.parametrize(
    ("intent", "slot"),
    [
        ("ExplainExerciseIntent", "exercise"),
        ("CanIDoIntent", "activity"),
        ("ActivityLimitIntent", "activity"),
        ("TipIntent", "topic"),
        ("QuestionIntent", "question"),
    ],
)
def test_words_that_name_nothing_are_never_said_back(talk, intent, slot):
    reply = talk.one_shot(intent, **{slot: "the weather instead"})
    assert "weather" not in reply.text and "instead" not in reply.text.lower().split(".")[0]
    assert not reply.ends_session and reply.reprompt


def test_yes_to_the_routines_bedtime_offer_gives_a_bedtime_tip(talk, catalog: Catalog):
    # The routines make this offer when someone starts stretching too close to bedtime; Alexa
    # sends the session's attributes back with the user's "yes".
    talk.launch()
    talk.session_attributes["offer"] = {"kind": "tip", "topic": "bedtime"}
    reply = talk.intent("AMAZON.YesIntent")
    assert catalog.tips["bedtime"].points[0] in reply.text


def test_yes_with_no_offer_pending_is_not_taken_as_a_tip(talk):
    talk.launch()
    reply = talk.intent("AMAZON.YesIntent")
    # Heard fine, so no "didn't catch that": what to ask for, with the session kept open.
    assert "didn't catch that" not in reply.text and "tip" not in reply.text.split(".")[0]
    assert "start my stretches" in reply.text
    assert not reply.ends_session and reply.reprompt


# ---- medication ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ask",
    [
        lambda talk: talk.one_shot("MedicationIntent"),
        lambda talk: talk.one_shot("TipIntent", topic=("my medication", "medication")),
        lambda talk: talk.one_shot("TipIntent", topic="diagnosis"),
        # Caught by another intent's sample, the words still name medication.
        lambda talk: talk.one_shot("CanIDoIntent", activity="skip my medication", when=None),
        lambda talk: talk.one_shot("ActivityLimitIntent", activity="my pills"),
        lambda talk: talk.one_shot("ExplainExerciseIntent", exercise="stop my medicine"),
    ],
    ids=[
        "medication-intent",
        "medication-topic",
        "diagnosis-words",
        "medication-as-activity",
        "pills-as-activity",
        "medicine-as-exercise",
    ],
)
def test_medication_questions_go_kindly_to_the_doctor_and_never_say_stop(talk, ask):
    reply = ask(talk)
    assert "your doctor" in reply.text
    assert "can't give advice about medication or diagnosis" in reply.text
    assert "stop" not in reply.text.lower()
    assert not reply.ends_session


# ---- the device's time zone, over real HTTPS -------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def trust_test_ca(tls: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests reads these, so the skill's own API client is used
    # exactly as built.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    return settings.with_overrides(settings_api_timeout=0.3)


@pytest.fixture
def device_talk(catalog, store, api_settings, morning, trust_test_ca) -> Iterator[Conversation]:
    """A conversation from a fresh device (the zone cache is per device) with an API token."""
    skill = build_skill(catalog, store, api_settings)
    yield Conversation(
        skill=skill,
        now=morning,  # 8:15 in New York is 22:15 in Tokyo
        device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
        api_access_token="token-for-this-test",
    )


def ask_to_swim_now(talk: Conversation):
    return talk.one_shot("CanIDoIntent", activity=("swim", "swimming"), when=("now", "now"))


def test_a_tokyo_device_at_night_is_told_to_wait(device_talk: Conversation, tls: TlsFiles):
    with FakeAlexaApi(tls, zone="Asia/Tokyo") as api:
        device_talk.api_endpoint = api.endpoint
        reply = ask_to_swim_now(device_talk)
        assert "close to your bedtime" in reply.text  # 22:15 in Tokyo
        assert [r.path for r in api.seen] == [ZONE_PATH.format(device_id=device_talk.device_id)]
        assert api.seen[0].authorization == "Bearer token-for-this-test"

        device_talk.end_session()
        ask_to_swim_now(device_talk)
        assert len(api.seen) == 1  # the zone is cached for the device


def test_a_403_falls_back_to_the_default_zone(device_talk: Conversation, tls: TlsFiles):
    with FakeAlexaApi(tls, status=403) as api:
        device_talk.api_endpoint = api.endpoint
        reply = ask_to_swim_now(device_talk)
        assert len(api.seen) == 1
        assert reply.answer.startswith("Yes")  # 8:15 in New York, the configured zone
        device_talk.end_session()
        ask_to_swim_now(device_talk)
        assert len(api.seen) == 1  # the failure is remembered: no call on every turn


def test_a_slow_api_times_out_and_the_skill_still_answers(device_talk: Conversation, tls: TlsFiles):
    with FakeAlexaApi(tls, delay=5.0) as api:  # far longer than the 0.3 s timeout
        device_talk.api_endpoint = api.endpoint
        reply = ask_to_swim_now(device_talk)
        assert len(api.seen) == 1
        assert reply.answer.startswith("Yes") and not reply.ends_session


def test_an_unknown_zone_name_falls_back_too(device_talk: Conversation, tls: TlsFiles):
    with FakeAlexaApi(tls, zone="Mars/Olympus_Mons") as api:
        device_talk.api_endpoint = api.endpoint
        assert ask_to_swim_now(device_talk).answer.startswith("Yes")
        assert len(api.seen) == 1


def test_the_request_timestamp_not_the_server_clock_decides_now(device_talk, tls: TlsFiles):
    with FakeAlexaApi(tls, zone="Asia/Tokyo") as api:
        device_talk.api_endpoint = api.endpoint
        device_talk.now = dt.datetime(2026, 11, 17, 0, 15, tzinfo=dt.UTC)  # 9:15 in Tokyo
        assert ask_to_swim_now(device_talk).answer.startswith("Yes")


def test_a_failed_lookup_is_retried_after_a_few_minutes_and_a_zone_after_an_hour(
    device_talk: Conversation, tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
):
    elapsed = [0.0]
    zones = clock.DeviceZones(timer=lambda: elapsed[0])
    monkeypatch.setattr(clock, "DEVICE_ZONES", zones)
    with FakeAlexaApi(tls, status=403) as api:
        device_talk.api_endpoint = api.endpoint
        ask_to_swim_now(device_talk)
        elapsed[0] = zones.failed_ttl - 1
        ask_to_swim_now(device_talk)
        assert len(api.seen) == 1
        elapsed[0] = zones.failed_ttl + 1
        api.status = 200  # the API is back: the device is in Tokyo
        assert "close to your bedtime" in ask_to_swim_now(device_talk).text
        assert len(api.seen) == 2
        elapsed[0] += zones.ttl - 1
        ask_to_swim_now(device_talk)
        assert len(api.seen) == 2
        elapsed[0] += 2
        ask_to_swim_now(device_talk)
        assert len(api.seen) == 3
