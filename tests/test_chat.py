"""`rls-coach say` and `rls-coach chat`: typed words → real envelopes → the skill → readable text,
in this process and over HTTP to the real webhook process."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import socket
import subprocess

import pytest
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, ResponseEnvelope

from coach_dev.chat import (
    InProcessTransport,
    SimulatedDevice,
    interpret,
    load_model,
    run_say,
    stable_id,
)
from skill.builder import build_skill
from skill.cli import main
from skill.stores import MemoryAdapter
from tests.webhook_process import ROOT, hermetic_env, rls_coach_command, running_webhook

SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-0000000c4a77"
PAUSE = re.compile(r"\(\d+(?:\.\d)? s\)")
BREAK = re.compile(r'<break time="(\d+(?:\.\d+)?)(ms|s)"/>')
SERIALIZER = DefaultSerializer()


def rls_coach(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    """The installed command, as a user runs it (a fresh process, no RLS_COACH_* from the shell)."""
    return subprocess.run(
        [*rls_coach_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env=hermetic_env(),
        check=False,
    )


@pytest.fixture
def device(catalog, settings, morning) -> SimulatedDevice:
    skill = build_skill(catalog, MemoryAdapter(), settings)
    return SimulatedDevice(
        transport=InProcessTransport(skill),
        model=load_model("en-US"),
        user="tester",
        clock=lambda: morning,
    )


# ---- the simulated device builds envelopes the way Alexa does ----------------------------------


def test_a_session_carries_its_id_and_attributes_and_is_new_only_once(device):
    first = device.launch()
    second = device.say("help")
    assert first.request["session"]["new"] is True
    assert second.request["session"]["new"] is False
    assert second.request["session"]["sessionId"] == first.request["session"]["sessionId"]
    assert second.request["session"]["attributes"] == first.response["sessionAttributes"]
    assert second.request["session"]["attributes"]  # the skill keeps the last answer for "repeat"


def test_typed_slots_carry_entity_resolution_ids_as_alexa_sends_them(device):
    exchange = device.say("how do I do a bridge")
    slot = exchange.request["request"]["intent"]["slots"]["exercise"]
    assert slot["value"] == "bridge"
    authority = slot["resolutions"]["resolutionsPerAuthority"][0]
    assert authority["status"]["code"] == "ER_SUCCESS_MATCH"
    assert authority["values"][0]["value"] == {"name": "bridge", "id": "bridge"}
    assert authority["authority"].endswith(".EXERCISE")


def test_words_that_are_no_slot_value_are_sent_unresolved(device):
    exchange = device.say("explain the cartwheel")
    slot = exchange.request["request"]["intent"]["slots"]["exercise"]
    assert slot["value"] == "cartwheel"
    assert slot["resolutions"]["resolutionsPerAuthority"][0]["status"]["code"] == (
        "ER_SUCCESS_NO_MATCH"
    )


def test_ids_are_stable_per_user_name_and_differ_between_users(device, catalog, settings):
    other = SimulatedDevice(device.transport, device.model, user="someone else")
    assert device.user_id == stable_id("amzn1.ask.account.", "user", "tester")
    assert device.user_id.startswith("amzn1.ask.account.")
    assert device.device_id.startswith("amzn1.ask.device.")
    assert other.user_id != device.user_id


def test_a_one_shot_request_opens_a_new_session(device):
    device.launch()
    exchange = device.say("ask restless legs coach to give me bedtime tips")
    kinds = [e.request_type for e in device.exchanges]
    assert kinds == ["LaunchRequest", "SessionEndedRequest", "IntentRequest"]
    assert exchange.request["session"]["new"] is True
    assert exchange.intent == "TipIntent"


def test_after_the_skill_ends_the_session_the_next_words_start_a_new_one(device):
    ended = device.say("stop")
    assert ended.ends_session
    again = device.say("help")
    assert again.request["session"]["new"] is True
    assert again.request["session"]["sessionId"] != ended.request["session"]["sessionId"]


def test_the_request_is_stamped_with_the_real_time_in_utc(catalog, settings):
    skill = build_skill(catalog, MemoryAdapter(), settings)
    device = SimulatedDevice(InProcessTransport(skill), load_model("en-US"))
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    stamp = device.launch().request["request"]["timestamp"]
    after = dt.datetime.now(dt.UTC)
    moment = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert before <= moment <= after


@pytest.mark.parametrize(
    ("line", "kind"),
    [("open", "launch"), ("Launch", "launch"), (":new", "launch"), (":end", "end")],
)
def test_chat_commands(line, kind):
    assert interpret(line).kind == kind


def test_every_suggestion_is_something_the_model_understands():
    model = load_model("en-US")
    assert len(model.suggestions()) >= 4
    for phrase in model.suggestions():
        assert model.resolve(phrase) is not None, phrase


# ---- say --------------------------------------------------------------------------------------


def test_say_prints_speech_with_pauses_the_reprompt_and_the_session_state(settings, morning):
    out = io.StringIO()
    status = run_say(
        settings.with_overrides(store_url="memory://"),
        ["walk me through the calf stretch", "next"],
        url=None,
        locale="en-US",
        user="say-test",
        as_json=False,
        out=out,
        clock=lambda: morning,
    )
    text = out.getvalue()
    assert status == 0, text
    assert "> walk me through the calf stretch" in text
    assert '[GuideExerciseIntent exercise="calf stretch" → calf_stretch]' in text
    assert PAUSE.search(text), text
    assert "<break" not in text and "<speak>" not in text
    assert "  reprompt: " in text
    assert "(session stays open)" in text


@pytest.mark.slow
def test_say_json_prints_envelopes_the_sdk_accepts():
    result = rls_coach("say", "--store", "memory://", "--json", "open", "help")
    assert result.returncode == 0, result.stderr
    turns = json.loads(result.stdout)
    assert [t["request"]["request"]["type"] for t in turns] == ["LaunchRequest", "IntentRequest"]
    for turn in turns:
        request = SERIALIZER.deserialize(json.dumps(turn["request"]), RequestEnvelope)
        response = SERIALIZER.deserialize(json.dumps(turn["response"]), ResponseEnvelope)
        assert request.context.system.user.user_id == turn["request"]["session"]["user"]["userId"]
        assert response.response.output_speech is not None


@pytest.mark.slow
def test_unmatched_words_in_a_session_reach_the_skill_as_alexas_fallback():
    result = rls_coach("say", "--store", "memory://", "open", "purple monkey dishwasher", "help")
    assert result.returncode == 1  # a typo in a scripted run should not pass unnoticed
    out = result.stdout
    notice = 'No intent in the interaction model matches "purple monkey dishwasher"'
    assert notice + ", so Alexa sends AMAZON.FallbackIntent." in out
    assert "Things to try:\n  start my morning stretches\n  how do I do a bridge" in out
    assert "[AMAZON.FallbackIntent]" in out
    assert out.index(notice) < out.index("[AMAZON.FallbackIntent]") < out.index("> help")
    assert out.count("(session stays open)") == 3
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_unmatched_words_outside_a_session_send_nothing():
    result = rls_coach("say", "--store", "memory://", "--json", "purple monkey dishwasher")
    assert result.returncode == 1
    assert json.loads(result.stdout) == []
    assert "with no session open, Alexa would not open the skill for it" in result.stderr


@pytest.mark.slow
def test_an_unknown_locale_is_a_clear_error():
    result = rls_coach("say", "--store", "memory://", "--locale", "fr-FR", "help")
    assert result.returncode == 2
    assert "no interaction model for locale 'fr-FR'; use one of en-US" in result.stderr
    assert "Traceback" not in result.stderr


# ---- over HTTP to the real webhook process ----------------------------------------------------


@pytest.mark.slow
def test_say_talks_to_a_running_webhook(webhook):
    result = rls_coach("say", "--url", webhook.url, "open", "what exercises do you know")
    assert result.returncode == 0, result.stderr + webhook.log_tail()
    assert "[LaunchRequest]" in result.stdout
    assert "[ListExercisesIntent]" in result.stdout
    assert "calf stretch" in result.stdout.lower()
    assert result.stdout.count("(session stays open)") == 2


@pytest.mark.slow
def test_an_http_refusal_is_shown_with_the_webhooks_reason(webhook):
    wrong_path = webhook.url.replace("/alexa", "/talk")
    result = rls_coach("say", "--url", wrong_path, "help")
    assert result.returncode == 1
    assert "answered HTTP 404: not found: the skill answers POST /alexa" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_webhook_that_verifies_requests_refuses_with_its_reason(tmp_path):
    with running_webhook(tmp_path, verify_for=SKILL_ID) as verifying:
        result = rls_coach("say", "--url", verifying.url, "--skill-id", SKILL_ID, "help")
    assert result.returncode == 1
    assert "answered HTTP 400: request verification failed:" in result.stderr
    assert "start it with `rls-coach serve --no-verify`" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_an_unreachable_webhook_is_a_clear_error():
    with socket.socket() as sock:  # a port that was just free: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = rls_coach("say", "--url", f"http://127.0.0.1:{port}/alexa", "help")
    assert result.returncode == 1
    assert f"cannot reach the skill at http://127.0.0.1:{port}/alexa" in result.stderr
    assert "Is `rls-coach serve` running there?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_url_that_is_not_http_is_refused():
    result = rls_coach("say", "--url", "127.0.0.1:5000", "help")
    assert result.returncode == 2
    assert "is not an http(s) URL" in result.stderr


# ---- chat -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_chat_through_stdin_holds_a_conversation(tmp_path):
    lines = "\n".join(["open", "what exercises do you know", ":end", "help", "blah blah blah"])
    result = rls_coach("chat", "--store", "memory://", stdin=lines + "\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "you> open" in out
    assert "not medical advice" in out  # the first launch for this user
    assert "Stretches: calf stretch, lunge and stretch" in out
    assert "(session ended)" in out
    assert "[AMAZON.HelpIntent]" in out  # a new session, started by the words themselves
    assert 'No intent in the interaction model matches "blah blah blah"' in out
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_chat_in_process_remembers_the_user_between_runs(tmp_path):
    """The default store is an SQLite file, so a second chat knows the first one happened."""
    first = rls_coach("chat", stdin="open\n", cwd=tmp_path)
    second = rls_coach("chat", stdin="open\n", cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "not medical advice" in first.stdout
    assert "not medical advice" not in second.stdout
    assert (tmp_path / "rls-coach.sqlite3").is_file()


@pytest.mark.slow
def test_chat_over_http_remembers_the_user_between_runs(webhook, tmp_path):
    user = f"chat-{tmp_path.name}"
    first = rls_coach("chat", "--url", webhook.url, "--user", user, stdin="open\n")
    second = rls_coach("chat", "--url", webhook.url, "--user", user, stdin="open\n")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "not medical advice" in first.stdout
    assert "not medical advice" not in second.stdout  # the store knows this user heard it


# ---- the full simulated device: its clock, its Alexa APIs, the reminders permission ------------


@pytest.fixture
def cli(monkeypatch, capsys):
    """`rls-coach` through its real entry point in this process, with no RLS_COACH_* setting from
    the shell and a memory store: (exit status, stdout, stderr)."""
    for name in [n for n in os.environ if n.startswith("RLS_COACH_")]:
        monkeypatch.delenv(name)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = main([args[0], "--store", "memory://", *args[1:]])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run


def turns_of(out: str) -> list[dict]:
    return json.loads(out)


def stamp(turn: dict) -> dt.datetime:
    moment = dt.datetime.strptime(turn["request"]["request"]["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=dt.UTC)


def test_at_2_10_am_in_london_the_coach_gives_its_night_answer(cli):
    status, out, err = cli(
        "say", "--at", "2026-12-08 02:10", "--timezone", "Europe/London",
        "open", "my legs won't settle",
    )  # fmt: skip
    assert status == 0, err
    assert "[LaunchRequest] at Tue 08 Dec 02:10:00 Europe/London" in out
    night = out.split("[SymptomsNowIntent]")[1]
    assert "bath or shower, warm or cold compresses" in night and "massage" in night
    assert "goodnight" in night and "(session ends)" in night  # night mode: no "anything else"
    # The same words at 10 in the morning get the daytime answer: the clock decided.
    status, out, err = cli(
        "say", "--at", "2026-12-08 10:10", "--timezone", "Europe/London", "my legs won't settle"
    )
    assert status == 0, err
    assert "Your stretches can help during the day" in out and "not for now" not in out


def test_the_device_time_is_local_to_its_zone_and_the_skill_asks_the_settings_api(cli):
    status, out, err = cli(
        "say", "--json", "--at", "2026-12-08 02:10", "--timezone", "Asia/Tokyo", "open"
    )
    assert status == 0, err
    [turn] = turns_of(out)
    assert turn["request"]["request"]["timestamp"] == "2026-12-07T17:10:00Z"
    system = turn["request"]["context"]["System"]
    assert system["apiAccessToken"] and system["apiEndpoint"].startswith("https://")
    [call] = turn["api_calls"]
    device_id = system["device"]["deviceId"]
    assert call == {
        "method": "GET",
        "path": f"/v2/devices/{device_id}/settings/System.timeZone",
        "body": None,
        "status": 200,
    }


def test_each_turn_comes_as_much_later_as_the_previous_answer_takes_to_speak(cli):
    status, out, err = cli(
        "say", "--json", "--at", "2026-12-08 09:00", "--timezone", "Europe/London",
        "open", "walk me through the calf stretch", "next", "help",
    )  # fmt: skip
    assert status == 0, err
    turns = turns_of(out)
    start = stamp(turns[0])
    elapsed = 0.0
    for before, after in itertools.pairwise(turns):
        ssml = before["response"]["response"]["outputSpeech"]["ssml"]
        breaks = sum(float(s) / (1000 if unit == "ms" else 1) for s, unit in BREAK.findall(ssml))
        words = len(re.sub(r"<[^>]+>", " ", ssml).split())
        elapsed += breaks + words / 2.5  # Alexa's pace, as the skill estimates it
        assert (stamp(after) - start).total_seconds() == pytest.approx(elapsed, abs=1.0)
    # A set with holds in it takes far longer to speak than a welcome.
    gaps = [(stamp(b) - stamp(a)).total_seconds() for a, b in itertools.pairwise(turns)]
    assert gaps[0] > 5 and gaps[1] > gaps[0] + 10


def test_a_reminder_without_the_permission_goes_through_alexas_consent_question(cli):
    utterance = "remind me to do my stretches at 9 tomorrow morning"
    status, out, err = cli("say", "--json", "--timezone", "Europe/London", utterance)
    assert status == 0, err
    [turn] = turns_of(out)
    [directive] = turn["response"]["response"]["directives"]
    assert directive["type"] == "Connections.SendRequest" and directive["name"] == "AskFor"
    assert not any(c["path"].startswith("/v1/alerts") for c in turn["api_calls"])
    assert "Alexa asks you" in err and "accept, deny or ignore" in err

    status, out, err = cli("say", "--timezone", "Europe/London", utterance, "accept")
    assert status == 0, err
    assert "asks Alexa to ask the user for alexa::alerts:reminders:skill:readwrite" in out
    assert "[Connections.Response AskFor ACCEPTED]" in out
    assert "alexa api: POST /v1/alerts/reminders → 200" in out
    assert "I've set it: tomorrow at 9 in the morning" in out


def test_with_the_permission_granted_a_reminder_is_created_and_json_shows_the_call(cli):
    status, out, err = cli(
        "say", "--json", "--permission", "granted", "--at", "2026-12-08 10:00",
        "--timezone", "Europe/London", "remind me to do my stretches at 9 tomorrow morning",
    )  # fmt: skip
    assert status == 0, err
    [turn] = turns_of(out)
    assert turn["request"]["context"]["System"]["user"]["permissions"]["consentToken"]
    assert "directives" not in turn["response"]["response"]
    [post] = [c for c in turn["api_calls"] if c["method"] == "POST"]
    assert post["path"] == "/v1/alerts/reminders" and post["status"] == 200
    trigger = post["body"]["trigger"]
    assert trigger["type"] == "SCHEDULED_ABSOLUTE" and trigger["timeZoneId"] == "Europe/London"
    assert trigger["scheduledTime"].startswith("2026-12-09T")
    assert post["body"]["alertInfo"]["spokenInfo"]["content"][0]["text"]


def test_with_the_permission_denied_alexa_hears_no_and_the_card_says_how_to_allow_it(cli):
    status, out, err = cli(
        "say", "--permission", "denied", "remind me to do my stretches at 9 tomorrow morning"
    )
    assert status == 0, err
    assert "[Connections.Response AskFor DENIED]" in out
    assert "card: asks for alexa::alerts:reminders:skill:readwrite in the Alexa app" in out
    assert "/v1/alerts/reminders" not in out


def test_while_alexa_asks_for_the_permission_say_needs_an_answer(cli):
    status, _, err = cli("say", "remind me to do my stretches at 9 tomorrow morning", "help")
    assert status == 1
    assert "Alexa is asking for a permission, so 'help' must answer it" in err
    assert "Traceback" not in err


def test_chat_asks_you_to_answer_alexas_consent_question(cli):
    lines = [
        "remind me to stretch every day at 8 in the morning",
        "maybe",
        "accept",
        "what reminders do I have",
    ]
    status, out, err = cli(
        "chat", "--at", "2026-12-08 07:00", "--timezone", "Europe/London",
        stdin="\n".join(lines) + "\n",
    )  # fmt: skip
    assert status == 0, err
    assert "device clock 2026-12-08 07:00 Europe/London" in out
    prompt = "allow alexa::alerts:reminders:skill:readwrite? Answer accept, deny or ignore."
    assert out.count(prompt) == 2  # asked, and asked again after "maybe"
    after = out.split("you> accept")[1]
    assert "[Connections.Response AskFor ACCEPTED]" in after
    assert "alexa api: POST /v1/alerts/reminders → 200" in after
    assert "You have one reminder from me: every day at 8 in the morning" in after


@pytest.mark.parametrize(
    ("at", "message"),
    [
        ("tomorrow at two", "--at 'tomorrow at two' is not a local date and time like"),
        ("2026-12-08 02:10+01:00", "has an offset; give the local time and use --timezone"),
    ],
)
def test_a_bad_device_time_is_a_clear_error(cli, at, message):
    status, _, err = cli("say", "--at", at, "open")
    assert status == 2 and message in err and "Traceback" not in err


@pytest.mark.slow
def test_against_a_webhook_the_device_sends_its_clock_but_no_api_token(webhook):
    result = rls_coach(
        "say", "--url", webhook.url, "--json", "--permission", "granted",
        "--at", "2026-12-08 02:10", "--timezone", "Europe/London", "open",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + webhook.log_tail()
    [turn] = json.loads(result.stdout)
    assert turn["request"]["request"]["timestamp"] == "2026-12-08T02:10:00Z"
    assert "apiAccessToken" not in turn["request"]["context"]["System"]
    assert turn["api_calls"] == []
    assert "--permission does not apply" in result.stderr
