"""Guided routines as a user lives them: real request envelopes through the real skill, with the
session attributes carried between turns and the store carried between sessions."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from num2words import num2words

from skill.state import state_from_record
from tests.support import Conversation, Reply, store_record, stored_record

MORNING = ("morning stretches", "morning_stretches")
COUNT_WORDS = {num2words(n).capitalize(): n for n in range(1, 51)}


def spoken_counts(text: str) -> list[int]:
    """The rep numbers spoken, in order: "One, lift your heel … Two, …" → [1, 2, …]."""
    words = re.findall(r"\b([A-Z][a-z]+(?:-[a-z]+)?),", text)
    return [COUNT_WORDS[w] for w in words if w in COUNT_WORDS]


def sets(counts: list[int]) -> list[list[int]]:
    """Counts grouped into sets: each set starts again at one."""
    out: list[list[int]] = []
    for count in counts:
        if count == 1 or not out:
            out.append([])
        out[-1].append(count)
    return out


def check_speech_rules(reply: Reply) -> None:
    """What every response must keep: well-formed SSML in <speak>, breaks of at most 10 s, at
    most 8,000 characters, a whole response under 24 KB, no template markers, and a reprompt if
    the session stays open. (No limit on how long it runs: a set is never cut for time.)"""
    assert ET.fromstring(reply.ssml).tag == "speak"
    assert all(0 < ms <= 10_000 for ms in reply.breaks_ms)
    assert len(reply.ssml) <= 8000
    assert len(json.dumps(reply.body).encode()) < 24 * 1024
    assert not re.search(r"\{\w+\}", reply.ssml)
    if not reply.ends_session:
        assert reply.reprompt


def card_title(reply: Reply) -> str | None:
    return (reply.card or {}).get("title")


def asks_about_a_reminder(reply: Reply) -> bool:
    return "remind you tomorrow" in reply.text and not reply.ends_session


def run_to_end(talk: Conversation, first: Reply) -> list[Reply]:
    """Say "next" until the routine is finished; every response is checked on the way. The last
    reply is the finish. If it asks (once ever) whether to set a reminder, the answer is "no",
    which ends the session."""
    replies = [first]
    check_speech_rules(first)
    while not replies[-1].ends_session and not asks_about_a_reminder(replies[-1]):
        assert len(replies) < 60, "the routine never ends"
        reply = talk.intent("AMAZON.NextIntent")
        check_speech_rules(reply)
        replies.append(reply)
    if asks_about_a_reminder(replies[-1]):
        declined = talk.intent("AMAZON.NoIntent")
        check_speech_rules(declined)
        assert declined.ends_session and "won't ask again" in declined.text
    return replies


def by_exercise(replies: list[Reply]) -> dict[str, str]:
    text: dict[str, str] = {}
    for reply in replies:
        title = card_title(reply)
        assert title, f"an exercise turn without a card: {reply.text}"
        text[title] = text.get(title, "") + " " + reply.text
    return text


def progress_of(store) -> tuple[str | None, int, int, bool] | None:
    progress = state_from_record(stored_record(store)).progress
    if progress is None:
        return None
    return progress.exercise_id, progress.step, progress.segment, progress.paused


# ---- start to finish ---------------------------------------------------------------------------


def test_a_whole_morning_routine_start_to_finish(talk, store, catalog):
    first = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert "not medical advice" in first.text  # a first-ever start hears the disclaimer
    assert "morning stretches" in first.text and "four exercises" in first.text
    assert re.search(r"about \w+ minutes", first.text)
    replies = run_to_end(talk, first)

    exercises = by_exercise(replies)
    assert list(exercises) == [
        "Calf stretch",
        "Lunge and stretch",
        "Standing quad stretch",
        "Inner thigh stretch",
    ]
    # The articles: calf raises up to five times a leg; the lunge five to eight per side; the
    # quad stretch up to five with each leg; the inner-thigh stretch up to ten, then switch.
    assert sets(spoken_counts(exercises["Calf stretch"])) == [[1, 2, 3, 4, 5]] * 2
    assert sets(spoken_counts(exercises["Lunge and stretch"])) == [[1, 2, 3, 4, 5]] * 2
    assert sets(spoken_counts(exercises["Standing quad stretch"])) == [[1, 2, 3, 4, 5]] * 2
    assert sets(spoken_counts(exercises["Inner thigh stretch"])) == [list(range(1, 11))] * 2
    for name, text in exercises.items():
        assert "switch to your right leg" in text, name

    last = replies[-1]
    assert "morning stretches done" in last.text or "morning stretches finished" in last.text
    assert "first day this week" in last.text
    assert "Would you like me to remind you tomorrow morning?" in last.text  # the first finish
    record = state_from_record(stored_record(store))
    assert record.completions == {"morning_stretches": ["2026-11-17"]}
    assert record.progress is None


def test_each_exercise_turn_sends_a_card_and_a_shorter_reprompt(talk):
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert reply.card["type"] == "Standard"
    assert reply.card["title"] == "Calf stretch"
    assert "Stand with your left leg forward" in reply.card["text"]
    assert "5 times with each leg" in reply.card["text"]
    assert "Say next for your right leg" in reply.reprompt
    assert len(reply.reprompt) < len(reply.text) / 5
    reply = talk.intent("AMAZON.NextIntent")
    assert "Say next for the lunge and stretch" in reply.text
    assert reply.reprompt.startswith("Say next for the lunge and stretch")


def test_the_lunge_holds_three_seconds_each_direction(talk):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    lunge = [talk.intent("AMAZON.NextIntent"), talk.intent("AMAZON.NextIntent")]
    assert {card_title(r) for r in lunge} == {"Lunge and stretch"}
    ssml = " ".join(r.ssml for r in lunge)
    assert len(re.findall(r'rock back, and hold <break time="3000ms"/>', ssml)) == 10
    assert len(re.findall(r'rock forward, and hold <break time="3000ms"/>', ssml)) == 10


def test_completing_on_two_days_counts_two_days_this_week(talk, morning):
    run_to_end(talk, talk.one_shot("StartRoutineIntent", routine=MORNING))
    talk.wait(days=1)
    last = run_to_end(talk, talk.one_shot("StartRoutineIntent", routine=MORNING))[-1]
    assert "two days this week" in last.text
    assert last.ends_session and "remind" not in last.text  # the offer is made once
    talk.wait(days=6)  # the next Wednesday: a new week
    last = run_to_end(talk, talk.one_shot("StartRoutineIntent", routine=MORNING))[-1]
    assert "first day this week" in last.text


def test_next_after_the_day_s_routine_is_finished_says_so(talk):
    run_to_end(talk, talk.one_shot("StartRoutineIntent", routine=MORNING))
    talk.launch()
    reply = talk.intent("AMAZON.NextIntent")
    assert "already finished your morning stretches today" in reply.text
    assert not reply.ends_session and reply.reprompt
    talk.wait(days=1)
    reply = talk.one_shot("AMAZON.NextIntent")
    assert "already finished" not in reply.text
    assert "to begin your morning stretches" in reply.text


def test_a_started_routine_is_introduced_in_the_number_of_its_name(talk, catalog):
    wrong = {"morning_stretches": "Here's your", "gentle_strength": "Here are your"}
    for words, routine_id in (MORNING, ("gentle strength", "gentle_strength")):
        name = catalog.routines[routine_id].name
        openings = set()
        for _ in range(20):  # the intro has variants; each start picks one
            text = talk.one_shot("StartRoutineIntent", routine=(words, routine_id)).text
            assert f"{wrong[routine_id]} {name}" not in text
            openings.add("Here" if f"your {name}. That's" in text and "Here" in text else "Let's")
            talk.intent("AMAZON.StopIntent")
        assert openings == {"Here", "Let's"}, "both variants were heard"


def test_start_my_stretches_picks_the_routine_by_the_time_of_day(talk):
    assert "morning stretches" in talk.one_shot("StartRoutineIntent").text
    talk.wait(hours=6)  # 14:15
    assert "afternoon stretches" in talk.one_shot("StartRoutineIntent").text


@pytest.mark.parametrize(
    ("pace_words", "pace"),
    [
        (["SlowDownIntent", "SlowDownIntent"], "slowest"),
        (["SlowDownIntent"], "slower"),
        ([], "normal"),
        (["SpeedUpIntent"], "faster"),
    ],
)
@pytest.mark.parametrize("routine", [MORNING, ("gentle strength", "gentle_strength")])
def test_every_response_keeps_the_speech_rules_at_every_pace(
    talk, store, pace_words, pace, routine
):
    talk.launch()
    for intent in pace_words:
        talk.intent(intent)
    assert state_from_record(stored_record(store)).pace == pace
    replies = run_to_end(talk, talk.intent("StartRoutineIntent", routine=routine))
    assert len(replies) >= 2


def test_a_guided_single_bridge_counts_ten_in_one_set_like_the_routine(talk, store):
    # The exercise's count (ten of the article's "up to twenty") wherever the bridge is guided.
    first = talk.one_shot("GuideExerciseIntent", exercise=("bridge", "bridge"))
    assert "bridge together" in first.text
    check_speech_rules(first)
    assert spoken_counts(first.text) == list(range(1, 11))
    assert "bridge done" in first.text or "bridge finished" in first.text
    assert not first.ends_session  # a single exercise leaves room for something else
    assert progress_of(store) is None


def test_yes_to_walk_me_through_it_starts_the_guided_exercise(talk):
    talk.launch()
    # the answers' "how do I do the lunge?" leaves this offer behind
    talk.session_attributes["offer"] = {"kind": "guide_exercise", "exercise": "lunge_and_stretch"}
    reply = talk.intent("AMAZON.YesIntent")
    assert card_title(reply) == "Lunge and stretch"
    assert spoken_counts(reply.text)[:2] == [1, 2]


# ---- navigation --------------------------------------------------------------------------------


def test_next_back_repeat_and_start_over(talk, store):
    calf_left = talk.one_shot("StartRoutineIntent", routine=MORNING)
    calf_right = talk.intent("AMAZON.NextIntent")
    assert "switch to your right leg" in calf_right.text

    back = talk.intent("AMAZON.PreviousIntent")
    assert back.text.startswith("Okay, going back.")
    assert "Stand with your left leg forward" in back.text
    assert progress_of(store) == ("calf_stretch", 0, 0, False)

    # "Repeat" is the set again: not what the last turn said before it ("okay, going back").
    again = talk.intent("AMAZON.RepeatIntent")
    assert not again.text.startswith("Okay, going back.")
    assert spoken_counts(again.text) == spoken_counts(back.text)
    assert again.reprompt == back.reprompt and again.card == back.card
    repeated_start = talk.one_shot("StartRoutineIntent", routine=MORNING)
    first_set = talk.intent("AMAZON.RepeatIntent")
    assert "morning stretches" in repeated_start.text.lower()
    assert "morning stretches" not in first_set.text.lower()  # no introduction
    assert spoken_counts(first_set.text) == spoken_counts(repeated_start.text)

    talk.intent("AMAZON.NextIntent")
    lunge = talk.intent("AMAZON.NextIntent")
    assert card_title(lunge) == "Lunge and stretch"
    assert "exercise two of four" in lunge.text.lower()
    back_to_calf = talk.intent("AMAZON.PreviousIntent")
    assert card_title(back_to_calf) == "Calf stretch"
    assert "left leg" in back_to_calf.text

    top = talk.intent("AMAZON.StartOverIntent")
    assert top.text.startswith("Okay, starting again from the top.")
    assert "morning stretches" in top.text
    assert spoken_counts(top.text) == spoken_counts(calf_left.text)
    at_start = talk.intent("AMAZON.PreviousIntent")
    assert "first one" in at_start.text
    assert progress_of(store) == ("calf_stretch", 0, 0, False)


def test_progress_is_saved_every_turn_without_waiting_for_session_end(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.NextIntent")
    assert progress_of(store) == ("lunge_and_stretch", 1, 0, False)
    # The device never sends SessionEnded; the next session still knows.
    talk.wait(minutes=30)
    offer = talk.launch()
    assert "lunge and stretch" in offer.text and "pick up where you left off" in offer.text
    reply = talk.intent("AMAZON.YesIntent")
    assert card_title(reply) == "Lunge and stretch"


def test_pause_end_the_session_relaunch_and_resume(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    paused = talk.intent("AMAZON.PauseIntent")
    assert "take a break" in paused.text and "calf stretch" in paused.text
    assert progress_of(store) == ("calf_stretch", 0, 1, True)
    talk.end_session()

    talk.wait(hours=2)
    offer = talk.launch()
    assert "calf stretch" in offer.text and "pick up where you left off" in offer.text
    assert not offer.ends_session and offer.reprompt
    resumed = talk.intent("AMAZON.YesIntent")
    assert "where you left off" in resumed.text
    assert card_title(resumed) == "Calf stretch"
    assert "right leg" in resumed.text and spoken_counts(resumed.text) == [1, 2, 3, 4, 5]
    assert progress_of(store) == ("calf_stretch", 0, 1, False)
    assert card_title(talk.intent("AMAZON.NextIntent")) == "Lunge and stretch"


def test_stop_mid_exercise_and_resume_in_a_new_session(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.NextIntent")
    stopped = talk.intent("AMAZON.StopIntent")
    assert stopped.ends_session
    assert "saved your place at the lunge and stretch" in stopped.text

    talk.wait(hours=3)
    resumed = talk.one_shot("ResumeRoutineIntent")
    assert card_title(resumed) == "Lunge and stretch"
    assert "left leg" in resumed.text
    assert not resumed.ends_session
    assert progress_of(store) == ("lunge_and_stretch", 1, 0, False)


def test_amazon_resume_works_as_well(talk):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.CancelIntent")
    assert card_title(talk.one_shot("AMAZON.ResumeIntent")) == "Calf stretch"


def test_no_to_picking_up_forgets_the_place(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.StopIntent")
    talk.launch()
    reply = talk.intent("AMAZON.NoIntent")
    assert not reply.ends_session and reply.reprompt
    assert progress_of(store) is None
    talk.end_session()
    assert "pick up" not in talk.launch().text


def test_a_long_gap_offers_a_fresh_start(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.StopIntent")

    talk.wait(hours=26)  # Wednesday morning
    offer = talk.launch()
    assert "start fresh" in offer.text and "from the top" in offer.text
    fresh = talk.intent("AMAZON.YesIntent")
    assert "morning stretches" in fresh.text and card_title(fresh) == "Calf stretch"
    assert progress_of(store) == ("calf_stretch", 0, 0, False)


def test_after_a_long_gap_saying_resume_twice_picks_up_anyway(talk):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.NextIntent")
    talk.intent("AMAZON.StopIntent")
    talk.wait(hours=26)
    offer = talk.one_shot("ResumeRoutineIntent")
    assert "start fresh" in offer.text
    resumed = talk.intent("ResumeRoutineIntent")
    assert card_title(resumed) == "Lunge and stretch"


# ---- pace --------------------------------------------------------------------------------------


def test_slow_down_slows_the_talk_and_the_movements_not_the_holds_and_is_remembered(talk, store):
    before = talk.one_shot("StartRoutineIntent", routine=MORNING)
    slower = talk.intent("SlowDownIntent")
    assert "slow" in slower.text.lower() and card_title(slower) == "Calf stretch"
    # the same set again (the calf stretch has no hold): every pause half as long again, and
    # the instructions spoken more slowly
    assert spoken_counts(slower.text) == spoken_counts(before.text)
    assert slower.breaks_ms == [round(ms * 1.5) for ms in before.breaks_ms]
    assert "<prosody" not in before.ssml
    assert re.search(r'<prosody rate="\d+%">Stand with your left leg forward', slower.ssml)
    assert state_from_record(stored_record(store)).pace == "slower"

    # later exercises keep the pace, and so does tomorrow; the lunge's hold stays three seconds
    talk.intent("AMAZON.NextIntent")
    lunge = talk.intent("AMAZON.NextIntent")
    assert "hold for three seconds" in lunge.text
    assert lunge.ssml.count('and hold <break time="3000ms"/>') == 10
    talk.intent("AMAZON.StopIntent")
    talk.wait(days=1)
    tomorrow = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert tomorrow.breaks_ms == slower.breaks_ms

    faster = talk.intent("SpeedUpIntent")
    assert faster.breaks_ms == before.breaks_ms


def test_slow_down_at_the_slowest_pace_says_so_and_keeps_the_place(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("SlowDownIntent")
    talk.intent("SlowDownIntent")
    where = progress_of(store)
    reply = talk.intent("SlowDownIntent")
    assert "slowest" in reply.text and not reply.ends_session and reply.reprompt
    assert progress_of(store) == where


def test_slow_down_outside_a_routine_is_remembered_for_the_next(talk, store):
    talk.launch()
    reply = talk.intent("SlowDownIntent")
    assert "from now on" in reply.text and not reply.ends_session
    assert state_from_record(stored_record(store)).pace == "slower"


# ---- help and fallback ---------------------------------------------------------------------------


def test_help_and_fallback_mid_routine_keep_the_place(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    calf_right = talk.intent("AMAZON.NextIntent")
    helped = talk.intent("AMAZON.HelpIntent")
    assert "calf stretch, exercise one of four" in helped.text
    assert "next" in helped.text and "slow down" in helped.text
    assert not helped.ends_session and helped.reprompt
    assert talk.intent("AMAZON.RepeatIntent").ssml == calf_right.ssml

    missed = talk.intent("AMAZON.FallbackIntent")
    # The words not understood may have been "ow, my calf": never just "say next to carry on".
    assert (
        "still on the calf stretch" in missed.text and "feel unwell, stop and rest" in missed.text
    )
    assert not missed.ends_session and missed.reprompt
    stray_no = talk.intent("AMAZON.NoIntent")
    assert "calf stretch" in stray_no.text and not stray_no.ends_session
    assert "missed" not in stray_no.text and "feel unwell, stop and rest" in stray_no.text
    assert progress_of(store) == ("calf_stretch", 0, 1, False)

    # "Okay" or "yes" when nothing was asked goes on, as every set ends with "say next for …".
    lunge = talk.intent("AMAZON.YesIntent")
    assert card_title(lunge) == "Lunge and stretch"


# ---- bedtime -----------------------------------------------------------------------------------


def test_close_to_bedtime_it_warns_and_offers_tips_then_starts_anyway(talk, store):
    talk.wait(hours=12, minutes=15)  # 20:30, two hours before the default 22:30 bedtime
    warned = talk.one_shot("StartRoutineIntent")
    assert "before going to bed" in warned.text and "bedtime tips" in warned.text
    assert "start anyway" in warned.text
    assert warned.card is None and spoken_counts(warned.text) == []
    assert not warned.ends_session and warned.reprompt
    assert talk.session_attributes["offer"]["kind"] == "tip"
    assert talk.session_attributes["offer"]["topic"] == "bedtime"
    assert progress_of(store) is None

    started = talk.intent("StartAnywayIntent")
    assert card_title(started) == "Calf stretch"
    assert "afternoon stretches" in started.text  # the routine for the evening
    assert progress_of(store) == ("calf_stretch", 0, 0, False)


def test_yes_to_the_bedtime_offer_gives_a_tip_and_start_anyway_still_works(talk, store):
    talk.wait(hours=12, minutes=15)  # 20:30
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    tip = talk.intent("AMAZON.YesIntent")
    assert "warm, but not hot, bath or shower" in tip.text
    assert not tip.ends_session and progress_of(store) is None
    started = talk.intent("StartAnywayIntent")  # they changed their mind after the tip
    assert "morning stretches" in started.text and card_title(started) == "Calf stretch"


def test_a_named_routine_near_bedtime_is_warned_and_start_anyway_starts_that_one(talk):
    talk.wait(hours=13)  # 21:15
    assert "before going to bed" in talk.one_shot("StartRoutineIntent", routine=MORNING).text
    assert "morning stretches" in talk.intent("StartAnywayIntent").text


def test_the_users_own_bedtime_decides(talk, store):
    store_record(store, {"version": 1, "bedtime": "11:00", "disclaimer_heard": True})
    warned = talk.one_shot("StartRoutineIntent", routine=MORNING)  # 08:15, bedtime 11:00
    assert "before going to bed" in warned.text
    store_record(store, {"version": 1, "bedtime": "23:30", "disclaimer_heard": True})
    talk.wait(hours=12)  # 20:15 is more than three hours before a 23:30 bedtime
    assert card_title(talk.one_shot("StartRoutineIntent", routine=MORNING)) == "Calf stretch"


def test_guiding_one_exercise_near_bedtime_is_warned_too(talk):
    talk.wait(hours=13)
    warned = talk.one_shot("GuideExerciseIntent", exercise=("bridge", "bridge"))
    assert "before going to bed" in warned.text
    assert card_title(talk.intent("StartAnywayIntent")) == "Bridge"


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intent", "expected"),
    [
        ("AMAZON.NextIntent", "not doing any stretches"),
        ("AMAZON.PreviousIntent", "not doing any stretches"),
        ("AMAZON.PauseIntent", "not doing any stretches"),
        ("AMAZON.StartOverIntent", "not doing any stretches"),
        ("ResumeRoutineIntent", "nothing paused"),
        ("AMAZON.ResumeIntent", "nothing paused"),
        ("AMAZON.RepeatIntent", "nothing to repeat"),
    ],
)
def test_commands_that_make_no_sense_yet_get_a_helpful_answer(talk, intent, expected):
    reply = talk.one_shot(intent)
    assert expected in reply.text
    assert "start my stretches" in reply.text
    assert not reply.ends_session and reply.reprompt


def test_near_bedtime_a_command_with_nothing_running_offers_a_bedtime_tip(talk):
    talk.wait(hours=13, minutes=30)  # 21:45, close to the default 22:30 bedtime (after it: night)
    reply = talk.one_shot("AMAZON.PauseIntent")
    assert "not doing any stretches" in reply.text
    assert "start my stretches" not in reply.text  # the start would only be warned against
    assert "bedtime tip" in reply.text and not reply.ends_session
    tip = talk.intent("AMAZON.YesIntent")
    assert "warm, but not hot, bath or shower" in tip.text


def test_next_in_a_new_session_with_a_saved_place_says_how_to_resume(talk):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.StopIntent")
    reply = talk.one_shot("AMAZON.NextIntent")
    assert "resume my stretches" in reply.text and "calf stretch" in reply.text
    assert not reply.ends_session


def test_an_unknown_routine_name_lists_the_ones_there_are(talk, store):
    reply = talk.one_shot("StartRoutineIntent", routine="marathon training")
    assert "don't know a routine called marathon training" in reply.text
    assert "morning stretches" in reply.text and "afternoon stretches" in reply.text
    assert not reply.ends_session and reply.reprompt
    assert progress_of(store) is None
    # the session is still usable
    assert card_title(talk.intent("StartRoutineIntent", routine=MORNING)) == "Calf stretch"


def test_a_routine_slot_naming_an_exercise_guides_that_exercise(talk):
    reply = talk.one_shot("StartRoutineIntent", routine="bridges")
    assert card_title(reply) == "Bridge"


@pytest.mark.parametrize(
    ("slot", "expected"),
    [("burpees", "don't know an exercise called burpees"), (None, "Which exercise")],
)
def test_an_unknown_or_missing_exercise_asks_which(talk, slot, expected):
    reply = talk.one_shot("GuideExerciseIntent", exercise=slot)
    assert expected in reply.text
    assert "calf stretch" in reply.text
    assert not reply.ends_session and reply.reprompt


@pytest.mark.parametrize(
    "record",
    [
        {"progress": "garbage", "pace": 5, "completions": [1, 2]},
        "not even a mapping",
        {"version": 1, "progress": {"routine_id": "evening_yoga", "step": 2}},
        {"version": 1, "progress": {"routine_id": "morning_stretches", "step": 42}},
        {"version": 1, "pace": "ludicrous", "bedtime": "99:99"},
    ],
    ids=["wrong types", "not a mapping", "unknown routine", "step past the end", "bad values"],
)
def test_a_corrupted_stored_record_never_breaks_a_turn(talk, store, record):
    store_record(store, record)
    launched = talk.launch()
    assert not launched.ends_session and launched.reprompt
    assert "wrong" not in launched.text
    for intent in ("ResumeRoutineIntent", "AMAZON.NextIntent", "StartRoutineIntent"):
        reply = talk.intent(intent)
        assert "wrong" not in reply.text, reply.text
        assert not reply.ends_session
    # after that turn the user is running a routine from the top, whatever was stored
    assert progress_of(store) == ("calf_stretch", 0, 0, False)


def test_saved_progress_the_catalog_no_longer_has_is_forgotten_on_resume(talk, store):
    store_record(
        store,
        {"version": 1, "disclaimer_heard": True, "progress": {"routine_id": "evening_yoga"}},
    )
    reply = talk.one_shot("ResumeRoutineIntent")
    assert "lost track" in reply.text and not reply.ends_session
    assert progress_of(store) is None


def test_at_the_slowest_pace_each_lunge_side_is_one_uninterrupted_set(talk):
    """Kneeling in a lunge, nobody has to say "next" mid-set, however slow the pace."""
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("SlowDownIntent")
    talk.intent("SlowDownIntent")
    talk.intent("AMAZON.NextIntent")
    lunge = talk.intent("AMAZON.NextIntent")
    assert card_title(lunge) == "Lunge and stretch"
    assert spoken_counts(lunge.text) == [1, 2, 3, 4, 5]
    assert "Say next for your right leg" in lunge.text
    right = talk.intent("AMAZON.NextIntent")
    assert spoken_counts(right.text) == [1, 2, 3, 4, 5]


# ---- your routine, your way --------------------------------------------------------------------

LUNGE = ("lunges", "lunge_and_stretch")
PACES = ("slowest", "slower", "normal", "faster")


@pytest.mark.parametrize("pace", PACES)
def test_do_eight_lunges_counts_eight_a_side_at_every_pace(talk, store, pace):
    store_record(store, {"pace": pace})
    chosen = talk.one_shot("RepsIntent", count="eight", exercise=LUNGE)
    assert "eight with each leg for the lunge and stretch" in chosen.text
    talk.intent("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    left = talk.intent("AMAZON.NextIntent")
    right = talk.intent("AMAZON.NextIntent")
    for side, reply in (("left", left), ("right", right)):
        assert f"eight with your {side} leg" in reply.text
        assert spoken_counts(reply.text) == list(range(1, 9))
        assert reply.ssml.count('and hold <break time="3000ms"/>') == 16  # the hold it says
    assert "8 times with each leg" in left.card["text"]
    assert state_from_record(stored_record(store)).reps == {"lunge_and_stretch": 8}


def test_twelve_lunges_are_refused_with_the_articles_limit(talk, store):
    refused = talk.one_shot("RepsIntent", count="12", exercise=LUNGE)
    assert "five to eight" in refused.text
    assert "Complete the stretch between five and eight times" in refused.text
    assert state_from_record(stored_record(store)).reps == {}


def test_a_slow_pace_speaks_the_instructions_slowly_and_holds_what_it_says(talk, store):
    store_record(store, {"pace": "slowest"})
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.intent("AMAZON.NextIntent")
    lunge = talk.intent("AMAZON.NextIntent")
    assert re.search(r'<prosody rate="\d+%">Gently rock backward and hold for three', lunge.ssml)
    assert lunge.ssml.count('and hold <break time="3000ms"/>') == 10
    assert "<prosody" not in lunge.ssml.split("One,")[1]  # the count itself is not slowed


def test_in_ready_mode_nothing_is_counted_before_ready(talk, store):
    talk.one_shot("ReadyModeIntent")
    prepared = talk.intent("StartRoutineIntent", routine=MORNING)
    assert "Say ready when you're in position" in prepared.text
    assert spoken_counts(prepared.text) == [] and not prepared.ends_session
    assert "ready" in prepared.reprompt.lower()
    waited = state_from_record(stored_record(store)).progress
    assert waited.prepared and waited.spoken_until == ""
    # no answer: the session ends and the place is kept, still uncounted
    talk.end_session()
    assert state_from_record(stored_record(store)).progress.exercise_id == "calf_stretch"
    again = talk.one_shot("ResumeRoutineIntent")
    assert spoken_counts(again.text) == [] and "Say ready" in again.text
    counted = talk.intent("AMAZON.NextIntent")
    assert spoken_counts(counted.text) == [1, 2, 3, 4, 5]


def test_a_skip_for_pain_never_starts_the_skipped_exercise(talk, store):
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    reply = talk.intent("PainSkipIntent", exercise=("lunge", "lunge_and_stretch"))
    assert spoken_counts(reply.text) == [] and "rock" not in reply.text
    assert "leave out the lunge and stretch from now on" in reply.text
    state = state_from_record(stored_record(store))
    assert state.hurt_on is not None and state.progress.paused
    assert "lunge_and_stretch" in state.progress.skipped
    talk.intent("AMAZON.NoIntent")
    assert state_from_record(stored_record(store)).left_out == []


def test_a_record_from_before_the_choices_loads_and_runs(talk, store):
    store_record(
        store,
        {"version": 1, "pace": "slower", "completions": {"gentle_strength": ["2026-11-16"]}},
    )
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    assert "four exercises" in reply.text and "slower pace" in reply.text


def test_a_quick_session_runs_whole_exercises_that_fit_and_keeps_the_rest(talk, store):
    quick = talk.one_shot("ShortSessionIntent")
    assert "In the time you have" in quick.text and "for later" in quick.text
    later = state_from_record(stored_record(store)).progress.later
    # the calf stretch and the lunge fit five minutes; with the quad stretch they would not
    assert later == ["standing_quad_stretch", "inner_thigh_stretch"]
    reply, replies = quick, [quick]
    while "short session done" not in reply.text:
        assert len(replies) < 10
        reply = talk.intent("AMAZON.NextIntent")
        replies.append(reply)
    # whole sets only: every side counted to five, and the kept exercise never started
    assert [sets(spoken_counts(r.text)) for r in replies] == [[[1, 2, 3, 4, 5]]] * 4
    said = " ".join(r.text for r in replies).lower()
    assert "hip-width" not in said and "reach toward your toes" not in said
    assert "The standing quad stretch and the inner thigh stretch will wait for you" in reply.text
    kept = state_from_record(stored_record(store)).progress
    assert kept.paused and kept.exercise_id == "standing_quad_stretch"
    resumed = talk.one_shot("ResumeRoutineIntent")
    assert card_title(resumed) == "Standing quad stretch"
