"""A stand-in for the Alexa APIs the skill calls: the Settings API (time zone) and Reminders API.

One implementation, used two ways:

- in this process, as ask-sdk-model's ``ApiClient`` (:class:`StandInApiClient`): the skill that
  ``rls-coach say`` and ``rls-coach chat`` build calls it instead of the network;
- over HTTPS on 127.0.0.1, by the tests: tests/fake_alexa_api.py serves
  :meth:`AlexaApiStandIn.answer`.

It is pure: a request (method, path, headers, JSON body) in, an :class:`Answer` (status, JSON body)
out, with what it saw recorded in :attr:`AlexaApiStandIn.calls`. One method per API operation, so
an operation can change without touching the others.

Every Reminders body the skill sends (create and update) is checked against the documented shape
(:func:`reminder_problem`), and a body that does not match is refused with 400 and the API's error
body, ``{"code": ..., "message": ...}``: a trigger of type ``SCHEDULED_ABSOLUTE`` with a
``scheduledTime`` in local time without an offset and a known ``timeZoneId``, or
``SCHEDULED_RELATIVE`` with a positive ``offsetInSeconds``; a recurrence as ``recurrenceRules``
(RFC 5545 rules, read with python-dateutil) or the older ``freq`` and ``byDay``; spoken content with
a locale and a text; and a push notification status. Where the API is known to answer a code for a
fault (``INVALID_TRIGGER_SCHEDULED_TIME_FORMAT`` for a time with an offset,
``UNSUPPORTED_TRIGGER_RECURRENCE``, ``INVALID_ALERT_INFO``), that code is used; other codes name
the field refused.

Without the reminders permission, every Reminders call answers 401, as the API does for a user who
has not granted it. A call without a bearer token (or with another token than the one the device
was given) answers 401 too.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

REMINDERS_PATH = "/v1/alerts/reminders"
ZONE_PATH = "/v2/devices/{device_id}/settings/System.timeZone"
PERMISSION = "alexa::alerts:reminders:skill:readwrite"
_ZONE_PATH = re.compile(r"^/v2/devices/(?P<device_id>[^/]+)/settings/System\.timeZone$")
_REMINDER_PATH = re.compile(rf"^{REMINDERS_PATH}(?:/(?P<token>[^/]+))?/?$")

TRIGGER_TYPES = ("SCHEDULED_ABSOLUTE", "SCHEDULED_RELATIVE")
# What a recurrence may repeat by: the API refuses anything more often than daily.
RECURRENCE_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
OLD_RECURRENCE_FREQUENCIES = ("DAILY", "WEEKLY")
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
PUSH_STATUSES = ("ENABLED", "DISABLED")
REMINDER_PARTS = ("trigger", "alertInfo", "pushNotification")  # what a reminder stores of a request
_RULE_PART = re.compile(r"^(?:RRULE:)?(?P<parts>[A-Z]+=[^;]+(?:;[A-Z]+=[^;]+)*);?$")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Answer:
    """What the stand-in answers: an HTTP status and a JSON body (None: an empty body)."""

    status: int
    body: Any = None

    def text(self) -> str:
        return "" if self.body is None else json.dumps(self.body)


@dataclass(frozen=True)
class ApiCall:
    """One call the skill made, and the status it got."""

    method: str
    path: str
    body: Any
    status: int

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body, "status": self.status}

    def describe(self) -> str:
        return f"{self.method} {self.path} → {self.status}"


def error(status: int, code: str, message: str) -> Answer:
    """The APIs' documented error body."""
    return Answer(status, {"code": code, "message": message})


