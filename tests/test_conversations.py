"""Every conversation script, through both paths a user's words can take to the skill:

- in-process: the terminal chat's simulated device (typed text → the model's resolver → a request
  envelope → the SDK serializer → the skill), with the clock fixed by the script;
- over HTTP: virtual-alexa (Node) builds the envelopes from the same utterances with the committed
  interaction model and posts them to the real webhook process.

Each turn's answer must show what the script expects, and every response must keep Alexa's rules.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from coach_dev.chat import InProcessTransport, SimulatedDevice, load_model, stable_id, timestamp
from coach_dev.model import model_file
from skill.builder import build_skill
from skill.stores import MemoryAdapter
from tests.conversation_scripts import Heard, Script, load_script, report, script_paths
from tests.fake_alexa_api import FakeAlexaApi
from tests.webhook_process import drive

SCRIPTS = script_paths()
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-00000000e2e0"
FALLBACK_NOTE = "no sample matched: sent AMAZON.FallbackIntent"


def _ids(paths: list[Path]) -> list[str]:
    return [path.stem for path in paths]


API_TOKEN = "script-api-token"
CONSENT_TOKEN = "script-consent-token"


def run_in_process(
    script: Script, catalog, settings, api: FakeAlexaApi | None = None, store=None
) -> list[Heard]:
    """The script through the skill in this process, on ``store`` (default: a fresh memory
    store)."""
    clock = {"now": script.start}
    device = SimulatedDevice(
        transport=InProcessTransport(build_skill(catalog, store or MemoryAdapter(), settings)),
        model=load_model(script.locale),
        locale=script.locale,
        user=f"script-{script.name}",
        skill_id=SKILL_ID,
        clock=lambda: clock["now"],
    )
    if api is not None:
        device.api_endpoint = api.endpoint
        device.api_access_token = API_TOKEN
        device.consent_token = CONSENT_TOKEN if script.alexa_api == "granted" else None
    heard: list[Heard] = []
    for turn, moment in script.timeline():
        clock["now"] = moment
        exchange = None
        if turn.action == "say":
            exchange = device.say(turn.text)
            if exchange is None:
                heard.append(Heard(turn, notes=["the model's resolver matched nothing"]))
                continue
        elif turn.action == "launch":
            exchange = device.launch()
        elif turn.action == "end_session":
            exchange = device.end_session()
        elif turn.action == "permission":
            exchange = device.permission_answer(turn.text)
        if exchange is None:
            heard.append(Heard(turn))
        else:
            notes = [] if exchange.matched else [FALLBACK_NOTE]
            heard.append(Heard(turn, exchange.request, exchange.response, notes))
    return heard


def run_virtual_alexa(
    script: Script, webhook_url: str, api: FakeAlexaApi | None = None
) -> list[Heard]:
    user = f"va-{script.name}-{uuid.uuid4()}"  # one webhook store serves every script
    timeline = [(turn, moment) for turn, moment in script.timeline() if turn.action != "wait"]
    plan = {
        "skillUrl": webhook_url,
        "model": str(model_file(script.locale)),
        "locale": script.locale,
        "applicationId": SKILL_ID,
        "userId": stable_id("amzn1.ask.account.", "user", user),
        "deviceId": stable_id("amzn1.ask.device.", "device", user),
        "steps": [
            {"action": turn.action, "text": turn.text, "timestamp": timestamp(moment)}
            for turn, moment in timeline
        ],
    }
    if api is not None:
        plan["alexaApi"] = {
            "endpoint": api.endpoint,
            "token": API_TOKEN,
            "consentToken": CONSENT_TOKEN if script.alexa_api == "granted" else None,
        }
    exchanges = {entry["step"]: entry for entry in drive(plan)["exchanges"]}
    heard: list[Heard] = []
    step = 0
    for turn in script.turns:
        if turn.action == "wait":
            heard.append(Heard(turn))
            continue
        entry = exchanges.get(step, {})
        step += 1
        notes = [f"virtual-alexa: {entry['error']}"] if "error" in entry else []
        if entry.get("fallback"):
            notes.append(FALLBACK_NOTE)
        if not entry:
            notes.append("not run: an earlier turn failed")
        heard.append(Heard(turn, entry.get("request"), entry.get("response"), notes))
    return heard


def _assert_conversation(script: Script, heard: list[Heard]) -> None:
    failures = report(script, heard)
    if failures:
        pytest.fail(failures, pytrace=False)


def test_there_are_scripts_for_every_conversation_the_issue_names():
    names = set(_ids(SCRIPTS))
    assert {
        "routine_start_to_finish",
        "pause_end_session_resume",
        "how_to_then_yes",
        "can_i_question",
        "bedtime_tips",
        "help_and_off_topic_mid_routine",
        "reminders_consent",
        "reminders_denied",
        "reminders_offer_after_first_routine",
    } <= names


def _api_for(script: Script, request: pytest.FixtureRequest) -> FakeAlexaApi | None:
    """The Alexa API stand-in, for a script that has the Alexa APIs behind its device."""
    return request.getfixturevalue("alexa_api") if script.alexa_api else None


@pytest.mark.parametrize("path", SCRIPTS, ids=_ids(SCRIPTS))
def test_script_in_process(path: Path, catalog, settings, request):
    script = load_script(path)
    api = _api_for(script, request)
    _assert_conversation(script, run_in_process(script, catalog, settings, api))


@pytest.mark.slow
@pytest.mark.parametrize("path", SCRIPTS, ids=_ids(SCRIPTS))
def test_script_through_virtual_alexa_and_the_webhook(path: Path, webhook, request):
    script = load_script(path)
    api = _api_for(script, request)
    _assert_conversation(script, run_virtual_alexa(script, webhook.url, api))


def test_a_script_with_two_actions_in_a_turn_is_refused(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        'description: broken\nat: "2026-11-17 08:15"\nturns:\n  - {say: hi, launch: true}\n'
    )
    with pytest.raises(ValueError, match="exactly one of say, launch, end_session, wait"):
        load_script(bad)


def test_the_harness_reports_an_answer_that_misses_its_expectations(tmp_path, catalog, settings):
    """A script is only worth running if a wrong answer fails it."""
    path = tmp_path / "wrong.yaml"
    path.write_text(
        'description: expects what help never says\nat: "2026-11-17 08:15"\nturns:\n'
        "  - {say: help, intent: AMAZON.StopIntent, contains: [zebra], session: ends}\n"
    )
    script = load_script(path)
    failures = report(script, run_in_process(script, catalog, settings))
    assert "resolved to AMAZON.HelpIntent, expected AMAZON.StopIntent" in failures
    assert "does not say 'zebra'" in failures
    assert "the session stays open, expected it to end" in failures
