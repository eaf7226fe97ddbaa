"""Alexa's APIs misbehaving: an API that drips its answer a byte at a time, or sends one far too
large, must neither hold the user's turn past Alexa's patience nor fill the server's memory."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClientRequest

from skill.alexa_api import TURN_BUDGET_SECONDS, TimeoutApiClient, start_turn_budget
from skill.builder import build_skill
from tests.hardening.misbehaving_api import MisbehavingApi
from tests.hardening.scale import scaled
from tests.support import Conversation

ALEXA_PATIENCE = 8.0
MARGIN = 1.0  # thread start-up and the turn's own work on a loaded machine
DRIP_SECONDS = scaled(quick=12, stress=60)  # how long the API keeps dripping if let


@pytest.fixture
def trusting(alexa_api_tls, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(alexa_api_tls.ca))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    return alexa_api_tls


def new_device_launch(skill, api: MisbehavingApi, morning) -> tuple[float, str]:
    """A launch from a device the skill has not seen: it asks the Settings API for the zone."""
    talk = Conversation(
        skill=skill,
        now=morning,
        device_id=f"amzn1.ask.device.{uuid.uuid4().hex}",
        api_endpoint=api.endpoint,
        api_access_token="token",
    )
    started = time.monotonic()
    reply = talk.launch()
    return time.monotonic() - started, reply.text


@pytest.mark.parametrize("mode", ["drip-headers", "drip-body"])
def test_a_dripping_settings_api_cannot_hold_a_launch(
    trusting, catalog, store, settings, morning, mode, report_line
):
    skill = build_skill(catalog, store, settings)  # the shipped timeouts
    drip = {"interval": 0.2, "drip_bytes": int(DRIP_SECONDS / 0.2)}
    with MisbehavingApi(trusting, mode, **drip) as api:
        seconds, text = new_device_launch(skill, api, morning)
    report_line(
        f"Settings API dripping ({mode}, {DRIP_SECONDS} s): launch answered in {seconds:.2f} s"
    )
    assert "restless legs coach" in text.lower()  # answered, with the default zone
    assert seconds < TURN_BUDGET_SECONDS + MARGIN < ALEXA_PATIENCE


def test_all_api_calls_of_a_turn_share_one_budget(trusting):
    """Three calls in one turn, each to a dripping API: together they end within the budget."""
    client = TimeoutApiClient(timeout=1.5)
    with MisbehavingApi(trusting, "drip-body", interval=0.2, drip_bytes=100) as api:
        start_turn_budget(1.0)
        started = time.monotonic()
        for _ in range(3):
            with pytest.raises(ApiClientException):
                client.invoke(
                    ApiClientRequest(method="GET", url=api.endpoint + "/v2/x", headers=[])
                )
        assert time.monotonic() - started < 1.0 + MARGIN


def test_a_huge_answer_is_refused_while_it_is_read(
    trusting, catalog, store, settings, morning, report_line
):
    skill = build_skill(catalog, store, settings)
    with MisbehavingApi(trusting, "endless-body") as api:
        _, text = new_device_launch(skill, api, morning)
        time.sleep(0.5)  # let the server notice the client has gone
    assert "restless legs coach" in text.lower()
    report_line(f"a 50 MB Settings API answer: refused after {max(api.sent) / 2**20:.1f} MB sent")
    # The client hung up after about a megabyte (plus what the sockets buffer), not 50 MB.
    assert api.sent and max(api.sent) < 8 * 1024 * 1024, api.sent


def test_many_launches_at_once_against_a_dripping_api_all_answer_in_time(
    trusting, catalog, store, settings, morning, report_line
):
    launches = scaled(quick=4, stress=32)
    skill = build_skill(catalog, store, settings)
    results: list[tuple[float, str]] = []
    with MisbehavingApi(trusting, "drip-headers", interval=0.2, drip_bytes=300) as api:
        threads = [
            threading.Thread(target=lambda: results.append(new_device_launch(skill, api, morning)))
            for _ in range(launches)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    slowest = max(seconds for seconds, _ in results)
    report_line(
        f"{launches} launches at once from new devices, Settings API dripping: slowest answered "
        f"in {slowest:.2f} s"
    )
    assert len(results) == launches
    assert all("restless legs coach" in text.lower() for _, text in results)
    assert slowest < TURN_BUDGET_SECONDS + 2 * MARGIN < ALEXA_PATIENCE