@dataclass
class AlexaApiStandIn:
    """The Alexa APIs of one simulated account and device.

    ``zone`` is what the Settings API answers for the device's time zone. ``token``, when set, is
    the only bearer token accepted. ``reminders_permission``: whether the user granted this skill
    the reminders permission (Reminders calls answer 401 without it). ``clock`` stamps created and
    updated reminders (the simulated device's clock, so they read in device time).
    """

    zone: str = "America/New_York"
    token: str | None = None
    reminders_permission: bool = True
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)
    token_prefix: str = "amzn1.alert.standin-"
    clock: Callable[[], dt.datetime] = utc_now

    def __post_init__(self) -> None:
        self._numbers: Iterator[int] = itertools.count(1)

    # ---- the one entry point -------------------------------------------------------------------

    def answer(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: Any
    ) -> Answer:
        """Answer one request; ``body`` is its parsed JSON (or None). The call is recorded."""
        method = method.upper()
        path = urlsplit(path).path
        answer = self._route(method, path, headers, body)
        self.calls.append(ApiCall(method, path, body, answer.status))
        return answer

    def _route(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: Any
    ) -> Answer:
        if not self._authorized(headers):
            return error(401, "UNAUTHORIZED", "the request has no valid bearer token")
        zone = _ZONE_PATH.match(path)
        if zone is not None:
            if method != "GET":
                return error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here")
            return self.time_zone(zone["device_id"])
        reminder = _REMINDER_PATH.match(path)
        if reminder is None:
            return error(404, "NOT_FOUND", f"no API at {path}")
        if not self.reminders_permission:
            return error(401, "UNAUTHORIZED", "the user has not granted the reminders permission")
        token = reminder["token"]
        operations: dict[tuple[str, bool], Callable[[], Answer]] = {
            ("POST", False): lambda: self.create_reminder(body),
            ("GET", False): self.list_reminders,
            ("GET", True): lambda: self.get_reminder(token or ""),
            ("PUT", True): lambda: self.update_reminder(token or "", body),
            ("DELETE", True): lambda: self.delete_reminder(token or ""),
        }
        operation = operations.get((method, token is not None))
        if operation is None:
            return error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}")
        return operation()

    def _authorized(self, headers: Sequence[tuple[str, str]]) -> bool:
        values = [value for name, value in headers if name.lower() == "authorization"]
        if not values or not values[0].startswith("Bearer ") or not values[0][7:].strip():
            return False
        return self.token is None or values[0][7:].strip() == self.token

    # ---- the Settings API ------------------------------------------------------------------------

    def time_zone(self, device_id: str) -> Answer:
        """GET /v2/devices/{deviceId}/settings/System.timeZone: the zone's name as a JSON string."""
        return Answer(200, self.zone)

    # ---- the Reminders API -----------------------------------------------------------------------

    def create_reminder(self, body: Any) -> Answer:
        """POST /v1/alerts/reminders."""
        problem = reminder_problem(body)
        if problem is not None:
            return error(400, *problem)
        token = f"{self.token_prefix}{next(self._numbers)}"
        now = self._stamp()
        self.reminders[token] = {
            "alertToken": token,
            "createdTime": now,
            "updatedTime": now,
            "status": "ON",
            "version": "1",
            **{
                key: body[key]
                for key in ("trigger", "alertInfo", "pushNotification")
                if key in body
            },
        }
        return Answer(200, _summary(self.reminders[token]))

    def list_reminders(self) -> Answer:
        """GET /v1/alerts/reminders: this skill's reminders for this user."""
        alerts = list(self.reminders.values())
        return Answer(200, {"totalCount": str(len(alerts)), "alerts": alerts})

    def get_reminder(self, token: str) -> Answer:
        """GET /v1/alerts/reminders/{alertToken}."""
        if token not in self.reminders:
            return _not_found(token)
        return Answer(200, self.reminders[token])

    def update_reminder(self, token: str, body: Any) -> Answer:
        """PUT /v1/alerts/reminders/{alertToken}: the whole reminder is replaced."""
        if token not in self.reminders:
            return _not_found(token)
        problem = reminder_problem(body)
        if problem is not None:
            return error(400, *problem)
        stored = self.reminders[token]
        for key in REMINDER_PARTS:
            stored.pop(key, None)
            if key in body:
                stored[key] = body[key]
        stored["updatedTime"] = self._stamp()
        stored["version"] = str(int(stored.get("version") or 0) + 1)
        return Answer(200, _summary(stored))

    def delete_reminder(self, token: str) -> Answer:
        """DELETE /v1/alerts/reminders/{alertToken}."""
        if self.reminders.pop(token, None) is None:
            return _not_found(token)
        return Answer(200)

    def _stamp(self) -> str:
        return self.clock().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def bodies(self, method: str = "POST") -> list[Any]:
        """The bodies the skill sent to the Reminders API with ``method``, in order."""
        return [
            call.body
            for call in self.calls
            if call.method == method and call.path.startswith(REMINDERS_PATH)
        ]


