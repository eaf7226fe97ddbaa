"""The webhook's HTTP behaviour: real envelopes through the Flask app and the real skill, and
every kind of bad input answered with a short JSON reason (or, inside the skill, an apology)."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import runpy
import sqlite3
import time
from typing import Any

import pytest
from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.skill_builder import CustomSkillBuilder

from skill.settings import Settings, SettingsError
from skill.stores import MemoryAdapter
from skill.stores.sqlite import SQLiteAdapter
from tests.helpers.webhook_client import webhook_client
from tests.support import (
    Reply,
    envelope,
    intent_request,
    launch_request,
    session_ended_request,
)
from webhook.app import (
    HEALTH_OK_SECONDS,
    MAX_BODY_BYTES,
    create_app,
    hash_user_id,
)

USER = "amzn1.ask.account.PRIVATE-PERSON-42"


@pytest.fixture
def make_client(catalog, settings):
    return functools.partial(webhook_client, settings, catalog=catalog)


@pytest.fixture
def client(make_client):
    return make_client()


def launch(morning: dt.datetime, **kwargs: Any) -> dict[str, Any]:
    return envelope(launch_request(morning), new_session=True, **kwargs)


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    return response.get_json()["error"]


# ---- the good path ----------------------------------------------------------------------------


def test_a_launch_is_answered_with_the_skills_welcome(client, morning):
    response = client.post("/alexa", json=launch(morning))
    assert response.status_code == 200
    reply = Reply(response.get_json())
    assert "not medical advice" in reply.text
    assert reply.reprompt and not reply.ends_session


def test_session_attributes_and_stored_state_survive_the_http_round_trip(client, morning):
    first = Reply(client.post("/alexa", json=launch(morning, user_id=USER)).get_json())
    assert "not medical advice" in first.text
    again = client.post("/alexa", json=launch(morning + dt.timedelta(hours=1), user_id=USER))
    assert "not medical advice" not in Reply(again.get_json()).text  # the store remembered


def test_health_reports_catalog_store_and_verification(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["store"] == "reachable"
    assert "exercises" in body["catalog"]
    assert body["verification"] == "off"


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_anything_but_post_to_alexa_is_405(client, method):
    response = client.open("/alexa", method=method)
    assert error_of(response, 405) == "method not allowed"
    assert response.headers["Allow"] == "POST"


def test_an_unknown_path_is_a_json_404(client):
    assert "POST /alexa" in error_of(client.get("/admin"), 404)


def test_post_to_healthz_is_405(client):
    error_of(client.post("/healthz"), 405)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "request body is not JSON"),
        (b"hello", "request body is not JSON"),
        (b'{"version": "1.0", ', "request body is not JSON"),
        (b"\xff\xfe\x00{}", "request body is not UTF-8 text"),
        (b"[" * 100_000, "request body is not JSON"),
        (b"[1, 2]", "not an Alexa request envelope: it is not a JSON object"),
        (b'"LaunchRequest"', "not an Alexa request envelope: it is not a JSON object"),
    ],
)
def test_a_body_that_is_not_json_is_400(client, body, reason):
    response = client.post("/alexa", data=body, content_type="application/json")
    assert error_of(response, 400) == reason


def test_json_that_is_not_an_envelope_is_400_naming_every_missing_field(client):
    response = client.post("/alexa", json={"version": "1.0", "request": {"type": "LaunchRequest"}})
    assert error_of(response, 400) == (
        "not an Alexa request envelope: missing request.timestamp, "
        "context.System.application.applicationId, context.System.user.userId"
    )


def test_a_session_ended_with_an_error_type_newer_than_the_sdk_is_answered(client, morning, caplog):
    body = envelope(session_ended_request(morning, reason="ERROR"))
    body["request"]["error"] = {"type": "SOME_FUTURE_ERROR", "message": "the speaker moved"}
    with caplog.at_level(logging.WARNING, logger="skill"):
        response = client.post("/alexa", json=body)
    assert response.status_code == 200
    assert response.get_json()["response"] == {}
    assert "SOME_FUTURE_ERROR (the speaker moved)" in caplog.text


def test_an_envelope_without_a_request_type_is_400(client, morning):
    body = launch(morning)
    del body["request"]["type"]
    assert error_of(client.post("/alexa", json=body), 400).endswith("missing request.type")


def test_a_timestamp_that_is_not_a_time_is_400(client, morning):
    body = launch(morning)
    body["request"]["timestamp"] = "yesterday"
    reason = error_of(client.post("/alexa", json=body), 400)
    assert reason.endswith("request.timestamp is not an ISO 8601 time")


def test_a_field_of_the_wrong_shape_is_400_without_quoting_the_body(client, morning, caplog):
    body = envelope(intent_request("TipIntent", morning), user_id=USER)
    body["request"]["intent"] = "TipIntent please"
    with caplog.at_level(logging.DEBUG):
        reason = error_of(client.post("/alexa", json=body), 400)
    assert "wrong shape" in reason
    assert "please" not in reason and "please" not in caplog.text


def test_the_user_id_comes_only_from_context_system_user_userid(client, morning):
    """A look-alike key ("user_id" beside "userId") would be set over the real id by the SDK's
    serializer, and the user's progress saved under someone else's id."""
    body = launch(morning, user_id=USER)
    body["context"]["System"]["user"]["user_id"] = "amzn1.ask.account.SOMEONE-ELSE"
    body["context"]["system"] = {"user": {"userId": "amzn1.ask.account.SOMEONE-ELSE"}}
    assert "not medical advice" in Reply(client.post("/alexa", json=body).get_json()).text
    again = client.post("/alexa", json=launch(morning, user_id=USER)).get_json()
    assert "not medical advice" not in Reply(again).text  # the first launch was saved as USER


def test_a_body_over_the_cap_is_413_before_it_is_read(client, morning):
    body = launch(morning)
    body["padding"] = "x" * MAX_BODY_BYTES
    assert "larger than 128 KiB" in error_of(client.post("/alexa", json=body), 413)


def test_a_body_just_under_the_cap_is_read(client, morning):
    body = launch(morning)
    size = len(json.dumps(body))
    body["padding"] = "x" * (MAX_BODY_BYTES - size - len(', "padding": ""'))
    assert len(json.dumps(body).encode()) == MAX_BODY_BYTES
    assert client.post("/alexa", json=body).status_code == 200


def test_an_unknown_request_type_gets_a_valid_empty_response(client, morning):
    body = launch(morning)
    body["request"]["type"] = "Alexa.Something.Brand.New"
    response = client.post("/alexa", json=body)
    assert response.status_code == 200
    assert response.get_json() == {"version": "1.0", "response": {}}


def test_a_known_request_the_skill_has_no_handler_for_gets_a_valid_response(client, morning):
    body = launch(morning)
    body["request"] = {
        "type": "System.ExceptionEncountered",
        "requestId": "amzn1.echo-api.request.1",
        "timestamp": body["request"]["timestamp"],
        "locale": "en-US",
        "error": {"type": "INVALID_RESPONSE", "message": "bad"},
        "cause": {"requestId": "amzn1.echo-api.request.0"},
    }
    response = client.post("/alexa", json=body)
    assert response.status_code == 200
    assert response.get_json()["version"] == "1.0"


# ---- failures inside and around the skill -----------------------------------------------------


class BrokenStore(MemoryAdapter):
    """A store that fails in a way nobody planned for (not a PersistenceException)."""

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        raise RuntimeError("disk on fire at /var/lib/secret-path")


def test_an_exception_inside_the_skill_is_an_apology_and_a_logged_traceback(
    make_client, morning, caplog
):
    client = make_client(store=BrokenStore())
    with caplog.at_level(logging.INFO):
        response = client.post("/alexa", json=launch(morning))
    assert response.status_code == 200
    reply = Reply(response.get_json())
    assert "something went wrong" in reply.text
    assert not reply.ends_session
    text = response.get_data(as_text=True)
    assert "disk on fire" not in text and "Traceback" not in text and "RuntimeError" not in text
    logged = [r for r in caplog.records if r.exc_info and "disk on fire" in str(r.exc_info[1])]
    assert logged, "the stack trace belongs in the server log"


class Explodes(AbstractRequestHandler):
    def can_handle(self, handler_input: Any) -> bool:
        return True

    def handle(self, handler_input: Any) -> Any:
        raise ValueError("a bug with a secret in it")


def test_an_exception_that_escapes_the_skill_is_still_an_apology(make_client, morning, caplog):
    """A skill without an exception handler lets the error out of ask-sdk: the webhook's own
    catch-all answers, with HTTP 200 and the stack trace only in the log."""
    builder = CustomSkillBuilder()
    builder.add_request_handler(Explodes())
    client = make_client(skill=builder.create())
    with caplog.at_level(logging.INFO):
        response = client.post("/alexa", json=launch(morning))
    assert response.status_code == 200
    reply = Reply(response.get_json())
    assert "something went wrong" in reply.text and reply.reprompt
    assert "secret" not in response.get_data(as_text=True)
    errors = [r for r in caplog.records if r.name == "webhook.app" and r.exc_info]
    assert len(errors) == 1 and "a bug with a secret in it" in str(errors[0].exc_info[1])
    assert any('reason="unexpected ValueError, apologised"' in m for m in caplog.messages)


def test_health_is_503_when_the_store_does_not_answer(make_client):
    response = make_client(store=BrokenStore()).get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["store"] == "unreachable"


def test_health_is_503_when_the_store_can_be_read_but_not_written(make_client, tmp_path):
    """Another process holds the write lock (as a full disk or a read-only file would, every
    save fails) while reads go on: the health check says so, and says ok again once it can."""
    path = tmp_path / "coach.sqlite3"
    client = make_client(store=SQLiteAdapter(path, busy_timeout=0.2))
    assert client.get("/healthz").status_code == 200
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        time.sleep(HEALTH_OK_SECONDS)  # the good result is reused for a few seconds
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["store"] == "not writable"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert client.get("/healthz").status_code == 200  # a failure is not reused


# ---- logging ----------------------------------------------------------------------------------


def test_one_log_line_per_request_with_type_intent_outcome_latency_and_hashed_user(
    client, morning, caplog
):
    body = envelope(intent_request("TipIntent", morning), user_id=USER)
    with caplog.at_level(logging.INFO, logger="webhook"):
        client.post("/alexa", json=body)
    lines = [r.getMessage() for r in caplog.records if r.name == "webhook.app"]
    assert len(lines) == 1
    line = lines[0]
    assert "POST /alexa status=200 type=IntentRequest intent=TipIntent" in line
    assert f"user={hash_user_id(USER)}" in line
    assert "latency_ms=" in line
    assert USER not in caplog.text and "PRIVATE-PERSON" not in caplog.text


LATENCY = r"latency_ms=[0-9]+\.[0-9]"


@pytest.mark.parametrize(
    ("method", "path", "body", "level", "line"),
    [
        (
            "POST",
            "/alexa",
            "launch",
            logging.INFO,
            rf"POST /alexa status=200 type=LaunchRequest intent=- user=[0-9a-f]{{12}} {LATENCY}",
        ),
        (
            "POST",
            "/alexa",
            "unknown type",
            logging.INFO,
            rf"POST /alexa status=200 type=Alexa.New.Thing intent=- user=[0-9a-f]{{12}} {LATENCY}",
        ),
        (
            "POST",
            "/alexa",
            b"[1]",
            logging.INFO,
            rf"POST /alexa status=400 type=- intent=- user=- {LATENCY} "
            r'reason="not an Alexa request envelope: it is not a JSON object"',
        ),
        (
            "GET",
            "/alexa",
            None,
            logging.INFO,
            rf'GET /alexa status=405 type=- intent=- user=- {LATENCY} reason="method not allowed"',
        ),
        (
            "GET",
            "/admin<script>",
            None,
            logging.INFO,
            rf"GET /admin\?script\? status=404 type=- intent=- user=- {LATENCY} "
            r'reason="not found: the skill answers POST /alexa, and GET /healthz reports its '
            r'health"',
        ),
        (
            "GET",
            "/healthz",
            None,
            logging.DEBUG,
            rf"GET /healthz status=200 type=- intent=- user=- {LATENCY}",
        ),
    ],
)
def test_each_request_is_one_line_in_the_same_format_whatever_its_outcome(
    client, morning, caplog, method, path, body, level, line
):
    if body == "launch":
        data = json.dumps(launch(morning)).encode()
    elif body == "unknown type":
        unknown = launch(morning)
        unknown["request"]["type"] = "Alexa.New.Thing"
        data = json.dumps(unknown).encode()
    else:
        data = body
    with caplog.at_level(logging.DEBUG, logger="webhook"):
        client.open(path, method=method, data=data, content_type="application/json")
    records = [r for r in caplog.records if r.name == "webhook.app" and "status=" in r.msg]
    assert len(records) == 1
    assert records[0].levelno == level
    assert re.fullmatch(line, records[0].getMessage()), records[0].getMessage()


def test_nothing_is_logged_per_request_when_info_is_off(client, morning, caplog):
    with caplog.at_level(logging.WARNING, logger="webhook"):
        assert client.post("/alexa", json=launch(morning)).status_code == 200
        assert client.get("/admin").status_code == 404
    assert not [r for r in caplog.records if r.name == "webhook.app"]


def test_health_probes_log_only_at_debug(client, caplog):
    with caplog.at_level(logging.INFO, logger="webhook"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "webhook.app"]


# ---- configuration ----------------------------------------------------------------------------


def test_verification_on_without_a_skill_id_refuses_to_build_the_app():
    with pytest.raises(SettingsError, match="RLS_COACH_SKILL_ID is not set"):
        create_app({"settings": Settings(store_url="memory://", verify=True)})


def test_verification_off_is_logged_as_a_warning(catalog, settings, caplog):
    with caplog.at_level(logging.WARNING, logger="webhook"):
        create_app({"settings": settings, "catalog": catalog})
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)


def test_the_app_reads_its_configuration_from_the_environment(monkeypatch, morning):
    monkeypatch.setenv("RLS_COACH_STORE", "memory://")
    monkeypatch.setenv("RLS_COACH_VERIFY", "false")
    monkeypatch.setenv("RLS_COACH_TIMEZONE", "Europe/London")
    monkeypatch.setenv("RLS_COACH_BEDTIME", "22:00")
    app = create_app()
    settings = app.config["SETTINGS"]
    assert settings.verify is False and settings.default_timezone == "Europe/London"
    assert settings.default_bedtime == dt.time(22, 0)
    assert app.test_client().post("/alexa", json=launch(morning)).status_code == 200


def test_the_wsgi_module_serves_an_app_configured_from_the_environment(monkeypatch):
    monkeypatch.setenv("RLS_COACH_STORE", "memory://")
    monkeypatch.setenv("RLS_COACH_VERIFY", "off")
    app = runpy.run_module("webhook.wsgi")["app"]
    assert app.test_client().get("/healthz").get_json()["verification"] == "off"


def test_the_wsgi_module_refuses_verification_without_a_skill_id(monkeypatch):
    monkeypatch.setenv("RLS_COACH_STORE", "memory://")
    monkeypatch.delenv("RLS_COACH_VERIFY", raising=False)
    monkeypatch.delenv("RLS_COACH_SKILL_ID", raising=False)
    with pytest.raises(SettingsError, match="RLS_COACH_SKILL_ID"):
        runpy.run_module("webhook.wsgi")


def test_request_supplied_names_cannot_forge_log_lines(client, morning, caplog):
    body = envelope(intent_request('TipIntent\nPOST /alexa status=200 user="admin"', morning))
    with caplog.at_level(logging.INFO, logger="webhook"):
        client.post("/alexa", json=body)
    lines = [r.getMessage() for r in caplog.records if r.name == "webhook.app"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and '"admin"' not in lines[0]
    assert "intent=TipIntent?POST?/alexa?status?200?user??admin? user=" in lines[0]
