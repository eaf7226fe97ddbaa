"""The Alexa API stand-in (coach_dev/alexa_standin.py): the Reminders API's operations, the
documented shape every reminder body must have (a body that departs from it is refused with 400 and
the API's error body), the permission, the bearer token, and the same answers over real HTTPS
(tests/fake_alexa_api.py) as in process."""

from __future__ import annotations

import copy
import json

import pytest
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClientRequest

from coach_dev.alexa_standin import REMINDERS_PATH, ZONE_PATH, AlexaApiStandIn, StandInApiClient
from skill.alexa_api import TimeoutApiClient

TOKEN = "token-for-this-test"
AUTH = [("Authorization", f"Bearer {TOKEN}")]
DAILY = {
    "requestTime": "2026-12-08T10:00:00",
    "trigger": {
        "type": "SCHEDULED_ABSOLUTE",
        "scheduledTime": "2026-12-09T08:00:00",
        "timeZoneId": "Europe/London",
        "recurrence": {
            "startDateTime": "2026-12-09T08:00:00",
            "recurrenceRules": ["FREQ=DAILY;BYHOUR=8;BYMINUTE=0;BYSECOND=0;INTERVAL=1"],
        },
    },
    "alertInfo": {"spokenInfo": {"content": [{"locale": "en-GB", "text": "Time to stretch."}]}},
    "pushNotification": {"status": "ENABLED"},
}


def changed(path: str, value: object) -> dict:
    """DAILY with one field (a dotted path) replaced, or removed when ``value`` is ...."""
    body = copy.deepcopy(DAILY)
    *parents, last = path.split(".")
    target = body
    for key in parents:
        target = target[key]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return body


@pytest.fixture
def api() -> AlexaApiStandIn:
    return AlexaApiStandIn(zone="Europe/London", token=TOKEN)


def test_a_reminder_is_created_listed_read_updated_and_deleted(api):
    created = api.answer("POST", REMINDERS_PATH, AUTH, DAILY)
    assert created.status == 200
    token = created.body["alertToken"]
    assert created.body["status"] == "ON" and created.body["version"] == "1"
    listed = api.answer("GET", REMINDERS_PATH, AUTH, None)
    assert listed.status == 200 and listed.body["totalCount"] == "1"
    assert listed.body["alerts"][0]["trigger"] == DAILY["trigger"]

    later = changed("trigger.scheduledTime", "2026-12-09T09:00:00")
    updated = api.answer("PUT", f"{REMINDERS_PATH}/{token}", AUTH, later)
    assert updated.status == 200 and updated.body["version"] == "2"
    read = api.answer("GET", f"{REMINDERS_PATH}/{token}", AUTH, None)
    assert read.body["trigger"]["scheduledTime"] == "2026-12-09T09:00:00"

    assert api.answer("DELETE", f"{REMINDERS_PATH}/{token}", AUTH, None).status == 200
    gone = api.answer("GET", f"{REMINDERS_PATH}/{token}", AUTH, None)
    assert gone.status == 404 and gone.body["code"] == "NOT_FOUND"
    assert api.answer("DELETE", f"{REMINDERS_PATH}/{token}", AUTH, None).status == 404
    assert [(c.method, c.status) for c in api.calls] == [
        ("POST", 200),
        ("GET", 200),
        ("PUT", 200),
        ("GET", 200),
        ("DELETE", 200),
        ("GET", 404),
        ("DELETE", 404),
    ]


@pytest.mark.parametrize(
    "body",
    [
        changed("trigger.recurrence", ...),
        changed("trigger.recurrence", {"freq": "WEEKLY", "byDay": ["MO", "TH"]}),
        changed("trigger.scheduledTime", ...),
        changed("trigger", {"type": "SCHEDULED_RELATIVE", "offsetInSeconds": 3600}),
        changed("pushNotification", ...),
        changed("trigger.recurrence.recurrenceRules", ["FREQ=WEEKLY;BYDAY=MO,TH;INTERVAL=2"]),
    ],
    ids=["one-off", "old-weekly", "start-only", "relative", "no-push", "every-other-week"],
)
def test_every_documented_shape_is_accepted(api, body):
    answer = api.answer("POST", REMINDERS_PATH, AUTH, body)
    assert answer.status == 200, answer.body


