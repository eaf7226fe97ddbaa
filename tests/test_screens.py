"""Echo Show screens: real request envelopes with and without the APL interface, taps as the
UserEvents a device sends, and every document and datasource checked by Amazon's own validator
(the npm package apl-suggester)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

import tests.support
from skill.builder import build_skill
from skill.screens import DOCUMENTS, SCREENS_DIR, document
from skill.state import state_from_record
from skill.stores.memory import MemoryAdapter
from tests.support import Conversation, Reply, envelope, invoke, iso, stored_record
from tests.test_chat import rls_coach

ROOT = Path(__file__).resolve().parent.parent
CHECKER = ROOT / "tools" / "apl_check.js"
MORNING = ("morning stretches", "morning_stretches")
ALEXA_MAX_RESPONSE_BYTES = 24 * 1024
# APL's core components: what the coach's documents may be built from (the validator checks
# these completely; it cannot fetch the alexa-layouts package offline, so none are used).
CORE_COMPONENTS = {
    "Container",
    "Frame",
    "Image",
    "Pager",
    "ScrollView",
    "Sequence",
    "Text",
    "TouchWrapper",
    "VectorGraphic",
    "Video",
    "EditText",
    "GridSequence",
}


def screen_talk(skill, morning, *, screen: bool = True) -> Conversation:
    return Conversation(skill=skill, now=morning, screen=screen)


def says(reply: Reply, words: str) -> bool:
    return " ".join(words.split()).lower() in reply.text.lower()


# ---- which turns send a screen -----------------------------------------------------------------

ANSWERS = [
    ("launch", lambda t: t.launch()),
    ("how to", lambda t: t.one_shot("ExplainExerciseIntent", exercise=("bridge", "bridge"))),
    ("can I", lambda t: t.one_shot("CanIDoIntent", activity=("swim", "swimming"))),
    ("how fast", lambda t: t.one_shot("ActivityLimitIntent", activity=("cycle", "cycling"))),
    ("tip", lambda t: t.one_shot("TipIntent", topic=("bedtime tips", "bedtime"))),
    ("bedtime", lambda t: t.one_shot("BedtimeQueryIntent")),
    ("medicine", lambda t: t.one_shot("MedicationIntent", medicine=("ropinirole", "ropinirole"))),
    ("pain", lambda t: t.one_shot("PainIntent")),
    ("symptoms", lambda t: t.one_shot("SymptomsNowIntent")),
    ("progress", lambda t: t.one_shot("ProgressIntent")),
    ("help", lambda t: t.one_shot("AMAZON.HelpIntent")),
    ("exercises", lambda t: t.one_shot("ListExercisesIntent")),
]


@pytest.mark.parametrize(("kind", "ask"), ANSWERS, ids=[kind for kind, _ in ANSWERS])
def test_an_answer_is_shown_as_a_headline_and_what_was_said(skill, morning, kind, ask):
    reply = ask(screen_talk(skill, morning))
    assert reply.screen is not None, f"no screen for {kind}"
    name, payload = reply.screen
    assert name == "answer"
    assert payload["headline"] and payload["text"]
    # The screen's words are the voice's words: the key sentence is said, word for word.
    assert says(reply, payload["text"]), (payload["text"], reply.text)
    directive = reply.screens[0]
    assert directive["document"] == document("answer")
    assert directive["token"] == "rls-coach-answer"


@pytest.mark.parametrize(("kind", "ask"), ANSWERS, ids=[kind for kind, _ in ANSWERS])
def test_a_device_without_a_screen_is_sent_no_document(skill, morning, kind, ask):
    reply = ask(screen_talk(skill, morning, screen=False))
    assert reply.response.get("directives") in (None, [])


def test_a_device_without_a_screen_carries_no_screen_in_its_session(skill, morning):
    reply = screen_talk(skill, morning, screen=False).one_shot(
        "StartRoutineIntent", routine=MORNING
    )
    assert reply.response.get("directives") in (None, [])
    assert reply.body["sessionAttributes"]["last_response"]["screen"] is None


def test_the_headlines_name_what_the_answer_is_about(skill, morning):
    talk = screen_talk(skill, morning)
    assert talk.one_shot("CanIDoIntent", activity=("swim", "swimming")).screen[1]["headline"] == (
        "Swimming"
    )
    medicine = talk.one_shot("MedicationIntent", medicine=("ropinirole", "ropinirole"))
    assert medicine.screen[1]["headline"] == "A question for your doctor"
    assert "doctor" in medicine.screen[1]["text"]
    bridge = talk.one_shot("ExplainExerciseIntent", exercise=("bridge", "bridge")).screen[1]
    assert bridge["headline"] == "Bridge" and "Lie down on your back" in bridge["text"]
    assert "Want me to" not in bridge["text"]  # the how-to, not the question after it
    assert talk.one_shot("BedtimeQueryIntent").screen[1]["headline"] == "Your bedtime"
    said = talk.one_shot("SetBedtimeIntent", bedtime="22:30").screen[1]
    assert said["headline"] == "Your bedtime" and "10:30 PM" in said["text"]
    tip = talk.one_shot("TipIntent", topic=("bedtime tips", "bedtime"))
    assert tip.screen[1]["headline"] == "Bedtime"
    assert "Would you like" not in tip.screen[1]["text"]  # the tip itself, not the offer


def test_pain_is_shown_plainly_and_stops_the_routine(skill, morning, store):
    talk = screen_talk(skill, morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    reply = talk.intent("PainIntent")
    name, payload = reply.screen
    assert name == "answer" and payload["safety"] is True
    assert payload["headline"] == "Stop and rest"
    assert "talk to your doctor" in payload["text"] and "say next" not in payload["text"].lower()
    assert reply.ends_session


# ---- a guided set on screen --------------------------------------------------------------------


def test_each_set_shows_the_exercise_the_side_the_movement_and_where_it_is(skill, morning):
    talk = screen_talk(skill, morning)
    first = talk.one_shot("StartRoutineIntent", routine=MORNING)
    name, step = first.screen
    assert name == "step"
    assert step["title"] == "Calf stretch"
    assert step["side"] == "Left leg"
    assert step["set"] == "Set 1 of 2 · 5 reps"
    assert step["progress"] == "Exercise 1 of 4 · Morning stretches"
    assert [b["label"] for b in step["buttons"]] == ["Next", "Repeat", "Pause"]
    assert 2 <= len(step["lines"]) <= 3
    for line in step["lines"]:  # the same sentences the coach says for this set
        assert says(first, line), line
    assert "calf stretch" in first.text and "left leg" in first.text

    right = talk.intent("AMAZON.NextIntent").screen[1]
    assert (right["side"], right["set"]) == ("Right leg", "Set 2 of 2 · 5 reps")
    assert any("right heel" in line for line in right["lines"])
    lunge = talk.intent("AMAZON.NextIntent").screen[1]
    assert lunge["title"] == "Lunge and stretch"
    assert lunge["progress"] == "Exercise 2 of 4 · Morning stretches"


def test_a_single_guided_exercise_says_so_and_a_word_mid_set_keeps_the_set_on_screen(
    skill, morning
):
    talk = screen_talk(skill, morning)
    bridge = talk.one_shot("GuideExerciseIntent", exercise=("bridge", "bridge"))
    # One set, so the finish comes with it: the screen says the bridge is done.
    assert bridge.screen[0] == "answer" and bridge.screen[1]["headline"] == "Bridge"
    assert "bridge" in bridge.screen[1]["text"]

    talk.one_shot("StartRoutineIntent", routine=MORNING)
    step = talk.last.screen
    waited = talk.intent("WaitIntent")
    assert waited.screen == step  # "wait" leaves the set on screen
    where = talk.intent("WhereAmIIntent")
    assert where.screen == step


def test_the_finish_shows_the_routine_done(skill, morning):
    talk = screen_talk(skill, morning)
    reply = talk.one_shot("StartRoutineIntent", routine=MORNING)
    while reply.screen[0] == "step":
        reply = talk.intent("AMAZON.NextIntent")
    assert reply.screen[0] == "answer"
    payload = reply.screen[1]
    assert payload["headline"] == "Morning stretches"
    assert "morning stretches" in payload["text"] and "this week" in payload["text"]
    assert "One," not in payload["text"]  # not the last set's counting


# ---- touch ---------------------------------------------------------------------------------------


class FixedIds:
    """Request ids that repeat from the start for each conversation, so that two conversations
    pick the same variant of every sentence and can be compared word for word."""

    def __init__(self) -> None:
        self.counter = itertools.count()

    def __call__(self) -> uuid.UUID:
        return uuid.UUID(int=next(self.counter))


def twin_conversations(catalog, settings, morning, monkeypatch, first_turns, last_turn):
    """The same turns by two users on two stores; the last by voice for one, by touch for the
    other. Returns (spoken reply, tapped reply, spoken store, tapped store)."""
    results = []
    for how in ("voice", "touch"):
        monkeypatch.setattr(tests.support.uuid, "uuid4", FixedIds())
        store = MemoryAdapter()
        talk = Conversation(skill=build_skill(catalog, store, settings), now=morning, screen=True)
        for turn in first_turns:
            turn(talk)
        word, event = last_turn
        reply = talk.intent(word) if how == "voice" else talk.tap(event)
        results.append((reply, store))
    (spoken, spoken_store), (tapped, tapped_store) = results
    return spoken, tapped, spoken_store, tapped_store


BUTTONS = [
    ("AMAZON.NextIntent", "next"),
    ("AMAZON.RepeatIntent", "repeat"),
    ("AMAZON.PauseIntent", "pause"),
]
IN_A_ROUTINE = [
    lambda t: t.one_shot("StartRoutineIntent", routine=MORNING),
    lambda t: t.intent("AMAZON.NextIntent"),
]
OUT_OF_A_ROUTINE = [lambda t: t.launch()]


@pytest.mark.parametrize("button", BUTTONS, ids=[event for _, event in BUTTONS])
@pytest.mark.parametrize("before", [IN_A_ROUTINE, OUT_OF_A_ROUTINE], ids=["routine", "no routine"])
def test_each_button_does_exactly_what_its_word_does(
    catalog, settings, morning, monkeypatch, button, before
):
    spoken, tapped, spoken_store, tapped_store = twin_conversations(
        catalog, settings, morning, monkeypatch, before, button
    )
    assert tapped.text == spoken.text
    assert tapped.reprompt == spoken.reprompt
    assert tapped.ends_session == spoken.ends_session
    assert tapped.screen == spoken.screen
    assert stored_record(tapped_store) == stored_record(spoken_store)  # the place is saved


def test_pause_by_touch_saves_the_place_and_resume_picks_it_up(skill, morning, store):
    talk = screen_talk(skill, morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.wait(minutes=2)  # the left leg's set is done
    talk.tap("next")
    talk.wait(minutes=2)  # and the right leg's
    paused = talk.tap("pause")
    assert paused.ends_session and "saved your place" in paused.text
    progress = state_from_record(stored_record(store)).progress
    # Both calf stretch sets were done: the place kept is the next exercise.
    assert progress is not None and progress.paused and progress.exercise_id == "lunge_and_stretch"
    resumed = talk.one_shot("ResumeRoutineIntent")
    assert resumed.screen[1]["title"] == "Lunge and stretch"


@pytest.mark.parametrize("arguments", [("dance",), (), (7,), ("next", "extra")])
def test_an_event_the_coach_never_sent_changes_nothing(skill, morning, store, arguments):
    talk = screen_talk(skill, morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    before = stored_record(store)
    reply = talk.tap(*arguments)
    if arguments[:1] == ("next",):  # a known button with more arguments still works
        assert reply.screen[1]["side"] == "Right leg"
        return
    assert "outputSpeech" not in reply.response
    assert stored_record(store) == before


@pytest.mark.slow
def test_a_tap_through_the_real_webhook_from_the_command_line(webhook):
    # "start anyway": a routine starts at whatever hour the suite runs (no bedtime check).
    result = rls_coach(
        "say", "--url", webhook.url, "--screen", "--user", "show", "start anyway", ":tap next"
    )
    assert result.returncode == 0, result.stderr + webhook.log_tail()
    start, tap = result.stdout.split("> :tap next")
    assert "  screen (step): " in start and "[Next] [Repeat] [Pause]" in start
    assert "[Alexa.Presentation.APL.UserEvent]" in tap
    assert "  screen (" in tap and "didn't catch" not in tap
    raw = rls_coach("say", "--url", webhook.url, "--screen", "--json", "what exercises do you know")
    directives = json.loads(raw.stdout)[0]["response"]["response"]["directives"]
    assert directives[0]["type"] == "Alexa.Presentation.APL.RenderDocument"
    assert directives[0]["document"] == document("answer")  # ready to paste into the APL tool


# ---- Amazon's validator and Alexa's limits ----------------------------------------------------


def every_screen_sent(catalog, settings, morning) -> list[Reply]:
    """Replies with screens from every routine at every pace, and from every kind of answer."""
    replies = []
    paces = [p.id for p in catalog.rules.paces]
    for routine_id, pace in itertools.product(catalog.routines, paces):
        store = MemoryAdapter()
        talk = Conversation(skill=build_skill(catalog, store, settings), now=morning, screen=True)
        talk.launch()
        steps = paces.index(pace) - paces.index("normal")  # paces run slowest to fastest
        for _ in range(abs(steps)):
            talk.intent("SpeedUpIntent" if steps > 0 else "SlowDownIntent")
        assert state_from_record(stored_record(store)).pace == pace
        name = catalog.routines[routine_id].name
        reply = talk.intent("StartRoutineIntent", routine=(name, routine_id))
        replies.append(reply)
        while reply.screen and reply.screen[0] == "step":
            reply = talk.intent("AMAZON.NextIntent")
            replies.append(reply)
    for _, ask in ANSWERS:
        talk = Conversation(
            skill=build_skill(catalog, MemoryAdapter(), settings), now=morning, screen=True
        )
        replies.append(ask(talk))
    return replies


def run_checker(checks: dict[str, Any]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is needed for the APL check (make test installs the npm tools)"
    result = subprocess.run(
        [node, str(CHECKER)],
        input=json.dumps(checks),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def component_types(node: Any) -> set[str]:
    """Every component type in a layout: the ``type`` of each item, nested at any depth (not
    the ``type`` of the commands in an ``onPress``)."""
    found: set[str] = set()
    if isinstance(node, list):
        for item in node:
            found |= component_types(item)
    elif isinstance(node, dict):
        if isinstance(node.get("type"), str):
            found.add(node["type"])
        for key in ("item", "items", "firstItem", "lastItem"):
            found |= component_types(node.get(key))
    return found


@pytest.mark.slow
def test_every_document_and_datasource_passes_amazons_apl_validator(catalog, settings, morning):
    replies = every_screen_sent(catalog, settings, morning)
    datasources = {json.dumps(r.screens[0]["datasources"], sort_keys=True) for r in replies}
    documents = {name: document(name) for name in DOCUMENTS}
    assert {p.stem for p in SCREENS_DIR.glob("*.json")} == set(DOCUMENTS)
    findings = run_checker(
        {"documents": documents, "datasources": [json.loads(d) for d in sorted(datasources)]}
    )
    assert findings == []
    for name, doc in documents.items():
        used = component_types(doc["mainTemplate"]["items"])
        assert used <= CORE_COMPONENTS, (name, used - CORE_COMPONENTS)


@pytest.mark.slow
def test_the_validator_is_not_a_rubber_stamp():
    broken = json.loads(json.dumps(document("step")))
    broken["mainTemplate"]["items"][1]["items"][0]["items"][1]["color"] = 9  # not a color
    broken["mainTemplate"]["items"][0]["colour"] = "#FFFFFF"  # no such property
    findings = run_checker({"documents": {"broken": broken}})
    paths = {f["path"] for f in findings}
    assert paths == {"/mainTemplate/items/0", "/mainTemplate/items/1/items/0/items/1/color"}


def test_every_response_with_a_screen_fits_alexas_limits(catalog, settings, morning):
    replies = every_screen_sent(catalog, settings, morning)
    sizes = [len(json.dumps(r.body).encode()) for r in replies]
    largest = max(sizes)
    assert largest < ALEXA_MAX_RESPONSE_BYTES, f"largest response with a screen: {largest} bytes"
    assert all(len(r.ssml) <= 8000 for r in replies)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_viewport_has_its_sizes_and_every_size_used_is_defined(name):
    doc = document(name)
    conditions = {block.get("when") for block in doc["resources"]}
    # Landscape (the default), portrait and small round screens each get sizes of their own.
    assert {None, "${viewport.width < viewport.height}", "${viewport.shape == 'round'}"} <= (
        conditions
    )
    defined = set(doc["resources"][0]["dimensions"])
    for block in doc["resources"][1:]:
        assert set(block["dimensions"]) <= defined  # a variant only overrides
    used = set(re.findall(r'"@(\w+)"', json.dumps(doc["mainTemplate"])))
    assert used and used <= defined, used - defined


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["open", ":tap next"], "this device has no screen to tap (start it with --screen)"),
        (["--screen", ":tap next"], "nothing is on the screen: open the skill first"),
        (["--screen", "open", ":tap"], "say which button to tap: :tap next, :tap repeat or"),
    ],
)
def test_a_tap_that_cannot_be_made_says_why(args, message):
    result = rls_coach("say", "--store", "memory://", *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def _tap_envelope(talk: Conversation, arguments: list[Any], token: str, *, screen: bool):
    return envelope(
        {
            "type": "Alexa.Presentation.APL.UserEvent",
            "requestId": f"amzn1.echo-api.request.{uuid.uuid4()}",
            "timestamp": iso(talk.now),
            "locale": talk.locale,
            "token": token,
            "arguments": arguments,
            "source": {"type": "TouchWrapper", "handler": "Press", "id": ""},
        },
        session_attributes=talk.session_attributes,
        session_id=f"amzn1.echo-api.session.{talk.user_id}.{talk.session_number}",
        screen=screen,
    )


@pytest.mark.parametrize(
    ("arguments", "token", "screen"),
    [
        (["next"], "another-skills-document", True),  # someone else's document
        (["next"], "", True),
        (["next"], "rls-coach-answer", True),  # ours, but it has no buttons
        (["next"], "rls-coach-step", False),  # a device that shows no screen cannot tap
        (["next", *["extra"] * 10_000], "rls-coach-step", True),
    ],
    ids=["other token", "no token", "answer token", "no screen", "10,000 arguments"],
)
def test_a_tap_the_coach_did_not_draw_never_moves_the_routine(
    skill, morning, store, arguments, token, screen
):
    talk = screen_talk(skill, morning)
    talk.one_shot("StartRoutineIntent", routine=MORNING)
    talk.wait(minutes=2)  # the first set is done: a real "next" would move on
    before = stored_record(store)
    reply = Reply(invoke(skill, _tap_envelope(talk, arguments, token, screen=screen)))
    assert "outputSpeech" not in reply.response
    assert stored_record(store) == before
    # The very same tap, as the coach's own screen on a screen device sends it, does move on.
    moved = Reply(invoke(skill, _tap_envelope(talk, ["next"], "rls-coach-step", screen=True)))
    assert moved.screen[1]["side"] == "Right leg"
