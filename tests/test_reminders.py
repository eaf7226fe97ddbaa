"""Reminders to stretch, through the real skill and real HTTPS to the Reminders API stand-in on
127.0.0.1 (tests/fake_alexa_api.py): what the skill sends, the voice permission, and every fault
the API documents, each answered in a sentence with the user's routine progress untouched."""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid

import pytest

from skill.builder import build_skill
from tests.fake_alexa_api import REMINDERS_PATH, FakeAlexaApi
from tests.support import Conversation, store_record, stored_record

NEW_YORK = "America/New_York"
TOKEN = "token-for-this-test"
PERMISSION = "alexa::alerts:reminders:skill:readwrite"
PROGRESS = {
    "progress": {"routine_id": "morning_stretches", "exercise_id": "calf_stretch", "step": 1},
    "disclaimer_heard": True,
}


@pytest.fixture
def api(alexa_api: FakeAlexaApi) -> FakeAlexaApi:
    """The Alexa API stand-in of tests/conftest.py (time zone America/New_York, reminders)."""
    return alexa_api


@pytest.fixture
def talk(catalog, store, settings, morning, api) -> Conversation:
    """A user who granted the reminders permission, on a fresh device (zones are cached per
    device), with a routine in progress that no reminder turn may touch."""
    store_record(store, PROGRESS)
    skill = build_skill(catalog, store, settings.with_overrides(settings_api_timeout=1.0))
    return Conversation(
        skill=skill,
        now=morning,  # Tuesday 17 November 2026, 8:15, New York
        device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
        api_endpoint=api.endpoint,
        api_access_token=TOKEN,
        consent_token="consent-for-this-test",
    )


def say(talk: Conversation, intent: str, **slots):
    return talk.one_shot(intent, **slots)


def ask(talk: Conversation, words: str):
    """ "Alexa, ask restless legs coach to remind me <words>"."""
    return talk.one_shot("SetReminderIntent", request=words)


def reminder_calls(api: FakeAlexaApi) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in api.seen if r.path.startswith(REMINDERS_PATH)]


def progress_untouched(store) -> bool:
    return stored_record(store)["progress"]["step"] == 1


# ---- the body the API is sent ----------------------------------------------------------------