BAD_BODIES = [
    ("trigger.scheduledTime", "2026-12-09T08:00:00Z", "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"),
    ("trigger.scheduledTime", "2026-12-09T08:00:00+00:00", "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"),
    ("trigger.scheduledTime", "tomorrow at eight", "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"),
    ("trigger.timeZoneId", ..., "INVALID_TIME_ZONE"),
    ("trigger.timeZoneId", "Mars/Olympus_Mons", "INVALID_TIME_ZONE"),
    ("trigger.type", "SCHEDULED_SOMETIME", "INVALID_TRIGGER_TYPE"),
    ("trigger", ..., "INVALID_TRIGGER"),
    ("trigger.recurrence.recurrenceRules", ["FREQ=HOURLY"], "UNSUPPORTED_TRIGGER_RECURRENCE"),
    ("trigger.recurrence.recurrenceRules", ["every day"], "UNSUPPORTED_TRIGGER_RECURRENCE"),
    (
        "trigger.recurrence.recurrenceRules",
        ["FREQ=DAILY;BYHOUR=25"],
        "UNSUPPORTED_TRIGGER_RECURRENCE",
    ),
    ("trigger.recurrence.recurrenceRules", [], "UNSUPPORTED_TRIGGER_RECURRENCE"),
    ("trigger.recurrence", {"freq": "DAILY", "byDay": ["MO"]}, "UNSUPPORTED_TRIGGER_RECURRENCE"),
    (
        "trigger.recurrence.startDateTime",
        "2026-12-09T08:00:00Z",
        "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT",
    ),
    ("alertInfo.spokenInfo.content", [], "INVALID_ALERT_INFO"),
    ("alertInfo.spokenInfo.content", [{"locale": "en-GB", "text": " "}], "INVALID_ALERT_INFO"),
    ("alertInfo.spokenInfo.content", [{"text": "Time to stretch."}], "INVALID_ALERT_INFO"),
    ("alertInfo", ..., "INVALID_ALERT_INFO"),
    ("pushNotification", {"status": "LOUD"}, "INVALID_PUSH_NOTIFICATION"),
    ("requestTime", ..., "INVALID_REQUEST_TIME"),
]


@pytest.mark.parametrize(("path", "value", "code"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_a_body_that_departs_from_the_documented_shape_is_refused(api, path, value, code):
    answer = api.answer("POST", REMINDERS_PATH, AUTH, changed(path, value))
    assert answer.status == 400
    assert answer.body["code"] == code and answer.body["message"]
    assert api.reminders == {}


def test_an_update_is_checked_too(api):
    token = api.answer("POST", REMINDERS_PATH, AUTH, DAILY).body["alertToken"]
    bad = changed("trigger.scheduledTime", "2026-12-09T09:00:00Z")
    answer = api.answer("PUT", f"{REMINDERS_PATH}/{token}", AUTH, bad)
    assert answer.status == 400 and answer.body["code"] == "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"
    assert api.reminders[token]["trigger"]["scheduledTime"] == "2026-12-09T08:00:00"


@pytest.mark.parametrize(
    "trigger",
    [
        {"type": "SCHEDULED_RELATIVE"},
        {"type": "SCHEDULED_RELATIVE", "offsetInSeconds": 0},
        {
            "type": "SCHEDULED_RELATIVE",
            "offsetInSeconds": 60,
            "scheduledTime": "2026-12-09T08:00:00",
        },
    ],
)
def test_a_relative_trigger_needs_only_a_positive_offset(api, trigger):
    answer = api.answer("POST", REMINDERS_PATH, AUTH, changed("trigger", trigger))
    assert answer.status == 400 and answer.body["code"].startswith("INVALID_TRIGGER")


def test_without_the_permission_every_reminders_call_is_unauthorized(api):
    api.reminders_permission = False
    for method in ("POST", "GET"):
        answer = api.answer(method, REMINDERS_PATH, AUTH, DAILY if method == "POST" else None)
        assert answer.status == 401 and answer.body["code"] == "UNAUTHORIZED"
    assert api.reminders == {}
    zone = api.answer("GET", ZONE_PATH.format(device_id="d1"), AUTH, None)
    assert zone.status == 200 and zone.body == "Europe/London"  # the Settings API needs no grant


@pytest.mark.parametrize("headers", [[], [("Authorization", "Bearer someone-else")]])
def test_a_call_without_the_devices_token_is_unauthorized(api, headers):
    assert api.answer("GET", ZONE_PATH.format(device_id="d1"), headers, None).status == 401


def test_in_process_it_is_the_skills_api_client_and_refuses_plain_http(api):
    client = StandInApiClient(api)
    request = ApiClientRequest(
        url=f"https://api.amazonalexa.com{REMINDERS_PATH}",
        method="POST",
        headers=[*AUTH, ("Content-type", "application/json")],
        body=changed("trigger.scheduledTime", "2026-12-09T08:00:00Z"),
    )
    answer = client.invoke(request)
    assert answer.status_code == 400
    assert json.loads(answer.body)["code"] == "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT"
    request.url = request.url.replace("https", "http")
    with pytest.raises(ApiClientException, match="non-HTTPS"):
        client.invoke(request)


def test_over_https_the_test_server_gives_the_same_answers(alexa_api):
    client = TimeoutApiClient(timeout=2.0)
    headers = [*AUTH, ("Content-type", "application/json"), ("Accept", "application/json")]

    def post(body: dict):
        return client.invoke(
            ApiClientRequest(
                url=alexa_api.endpoint + REMINDERS_PATH, method="POST", headers=headers, body=body
            )
        )

    refused = post(changed("trigger.timeZoneId", ...))
    assert refused.status_code == 400 and json.loads(refused.body)["code"] == "INVALID_TIME_ZONE"
    created = post(DAILY)
    assert created.status_code == 200
    assert json.loads(created.body)["alertToken"] == "amzn1.alert.test-1"
    assert list(alexa_api.reminders) == ["amzn1.alert.test-1"]
