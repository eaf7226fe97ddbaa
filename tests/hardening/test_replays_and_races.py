"""At full size in ``make stress``: signed requests replayed many times over, and one household's
devices racing for one record on DynamoDB (moto's server)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from skill.builder import build_skill
from skill.settings import Settings
from skill.stores import open_store
from skill.stores.dynamodb import ENDPOINT_VARIABLE
from tests.hardening.scale import STRESS, scaled
from tests.lambda_support import FAKE_CREDENTIALS, REGION, create_users_table, moto_dynamodb
from tests.pki import CERT_URL, AlexaPKI, FakeS3, MovableClock, sign
from tests.support import SKILL_ID, Conversation, envelope, intent_request, launch_request
from webhook.app import create_app

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
REPLAYED = "request verification failed: request was already received (a replay)"
STORE_ERROR = "couldn't reach your saved progress"
MORNING = ("morning stretches", "morning_stretches")


def test_every_replay_of_a_signed_request_is_refused(catalog, store, report_line):
    requests = scaled(quick=20, stress=500)
    copies = 4  # each sent four times, all at once
    pki = AlexaPKI.build(NOW)
    settings = Settings(skill_id=SKILL_ID, store_url="memory://", default_timezone="UTC")
    app = create_app(
        {
            "SETTINGS": settings,
            "SKILL": build_skill(catalog, store, settings),
            "CATALOG": catalog,
            "TRUST_ROOTS": [pki.root.certificate],
            "FETCH_CHAIN": FakeS3({CERT_URL: pki.chains[CERT_URL]}),
            "CLOCK": MovableClock(NOW),
        }
    )
    bodies = []
    for number in range(requests):
        request = launch_request(NOW) if number % 2 else intent_request("TipIntent", NOW)
        user = f"amzn1.ask.account.replayed-{number % 7}"
        bodies.append(json.dumps(envelope(request, user_id=user, new_session=True)).encode())

    def post(body: bytes) -> tuple[int, str]:
        headers = {"SignatureCertChainUrl": CERT_URL, "Signature-256": sign(pki.leaf_key, body)}
        response = app.test_client().post("/alexa", data=body, headers=headers)
        return response.status_code, (response.get_json() or {}).get("error", "")

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(post, bodies * copies))
    counts = Counter(status for status, _ in outcomes)
    report_line(
        f"{requests} signed requests sent {copies} times each at once: {counts[200]} answered, "
        f"{counts[400]} refused as replays"
    )
    assert counts[200] == requests
    assert [reason for status, reason in outcomes if status != 200] == [REPLAYED] * (
        requests * (copies - 1)
    )


@pytest.fixture
def dynamodb_table(monkeypatch):
    with moto_dynamodb() as endpoint:
        for name, value in FAKE_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_REGION", REGION)
        monkeypatch.setenv(ENDPOINT_VARIABLE, endpoint)
        yield create_users_table(endpoint)


def test_a_household_racing_on_dynamodb_is_rarely_apologised_to(
    dynamodb_table, catalog, settings, morning, report_line
):
    """Several devices of one account, each starting the stretches and moving on at the same
    moment, for several rounds: a lost save runs the turn again on the fresh record, so only a
    turn that loses twice in a row hears an apology."""
    devices = scaled(quick=4, stress=12)
    rounds = scaled(quick=3, stress=10)
    skill = build_skill(catalog, open_store(f"dynamodb://{dynamodb_table}"), settings)
    turns: list[str] = []
    lock = threading.Lock()

    def visit(device: int, day: int) -> None:
        talk = Conversation(
            skill=skill,
            now=morning + dt.timedelta(days=day),
            device_id=f"amzn1.ask.device.{device}",
        )
        replies = [talk.one_shot("StartRoutineIntent", routine=MORNING)]
        replies += [talk.intent("AMAZON.NextIntent") for _ in range(2)]
        with lock:
            turns.extend(reply.text for reply in replies)

    for day in range(rounds):
        threads = [threading.Thread(target=visit, args=(d, day)) for d in range(devices)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    apologies = sum(STORE_ERROR in text for text in turns)
    share = apologies / len(turns)
    report_line(
        f"one account on {devices} devices at once, {len(turns)} turns on DynamoDB: "
        f"{apologies} apologies ({share:.0%})"
    )
    assert len(turns) == devices * rounds * 3
    if not STRESS:
        # Four devices: without running the turn again, some 60% of these turns were
        # apologised for; with it, some 25%. (Twelve in lockstep, in make stress, are only
        # reported: one more run cannot save every turn of such a crowd.)
        assert share < 0.45, f"{share:.0%}"