def test_a_daily_morning_reminder_is_sent_in_the_documented_shape(talk, api, store):
    reply = ask(talk, "to do my morning stretches every day at 8")
    assert "every day at 8 in the morning" in reply.text and "morning stretches" in reply.text
    assert not reply.ends_session  # open for "make it 9" or "cancel that"
    [body] = api.reminder_bodies()
    trigger = body["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE"
    assert trigger["timeZoneId"] == NEW_YORK
    assert trigger["scheduledTime"] == "2026-11-18T08:00:00"  # local, no offset; 8:00 has passed
    assert trigger["recurrence"]["recurrenceRules"] == [
        "FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    ]
    assert trigger["recurrence"]["startDateTime"] == "2026-11-18T08:00:00"
    [spoken] = body["alertInfo"]["spokenInfo"]["content"]
    assert spoken["locale"] == "en-US"
    assert spoken["text"] == (
        "Time for your morning stretches. "
        "Say: Alexa, ask restless legs coach to start my morning stretches."
    )
    assert body["pushNotification"] == {"status": "ENABLED"}
    assert [r.authorization for r in api.seen if r.method == "POST"] == [f"Bearer {TOKEN}"]
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.test-1"]
    assert progress_untouched(store)


def test_weekdays_and_chosen_days_are_weekly_rules(talk, api):
    ask(talk, "on weekdays at 7:30 am")
    ask(talk, "on mondays and thursdays at 5 pm")
    weekdays, chosen = api.reminder_bodies()
    assert weekdays["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=7;BYMINUTE=30;BYSECOND=0;INTERVAL=1"
    ]
    assert weekdays["trigger"]["scheduledTime"] == "2026-11-18T07:30:00"
    assert chosen["trigger"]["recurrence"]["recurrenceRules"] == [
        "FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=17;BYMINUTE=0;BYSECOND=0;INTERVAL=1"
    ]
    assert chosen["trigger"]["scheduledTime"] == "2026-11-19T17:00:00"  # the next Thursday


def test_a_one_off_has_no_recurrence_and_takes_the_part_of_the_day_asked_for(talk, api):
    reply = ask(talk, "to do my afternoon stretches at 3")
    assert "today at 3 in the afternoon" in reply.text
    [body] = api.reminder_bodies()
    assert body["trigger"]["scheduledTime"] == "2026-11-17T15:00:00"
    assert "recurrence" not in body["trigger"]


def test_tomorrow_morning_means_the_morning_reminder_time_and_is_asked_first(talk, api):
    reply = ask(talk, "to stretch tomorrow morning")
    assert "Tomorrow at 8 in the morning" in reply.text and "Shall I set it" in reply.text
    assert api.reminder_bodies() == []
    reply = talk.intent("AMAZON.YesIntent")
    assert "tomorrow at 8 in the morning" in reply.text
    assert api.reminder_bodies()[0]["trigger"]["scheduledTime"] == "2026-11-18T08:00:00"


def test_a_time_without_am_or_pm_is_the_next_such_time_and_says_which(talk, api):
    talk.now = talk.now.replace(hour=9, minute=0)
    reply = ask(talk, "at 5")
    assert "Today at 5 in the evening" in reply.text and "Shall I set it" in reply.text
    talk.intent("AMAZON.YesIntent")
    assert api.reminder_bodies()[0]["trigger"]["scheduledTime"] == "2026-11-17T17:00:00"


def test_the_locale_of_the_device_is_the_locale_of_the_spoken_text(talk, api):
    talk.locale = "en-GB"
    ask(talk, "every day at half seven in the morning")
    body = api.reminder_bodies()[0]
    assert body["alertInfo"]["spokenInfo"]["content"][0]["locale"] == "en-GB"
    assert body["trigger"]["scheduledTime"] == "2026-11-18T07:30:00"


# ---- bedtime ---------------------------------------------------------------------------------


def test_no_reminder_inside_the_bedtime_window_and_an_earlier_one_is_offered(talk, api, store):
    reply = ask(talk, "every evening at 9")
    assert "close to your bedtime" in reply.text and "at 7 in the evening instead" in reply.text
    assert not reply.ends_session and api.reminder_bodies() == []
    reply = talk.intent("AMAZON.YesIntent")
    assert "every day at 7 in the evening" in reply.text
    assert api.reminder_bodies()[0]["trigger"]["scheduledTime"] == "2026-11-17T19:00:00"
    assert progress_untouched(store)


# ---- the permission --------------------------------------------------------------------------


def test_without_consent_the_skill_asks_by_voice_and_sets_it_when_accepted(talk, api, store):
    talk.consent_token = None
    reply = ask(talk, "every day at 8 am")
    [directive] = reply.response["directives"]
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    assert directive["payload"] == {
        "@type": "AskForPermissionsConsentRequest",
        "@version": "2",
        "permissionScopes": [{"permissionScope": PERMISSION, "consentLevel": "ACCOUNT"}],
    }
    assert api.reminder_bodies() == []  # nothing is tried before the user agrees
    talk.consent_token = "granted-just-now"
    reply = talk.permission_answer("ACCEPTED", directive["token"])
    assert "every day at 8 in the morning" in reply.text
    assert len(api.reminder_bodies()) == 1
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.test-1"]
    # The same answer again (a replay) sets nothing more.
    reply = talk.permission_answer("ACCEPTED", directive["token"])
    assert "no reminder waiting" in reply.text and len(api.reminder_bodies()) == 1


def test_an_acceptance_nobody_asked_for_sets_nothing(talk, api, store):
    token = json.dumps(
        {"routine_id": "morning_stretches", "clock": "08:00", "repeat": "daily",
         "first": "2026-11-18", "days": []}
    )  # fmt: skip
    for _ in range(3):
        reply = talk.permission_answer("ACCEPTED", token)
        assert "no reminder waiting" in reply.text
    assert api.reminder_bodies() == [] and stored_record(store).get("reminder_tokens", []) == []


def test_an_acceptance_for_another_reminder_than_the_one_asked_about_sets_nothing(talk, api):
    talk.consent_token = None
    ask(talk, "every day at 8 am")
    forged = json.dumps(
        {"routine_id": "morning_stretches", "clock": "03:00", "repeat": "daily",
         "first": "2026-11-18", "days": []}
    )  # fmt: skip
    reply = talk.permission_answer("ACCEPTED", forged)
    assert "no reminder waiting" in reply.text and api.reminder_bodies() == []


@pytest.mark.parametrize("answer", ["DENIED", "NOT_ANSWERED"])
def test_a_refusal_says_how_to_allow_it_and_sends_the_card(talk, api, store, answer):
    talk.consent_token = None
    directive = ask(talk, "today at 3 pm").response["directives"][0]
    reply = talk.permission_answer(answer, directive["token"])
    assert "Alexa app" in reply.text and "allow Reminders" in reply.text
    assert reply.card == {"type": "AskForPermissionsConsent", "permissions": [PERMISSION]}
    assert api.reminder_bodies() == [] and progress_untouched(store)


def test_a_device_that_cannot_ask_by_voice_gets_the_card(talk, api):
    talk.consent_token = None
    directive = ask(talk, "today at 3 pm").response["directives"][0]
    reply = talk.permission_answer("NOT_ANSWERED", directive["token"], code="400")
    assert reply.card["type"] == "AskForPermissionsConsent" and "card" in reply.text


@pytest.mark.parametrize("status", [401, 403])
def test_a_permission_revoked_since_is_asked_for_again(talk, api, status):
    api.reminder_fault = (status, "UNAUTHORIZED")
    reply = ask(talk, "today at 3 pm")
    assert reply.response["directives"][0]["name"] == "AskFor"


def test_a_refusal_right_after_accepting_sends_the_card_rather_than_asking_again(talk, api):
    talk.consent_token = None
    directive = ask(talk, "today at 3 pm").response["directives"][0]
    api.reminder_fault = (401, "UNAUTHORIZED")
    reply = talk.permission_answer("ACCEPTED", directive["token"])
    assert "directives" not in reply.response or not reply.response["directives"]
    assert reply.card["type"] == "AskForPermissionsConsent"


# ---- faults ----------------------------------------------------------------------------------

FAULTS = [
    ((403, "MAX_REMINDERS_EXCEEDED"), "as many reminders as Alexa allows"),
    ((400, "MAX_REMINDERS_EXCEEDED"), "as many reminders as Alexa allows"),
    ((403, "DEVICE_NOT_SUPPORTED"), "this device can't play reminders"),
    ((400, "INVALID_TRIGGER"), "didn't accept that reminder"),
    ((429, "TOO_MANY_REQUESTS"), "busy just now"),
    ((500, "INTERNAL_SERVER_ERROR"), "couldn't reach Alexa's reminders"),
    ((503, "SERVICE_UNAVAILABLE"), "couldn't reach Alexa's reminders"),
    ((504, "GATEWAY_TIMEOUT"), "couldn't reach Alexa's reminders"),
]


@pytest.mark.parametrize(("fault", "said"), FAULTS, ids=[f"{s}-{c}" for (s, c), _ in FAULTS])
def test_each_fault_is_explained_and_progress_is_untouched(talk, api, store, caplog, fault, said):
    api.reminder_fault = fault
    with caplog.at_level(logging.INFO):
        reply = ask(talk, "every day at 8 am")
    assert said in reply.text
    assert not reply.ends_session and reply.reprompt  # the session goes on
    assert progress_untouched(store) and stored_record(store).get("reminder_tokens", []) == []
    log = caplog.text
    assert f"HTTP {fault[0]}" in log and TOKEN not in log


def test_a_slow_api_times_out_with_a_sentence(talk, api, store, caplog):
    api.reminder_delay = 5.0  # far beyond the 1 s timeout
    with caplog.at_level(logging.INFO):
        reply = ask(talk, "every day at 8 am")
    assert "couldn't reach Alexa's reminders" in reply.text
    assert progress_untouched(store) and TOKEN not in caplog.text


# ---- listing and cancelling ------------------------------------------------------------------


def test_listing_and_cancelling_touch_only_this_users_stored_reminders(talk, api, store, caplog):
    ask(talk, "every day at 8 am")
    ask(talk, "today at 6 pm")
    api.reminders["amzn1.alert.someone-elses"] = {
        **api.reminders["amzn1.alert.test-1"],
        "alertToken": "amzn1.alert.someone-elses",
    }
    reply = say(talk, "ListRemindersIntent")
    assert "two reminders" in reply.text
    assert (
        "every day at 8 in the morning" in reply.text and "today at 6 in the evening" in reply.text
    )

    with caplog.at_level(logging.INFO):
        reply = say(talk, "CancelReminderIntent", time="EV")
    assert "cancelled your reminder today at 6 in the evening" in reply.text
    assert ("DELETE", f"{REMINDERS_PATH}/amzn1.alert.test-2") in reminder_calls(api)
    assert "amzn1.alert.test-2" not in caplog.text

    reply = say(talk, "CancelReminderIntent")  # "stop reminding me"
    assert "cancelled your reminder every day at 8 in the morning" in reply.text
    assert set(api.reminders) == {"amzn1.alert.someone-elses"}
    assert stored_record(store)["reminder_tokens"] == []
    assert "don't have any" in say(talk, "ListRemindersIntent").text
    assert progress_untouched(store)


def test_cancelling_a_reminder_that_is_not_there_names_the_ones_that_are(talk, api):
    ask(talk, "every day at 8 am")
    reply = say(talk, "CancelReminderIntent", time="EV")
    assert (
        "couldn't find that reminder" in reply.text
        and "every day at 8 in the morning" in reply.text
    )
    assert not reply.ends_session and len(api.reminders) == 1


def test_a_reminder_deleted_in_the_alexa_app_is_forgotten(talk, api, store):
    ask(talk, "every day at 8 am")
    api.reminders.clear()
    assert "don't have any" in say(talk, "ListRemindersIntent").text
    assert stored_record(store)["reminder_tokens"] == []


@pytest.mark.parametrize("fault", [(500, "INTERNAL_SERVER_ERROR"), (429, "TOO_MANY_REQUESTS")])
def test_listing_and_cancelling_faults_are_explained(talk, api, store, fault):
    ask(talk, "every day at 8 am")
    api.reminder_fault = fault
    for intent in ("ListRemindersIntent", "CancelReminderIntent"):
        reply = say(talk, intent)
        assert "reminders" in reply.text and not reply.ends_session
    assert stored_record(store)["reminder_tokens"] == ["amzn1.alert.test-1"]


def test_without_an_api_token_nothing_is_called(talk, api):
    talk.api_access_token = None
    reply = ask(talk, "today at 3 pm")
    assert "couldn't reach Alexa's reminders" in reply.text and reminder_calls(api) == []


# ---- the one-time offer after a first routine ---------------------------------------------------


def finish_morning_stretches(talk) -> str:
    """Start the morning stretches and say "next" until the last set; what the last turn said."""
    reply = talk.one_shot("StartRoutineIntent", routine=("morning stretches", "morning_stretches"))
    for _ in range(20):
        if reply.ends_session or "first day" in reply.text or "days this week" in reply.text:
            return reply.text
        talk.wait(minutes=1)
        reply = talk.intent("AMAZON.NextIntent")
    raise AssertionError("the routine never finished")


def test_the_offer_after_a_first_routine_is_made_once(talk, api, store):
    text = finish_morning_stretches(talk)
    assert "remind you tomorrow morning" in text and not talk.last.ends_session
    reply = talk.intent("AMAZON.NoIntent")
    assert "won't ask again" in reply.text and reply.ends_session
    assert stored_record(store)["reminder_offered"] is True
    talk.wait(days=1)
    text = finish_morning_stretches(talk)
    assert "remind you" not in text and talk.last.ends_session  # never again, after a no
    assert reminder_calls(api) == []


def test_a_finished_routine_with_a_reminder_set_is_not_offered_one(talk, api, store):
    store_record(store, {**PROGRESS, "progress": None, "reminder_tokens": ["amzn1.alert.x"]})
    text = finish_morning_stretches(talk)
    assert "remind you" not in text and talk.last.ends_session


def test_yes_to_the_offer_sets_tomorrow_mornings_reminder(talk, api, store):
    record = {**PROGRESS, "completions": {"morning_stretches": ["2026-11-17"]}}
    store_record(store, record)
    talk.now = dt.datetime(2026, 11, 17, 8, 40, tzinfo=talk.now.tzinfo)
    from skill.turn import OFFER_KEY

    talk.session_attributes = {
        OFFER_KEY: {
            "kind": "reminder",
            "after_routine": True,
            "plan": {
                "routine_id": "morning_stretches",
                "clock": "08:00",
                "repeat": "once",
                "first": "2026-11-18",
                "days": [],
            },
        }
    }
    talk.in_session = True
    reply = talk.intent("AMAZON.YesIntent")
    assert "tomorrow at 8 in the morning" in reply.text
    assert api.reminder_bodies()[0]["trigger"]["scheduledTime"] == "2026-11-18T08:00:00"
