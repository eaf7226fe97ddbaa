"""Reminders people can trust, through the real skill and real HTTPS to the Reminders API stand-in
(tests/fake_alexa_api.py): the rule each way of naming days becomes, a correction or a move as the
API's update, never the same reminder twice, and a create whose answer came too late found in the
API's list rather than left behind."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from skill.builder import build_skill
from tests.fake_alexa_api import REMINDERS_PATH, FakeAlexaApi
from tests.support import Conversation, stored_record

TOKEN = "token-for-this-test"


@pytest.fixture
def api(alexa_api: FakeAlexaApi) -> FakeAlexaApi:
    return alexa_api


@pytest.fixture
def talk(catalog, store, settings, morning, api) -> Conversation:
    """A user who granted the reminders permission, at 10 AM on Tuesday 17 November 2026."""
    skill = build_skill(catalog, store, settings.with_overrides(settings_api_timeout=1.0))
    return Conversation(
        skill=skill,
        now=morning.replace(hour=10, minute=0),
        device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
        api_endpoint=api.endpoint,
        api_access_token=TOKEN,
        consent_token="consent-for-this-test",
    )


def ask(talk: Conversation, words: str):
    return talk.one_shot("SetReminderIntent", request=words)


def trigger(api: FakeAlexaApi, index: int = -1) -> dict:
    return api.reminder_bodies()[index]["trigger"]


def rule(api: FakeAlexaApi, index: int = -1) -> str:
    return trigger(api, index)["recurrence"]["recurrenceRules"][0]


# ---- each way of naming the days -------------------------------------------------------------

DAY_FORMS = [
    ("every day at 8 am", "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=1", "2026-11-18"),
    (
        "every other day at 8 am",
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=2",
        "2026-11-18",
    ),
    (
        "at weekends at 10 in the morning",
        "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=10;BYMINUTE=0;BYSECOND=0;INTERVAL=1",
        "2026-11-21",
    ),
    (
        "on mondays and thursdays at 9 in the morning",
        "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=9;BYMINUTE=0;BYSECOND=0;INTERVAL=1",
        "2026-11-19",
    ),
    (
        "every weekday at half seven in the morning",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=30;BYSECOND=0;INTERVAL=1",
        "2026-11-18",
    ),
]


@pytest.mark.parametrize(
    ("words", "expected", "first"), DAY_FORMS, ids=[w for w, _, _ in DAY_FORMS]
)
def test_each_way_of_naming_days_is_one_recurring_reminder(talk, api, words, expected, first):
    reply = ask(talk, words)
    assert "I've set it" in reply.text
    assert rule(api) == expected
    assert trigger(api)["timeZoneId"] == "America/New_York"
    assert trigger(api)["scheduledTime"].startswith(first)
    assert "+" not in trigger(api)["scheduledTime"] and "Z" not in trigger(api)["scheduledTime"]


def test_three_times_a_week_asks_which_days(talk, api):
    reply = ask(talk, "three times a week at 4 pm")
    assert "Which days" in reply.text and not reply.ends_session and api.reminder_bodies() == []
    reply = talk.intent("ChangeReminderIntent", change="monday wednesday and friday")
    assert "every Monday, Wednesday and Friday at 4 in the afternoon" in reply.text
    assert rule(api) == "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=16;BYMINUTE=0;BYSECOND=0;INTERVAL=1"


def test_tomorrow_stays_a_one_off(talk, api):
    reply = ask(talk, "tomorrow at quarter past eight in the morning")
    assert "tomorrow at 8:15 in the morning" in reply.text
    assert trigger(api)["scheduledTime"] == "2026-11-18T08:15:00"
    assert "recurrence" not in trigger(api)


@pytest.mark.parametrize(
    ("duration", "expected"),
    [("PT1H", "2026-11-17T11:00:00"), ("twenty minutes", "2026-11-17T10:20:00")],
)
def test_a_duration_is_from_now(talk, api, duration, expected):
    reply = talk.one_shot("SetReminderIntent", duration=duration)
    assert "today at" in reply.text
    assert trigger(api)["scheduledTime"] == expected and "recurrence" not in trigger(api)


# ---- correcting, changing, moving ------------------------------------------------------------


def test_make_it_8_right_after_changes_the_same_reminder(talk, api):
    ask(talk, "every day at 7 am")
    reply = talk.intent("ChangeReminderIntent", change="8")
    assert "changed it: every day at 8 in the morning" in reply.text
    [update] = api.reminder_updates()
    assert update["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    ]
    assert ("PUT", f"{REMINDERS_PATH}/amzn1.alert.test-1") in [(r.method, r.path) for r in api.seen]
    assert len(api.reminders) == 1


def test_no_7_in_the_evening_to_a_read_back_sets_that_instead(talk, api):
    talk.now = talk.now.replace(hour=6)
    reply = ask(talk, "every day at 7")
    assert "Every day at 7 in the morning" in reply.text and api.reminder_bodies() == []
    reply = talk.intent("ChangeReminderIntent", change="7 in the evening")
    assert "every day at 7 in the evening" in reply.text
    assert trigger(api)["scheduledTime"] == "2026-11-17T19:00:00"


def test_cancel_that_deletes_the_reminder_just_set(talk, api, store):
    ask(talk, "every day at 8 am")
    reply = talk.intent("AMAZON.CancelIntent")
    assert "cancelled it" in reply.text and api.reminders == {}
    assert stored_record(store)["reminder_tokens"] == []


def test_a_move_later_goes_through_the_list_and_the_update(talk, api):
    ask(talk, "to do my morning stretches every day at 8 am")
    reply = talk.one_shot("ChangeReminderIntent", change="stretching reminder to 9 am")
    assert "changed it: every day at 9 in the morning" in reply.text
    reply = talk.one_shot("ChangeReminderIntent", change="weekdays only")
    assert "every weekday at 9 in the morning" in reply.text
    assert len(api.reminders) == 1 and [r.method for r in api.seen].count("PUT") == 2


def test_a_reminder_deleted_in_the_app_is_not_moved(talk, api, store):
    ask(talk, "every day at 8 am")
    api.reminders.clear()
    reply = talk.one_shot("ChangeReminderIntent", change="9 am")
    assert "don't have any reminders" in reply.text
    assert stored_record(store)["reminder_tokens"] == []


# ---- never doubled -----------------------------------------------------------------------------


def test_the_same_reminder_twice_says_so_and_offers_to_change_it(talk, api):
    ask(talk, "every day at 8 am")
    reply = ask(talk, "every day at 8 in the morning")
    assert "already have that reminder" in reply.text and not reply.ends_session
    assert len(api.reminder_bodies()) == 1
    reply = talk.intent("ChangeReminderIntent", change="9 am")
    assert "every day at 9 in the morning" in reply.text and len(api.reminders) == 1


def test_different_reminders_are_fine_up_to_the_stated_limit(talk, api):
    for hour in range(6, 11):
        assert "I've set it" in ask(talk, f"every day at {hour} am").text
    reply = ask(talk, "every day at 11 am")
    assert "at most five" in reply.text and len(api.reminders) == 5


# ---- the wind-down reminder ----------------------------------------------------------------------


def test_a_warm_bath_before_bed_is_allowed_and_given_with_the_bath_tip(talk, api):
    reply = ask(talk, "to have a warm bath an hour before bed")
    assert "warm, but not hot, bath or shower" in reply.text and "9:30 at night" in reply.text
    reply = talk.intent("AMAZON.YesIntent")
    assert "I've set it" in reply.text
    body = api.reminder_bodies()[0]
    assert body["trigger"]["scheduledTime"] == "2026-11-17T21:30:00"  # an hour before 10:30 PM
    assert "bath" in body["alertInfo"]["spokenInfo"]["content"][0]["text"]


# ---- a create whose answer is lost ---------------------------------------------------------------


def test_a_create_that_answers_too_late_is_found_in_the_list(talk, api, store):
    api.create_answer_delay = 30.0  # past the 1 s timeout; the reminder is made all the same
    reply = ask(talk, "every day at 8 am")
    assert "I've set it" in reply.text
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.test-1"]


def test_an_unconfirmed_create_is_taken_up_on_the_next_reminder_turn(talk, api, store):
    api.reminder_delay = 30.0  # answered only when the test ends  # create and list both time out
    reply = ask(talk, "every day at 8 am")
    assert "couldn't reach Alexa's reminders" in reply.text
    api.reminder_delay = 0.0
    # The stand-in made it after all, as a real API may have.
    body = {
        "trigger": {
            "type": "SCHEDULED_ABSOLUTE",
            "scheduledTime": "2026-11-18T08:00:00",
            "timeZoneId": "America/New_York",
            "recurrence": {
                "startDateTime": "2026-11-18T08:00:00",
                "recurrenceRules": ["FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=1"],
            },
        },
        "alertInfo": {"spokenInfo": {"content": [{"locale": "en-US", "text": "Time."}]}},
        "alertToken": "amzn1.alert.late",
        "status": "ON",
    }
    api.reminders["amzn1.alert.late"] = body
    reply = talk.one_shot("ListRemindersIntent")
    assert "one reminder from me: every day at 8 in the morning" in reply.text
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.late"]
    assert "cancelled" in talk.one_shot("CancelReminderIntent").text and api.reminders == {}


def test_an_unconfirmed_create_that_never_happened_is_forgotten(talk, api, store):
    api.reminder_delay = 30.0  # answered only when the test ends
    ask(talk, "every day at 8 am")
    api.reminder_delay = 0.0
    api.reminders.clear()
    assert "don't have any" in talk.one_shot("ListRemindersIntent").text
    assert stored_record(store)["reminder_tokens"] == []


def test_a_late_answer_is_never_reported_as_set_without_the_api(talk, api, store):
    api.reminder_delay = 30.0  # answered only when the test ends
    reply = ask(talk, "every day at 8 am")
    assert "I've set it" not in reply.text
    record = stored_record(store)
    assert all(token.startswith("unconfirmed:") for token in record["reminder_tokens"])
    assert dt.date(2026, 11, 18).isoformat() in record["reminder_tokens"][0]


def test_a_fault_while_changing_gets_a_sentence_and_keeps_the_reminder(talk, api, store):
    ask(talk, "every day at 8 am")
    api.reminder_fault = (429, "TOO_MANY_REQUESTS")
    reply = talk.intent("ChangeReminderIntent", change="9 am")
    assert "busy just now" in reply.text and not reply.ends_session
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.test-1"]


def test_a_plain_cancel_a_turn_later_closes_and_deletes_nothing(talk, api):
    ask(talk, "every day at 8 am")
    talk.intent("ListRemindersIntent")
    reply = talk.intent("AMAZON.CancelIntent")
    assert reply.ends_session and len(api.reminders) == 1