def _summary(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A create or update answer: the reminder's token, times, status and version."""
    keys = ("alertToken", "createdTime", "updatedTime", "status", "version")
    return {key: stored[key] for key in keys}


def _not_found(token: str) -> Answer:
    return error(404, "NOT_FOUND", f"no reminder {token}")


# ---- the documented shape of a reminder ---------------------------------------------------------


class _ShapeError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def reminder_problem(body: Any) -> tuple[str, str] | None:
    """(code, message) for the first way ``body`` departs from the documented shape of a reminder
    request; None if it matches."""
    try:
        _check_reminder(body)
    except _ShapeError as refused:
        return refused.code, refused.message
    return None


def _check_reminder(body: Any) -> None:
    if not isinstance(body, Mapping):
        raise _ShapeError("INVALID_REQUEST", "the body is not a JSON object")
    _local_time(body.get("requestTime"), "INVALID_REQUEST_TIME", "requestTime", offset_ok=True)
    _check_trigger(body.get("trigger"))
    _check_alert_info(body.get("alertInfo"))
    push = body.get("pushNotification")
    if push is not None and (
        not isinstance(push, Mapping) or push.get("status") not in PUSH_STATUSES
    ):
        raise _ShapeError(
            "INVALID_PUSH_NOTIFICATION",
            f"pushNotification.status must be one of {', '.join(PUSH_STATUSES)}",
        )


def _check_alert_info(alert_info: Any) -> None:
    """alertInfo.spokenInfo.content: one or more texts, each with its locale."""
    spoken = alert_info.get("spokenInfo") if isinstance(alert_info, Mapping) else None
    content = spoken.get("content") if isinstance(spoken, Mapping) else None
    if not isinstance(content, list) or not content:
        raise _ShapeError(
            "INVALID_ALERT_INFO", "alertInfo.spokenInfo.content must list what Alexa says"
        )
    for text in content:
        if not isinstance(text, Mapping) or not isinstance(text.get("locale"), str):
            raise _ShapeError("INVALID_ALERT_INFO", "each spoken content needs a locale")
        words = text.get("text")
        if not isinstance(words, str) or not words.strip():
            raise _ShapeError("INVALID_ALERT_INFO", "each spoken content needs a text")


def _check_trigger(trigger: Any) -> None:
    if not isinstance(trigger, Mapping):
        raise _ShapeError("INVALID_TRIGGER", "a reminder needs a trigger object")
    kind = trigger.get("type")
    if kind not in TRIGGER_TYPES:
        raise _ShapeError(
            "INVALID_TRIGGER_TYPE", f"trigger.type must be one of {', '.join(TRIGGER_TYPES)}"
        )
    if kind == "SCHEDULED_RELATIVE":
        offset = trigger.get("offsetInSeconds")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset <= 0:
            raise _ShapeError(
                "INVALID_TRIGGER_OFFSET",
                "a SCHEDULED_RELATIVE trigger needs a positive whole offsetInSeconds",
            )
        for absolute in ("scheduledTime", "recurrence"):
            if absolute in trigger:
                raise _ShapeError(
                    "INVALID_TRIGGER", f"a SCHEDULED_RELATIVE trigger has no {absolute}"
                )
        return
    recurrence = trigger.get("recurrence")
    starts = recurrence.get("startDateTime") if isinstance(recurrence, Mapping) else None
    if "scheduledTime" in trigger or starts is None:
        _local_time(
            trigger.get("scheduledTime"),
            "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT",
            "trigger.scheduledTime",
        )
    if "offsetInSeconds" in trigger:
        raise _ShapeError("INVALID_TRIGGER", "a SCHEDULED_ABSOLUTE trigger has no offsetInSeconds")
    zone = trigger.get("timeZoneId")
    # The API falls back to the device's zone without one, but its documentation asks for it:
    # without it a reminder can ring at the wrong time. The coach always sends it.
    if not isinstance(zone, str) or not zone:
        raise _ShapeError(
            "INVALID_TIME_ZONE", "trigger.timeZoneId must name the device's time zone"
        )
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _ShapeError(
            "INVALID_TIME_ZONE", f"trigger.timeZoneId '{zone}' is no known time zone"
        ) from None
    if recurrence is not None:
        _check_recurrence(recurrence)


def _check_recurrence(recurrence: Any) -> None:
    if not isinstance(recurrence, Mapping):
        raise _ShapeError("UNSUPPORTED_TRIGGER_RECURRENCE", "trigger.recurrence must be an object")
    rules = recurrence.get("recurrenceRules")
    for key in ("startDateTime", "endDateTime"):
        if key in recurrence:
            _local_time(
                recurrence[key], "INVALID_TRIGGER_SCHEDULED_TIME_FORMAT", f"recurrence.{key}"
            )
    if rules is not None:
        if not isinstance(rules, list) or not rules:
            raise _ShapeError(
                "UNSUPPORTED_TRIGGER_RECURRENCE",
                "recurrence.recurrenceRules must be a non-empty list of rules",
            )
        for rule in rules:
            _check_rule(rule)
        return
    # The older form, which the documentation still accepts: freq, and byDay for WEEKLY.
    freq = recurrence.get("freq")
    if freq not in OLD_RECURRENCE_FREQUENCIES:
        raise _ShapeError(
            "UNSUPPORTED_TRIGGER_RECURRENCE",
            "a recurrence needs recurrenceRules, or freq DAILY or WEEKLY",
        )
    days = recurrence.get("byDay")
    if days is not None and (
        freq != "WEEKLY" or not isinstance(days, list) or any(d not in DAY_CODES for d in days)
    ):
        raise _ShapeError(
            "UNSUPPORTED_TRIGGER_RECURRENCE", "byDay is a list of day codes, for freq WEEKLY"
        )


def _check_rule(rule: Any) -> None:
    from dateutil.rrule import rrulestr  # noqa: PLC0415 - only when a recurrence is checked

    match = _RULE_PART.match(rule) if isinstance(rule, str) else None
    if match is None:
        raise _ShapeError(
            "UNSUPPORTED_TRIGGER_RECURRENCE", f"'{rule}' is not an RFC 5545 rule like FREQ=DAILY"
        )
    parts = dict(part.split("=", 1) for part in match["parts"].split(";"))
    if parts.get("FREQ") not in RECURRENCE_FREQUENCIES:
        raise _ShapeError(
            "UNSUPPORTED_TRIGGER_RECURRENCE",
            f"'{rule}': FREQ must be one of {', '.join(RECURRENCE_FREQUENCIES)}",
        )
    try:
        rrulestr(match["parts"], dtstart=dt.datetime(2026, 1, 1))
    except (ValueError, TypeError) as exc:
        raise _ShapeError("UNSUPPORTED_TRIGGER_RECURRENCE", f"'{rule}': {exc}") from None


def _local_time(value: Any, code: str, name: str, *, offset_ok: bool = False) -> dt.datetime:
    """An ISO 8601 date and time; without an offset unless ``offset_ok``."""
    if not isinstance(value, str):
        raise _ShapeError(code, f"{name} must be an ISO 8601 date and time")
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _ShapeError(code, f"{name} '{value}' is not an ISO 8601 date and time") from None
    if moment.tzinfo is not None and not offset_ok:
        raise _ShapeError(
            code, f"{name} '{value}' has an offset; give the local time and set timeZoneId"
        )
    return moment


# ---- in process: the skill's API client --------------------------------------------------------


class StandInApiClient(ApiClient):
    """ask-sdk-model's ``ApiClient``, answered by a stand-in instead of the network. Like the SDK's
    own client, it refuses anything but HTTPS."""

    def __init__(self, standin: AlexaApiStandIn) -> None:
        self.standin = standin

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        url = urlsplit(request.url or "")
        if url.scheme != "https":
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        answer = self.standin.answer(
            request.method or "GET", url.path, list(request.headers or []), _json(request.body)
        )
        headers = [("Content-Type", "application/json")] if answer.body is not None else []
        return ApiClientResponse(headers=headers, body=answer.text(), status_code=answer.status)


def _json(body: Any) -> Any:
    """A request body as JSON data: the SDK hands over serialized objects, or text."""
    if body is None or body == "":
        return None
    if isinstance(body, bytes | str):
        try:
            return json.loads(body)
        except ValueError:
            return body
    return json.loads(json.dumps(body))
