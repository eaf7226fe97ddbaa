"""Reminders to stretch: when a reminder rings, what the Alexa Reminders API is asked, and what
its answers mean. No speech here: the handlers (skill/handlers/reminders.py) word everything.

A :class:`Plan` is a reminder the user asked for, before it exists: a routine, a local clock time,
how it repeats and the first day it rings. It travels in the session (and in the token of the
permission request) as plain JSON. Only the API's own tokens for created reminders are stored with
the user's record.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model.services import ServiceClientResponse, ServiceException
from ask_sdk_model.services.reminder_management import (
    AlertInfo,
    PushNotification,
    PushNotificationStatus,
    Recurrence,
    ReminderRequest,
    SpokenInfo,
    SpokenText,
    Trigger,
    TriggerType,
)

from skill.advice import parse_clock
from skill.catalog.model import Catalog, Rules, TimePhrase
from skill.clock import is_near_bedtime
from skill.logsafe import clip

logger = logging.getLogger(__name__)

PERMISSION = "alexa::alerts:reminders:skill:readwrite"
REMINDERS_PATH = "/v1/alerts/reminders"
ERROR_TYPE = "ask_sdk_model.services.reminder_management.error.Error"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 day codes, Monday first
# AMAZON.TIME sends a part of the day as these codes.
PART_CODES = {"MO": "morning", "AF": "afternoon", "EV": "evening", "NI": "night"}
# AMAZON.DayOfWeek values → day codes.
DAY_NAMES = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}


class Repeat(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"  # on the chosen days


@dataclass(frozen=True)
class Plan:
    """A reminder to create: ``first`` is the local date it first rings."""

    routine_id: str
    clock: dt.time
    repeat: Repeat
    first: dt.date
    days: tuple[str, ...] = ()  # day codes, for Repeat.WEEKLY

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(clock=self.clock.strftime("%H:%M"), first=self.first.isoformat())
        data["repeat"] = self.repeat.value
        data["days"] = list(self.days)
        return data

    @classmethod
    def from_json(cls, data: Any) -> Plan | None:
        """The plan a session or a permission token carried; None if it is not one."""
        try:
            clock = parse_clock(str(data["clock"]))
            days = tuple(str(d) for d in data.get("days") or ())
            if clock is None or any(d not in WEEKDAYS for d in days):
                return None
            return cls(
                routine_id=str(data["routine_id"]),
                clock=clock,
                repeat=Repeat(data["repeat"]),
                first=dt.date.fromisoformat(str(data["first"])),
                days=days,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def starts(self) -> dt.datetime:
        """The local (naive) moment it first rings."""
        return dt.datetime.combine(self.first, self.clock)


# ---- understanding what was asked ----------------------------------------------------------------


def part_of_routine(catalog: Catalog, routine_id: str | None) -> str | None:
    """The part of the day a routine is for ("morning stretches" → morning), if it has one."""
    routine = catalog.routines.get(routine_id or "")
    return routine.default_for[0] if routine is not None and routine.default_for else None


def part_of_phrase(phrase: TimePhrase | None, rules: Rules) -> str | None:
    if phrase is None or phrase.at is None:
        return None
    return rules.day_part(phrase.at)


def choose_clock(
    time_value: str | None,
    phrase: TimePhrase | None,
    part: str | None,
    now: dt.datetime,
    rules: Rules,
    bedtime: dt.time | None = None,
) -> dt.time:
    """The clock time a reminder rings at.

    An AMAZON.TIME part of the day ("MO") or a time phrase ("tomorrow morning") means the
    content's time for it. A clock time without a.m. or p.m. (Alexa sends "05:00" for "at five")
    takes the reading inside the part of the day asked for ("morning stretches at eight" → 8 AM),
    else the next such time from now (at 9 AM, "at five" → 5 PM) unless that falls close to
    ``bedtime`` and the other reading does not ("at seven thirty" said at 8 AM → 7:30 AM, when
    7:30 PM is inside the bedtime buffer). Nothing at all: the asked-for
    part's time, else the next of the morning and afternoon times.
    """
    if time_value and time_value.upper() in PART_CODES:
        return rules.reminder_times[PART_CODES[time_value.upper()]]
    clock = parse_clock(time_value)
    if clock is not None:
        return _reading(clock, part, now, rules, bedtime)
    if phrase is not None and phrase.at is not None:
        return phrase.at
    if part is not None:
        return rules.reminder_times[part]
    stretch_times = [rules.reminder_times["morning"], rules.reminder_times["afternoon"]]
    return next((t for t in stretch_times if t > now.time()), stretch_times[0])


def _reading(
    clock: dt.time, part: str | None, now: dt.datetime, rules: Rules, bedtime: dt.time | None
) -> dt.time:
    if not 1 <= clock.hour <= 12:
        return clock  # 0:xx and 13:00 onwards say which half of the day they mean
    morning = clock.replace(hour=clock.hour % 12)
    evening = clock.replace(hour=clock.hour % 12 + 12)
    if part is not None:
        for reading in (clock, morning, evening):
            if rules.day_part(reading) == part:
                return reading
    readings = sorted((morning, evening), key=lambda reading: _until(reading, now))
    if bedtime is not None:
        day = now.replace(tzinfo=None)
        allowed = [
            r
            for r in readings
            if not is_near_bedtime(
                dt.datetime.combine(day.date(), r), bedtime, rules.bedtime_buffer_hours
            )
        ]
        return (allowed or readings)[0]
    return readings[0]


def _until(clock: dt.time, now: dt.datetime) -> dt.timedelta:
    """How long from ``now`` until ``clock`` next comes round."""
    moment = dt.datetime.combine(now.date(), clock)
    wait = moment - now.replace(tzinfo=None)
    return wait if wait > dt.timedelta(0) else wait + dt.timedelta(days=1)


def day_codes(*values: str | None) -> tuple[str, ...]:
    """AMAZON.DayOfWeek values ("monday") as day codes, in week order, without repeats."""
    codes = {DAY_NAMES[v.strip().lower()] for v in values if v and v.strip().lower() in DAY_NAMES}
    return tuple(code for code in WEEKDAYS if code in codes)


def first_day(
    clock: dt.time, now: dt.datetime, repeat: Repeat, days: tuple[str, ...] = ()
) -> dt.date:
    """The first local date on which ``clock`` is still ahead and the repeat allows it."""
    allowed = (
        days
        or {
            Repeat.ONCE: WEEKDAYS,
            Repeat.DAILY: WEEKDAYS,
            Repeat.WEEKDAYS: WEEKDAYS[:5],
            Repeat.WEEKLY: WEEKDAYS,
        }[repeat]
    )
    day = now.date()
    if clock <= now.time().replace(tzinfo=None):
        day += dt.timedelta(days=1)
    while WEEKDAYS[day.weekday()] not in allowed:
        day += dt.timedelta(days=1)
    return day


def near_bedtime(plan: Plan, bedtime: dt.time, rules: Rules) -> bool:
    return is_near_bedtime(plan.starts(), bedtime, rules.bedtime_buffer_hours)


def earlier_clock(bedtime: dt.time, rules: Rules) -> dt.time:
    """The latest half hour outside the bedtime buffer (10:30 PM with three hours → 7 PM),
    but never before the afternoon's reminder time."""
    # A minute before the buffer begins (its first moment already counts as close to bed).
    latest = dt.datetime.combine(dt.date(2000, 1, 1), bedtime) - dt.timedelta(
        hours=rules.bedtime_buffer_hours, minutes=1
    )
    latest -= dt.timedelta(minutes=latest.minute % 30)
    afternoon = rules.reminder_times["afternoon"]
    return latest.time() if afternoon <= latest.time() else afternoon


# ---- the API's request body ----------------------------------------------------------------------


def recurrence_rule(plan: Plan) -> str | None:
    """RFC 5545 rule for a repeating plan ("FREQ=DAILY;BYHOUR=8;…"), None for a one-off."""
    when = f"BYHOUR={plan.clock.hour};BYMINUTE={plan.clock.minute};BYSECOND=0"
    if plan.repeat is Repeat.DAILY:
        return f"FREQ=DAILY;{when};INTERVAL=1"
    if plan.repeat is Repeat.WEEKDAYS:
        return f"FREQ=WEEKLY;BYDAY={','.join(WEEKDAYS[:5])};{when};INTERVAL=1"
    if plan.repeat is Repeat.WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={','.join(plan.days)};{when};INTERVAL=1"
    return None


def reminder_request(
    plan: Plan, now: dt.datetime, zone: str, locale: str, text: str
) -> ReminderRequest:
    """What POST /v1/alerts/reminders is sent: an absolute trigger at a local time without an
    offset, in the device's zone (the API works the offset out, daylight saving included)."""
    rule = recurrence_rule(plan)
    recurrence = (
        Recurrence(start_date_time=plan.starts(), recurrence_rules=[rule]) if rule else None
    )
    return ReminderRequest(
        request_time=now.replace(tzinfo=None, microsecond=0),
        trigger=Trigger(
            object_type=TriggerType.SCHEDULED_ABSOLUTE,
            scheduled_time=plan.starts(),
            time_zone_id=zone,
            recurrence=recurrence,
        ),
        alert_info=AlertInfo(
            spoken_info=SpokenInfo(content=[SpokenText(locale=locale, text=text)])
        ),
        push_notification=PushNotification(status=PushNotificationStatus.ENABLED),
    )


# ---- reading reminders back ----------------------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """One of this skill's reminders, as the API describes it."""

    token: str
    clock: dt.time
    repeat: Repeat
    first: dt.date
    days: tuple[str, ...] = ()


def listed(reminder: Any) -> Listed | None:
    """A reminder from GET /v1/alerts/reminders (its JSON), read; None if it has ended or
    cannot be read."""
    if not isinstance(reminder, Mapping) or reminder.get("status") == "COMPLETED":
        return None
    token = reminder.get("alertToken")
    trigger = reminder.get("trigger")
    if not token or not isinstance(trigger, Mapping):
        return None
    recurrence = trigger.get("recurrence")
    recurrence = recurrence if isinstance(recurrence, Mapping) else None
    moment = trigger.get("scheduledTime") or (recurrence or {}).get("startDateTime")
    try:
        start = dt.datetime.fromisoformat(str(moment))
    except ValueError:
        return None
    repeat, days = _repeat_of(recurrence)
    return Listed(str(token), start.time().replace(tzinfo=None), repeat, start.date(), days)


def _repeat_of(recurrence: Mapping[str, Any] | None) -> tuple[Repeat, tuple[str, ...]]:
    if recurrence is None:
        return Repeat.ONCE, ()
    rules = recurrence.get("recurrenceRules") or []
    fields: dict[str, str] = {}
    for part in str(rules[0]).split(";") if rules else ():
        key, _, value = part.partition("=")
        fields[key.strip().upper()] = value.strip().upper()
    if not fields:  # the older form: freq and byDay
        by_day = recurrence.get("byDay") or []
        fields = {"FREQ": str(recurrence.get("freq") or ""), "BYDAY": ",".join(map(str, by_day))}
    days = tuple(d for d in WEEKDAYS if d in fields.get("BYDAY", "").split(","))
    if fields.get("FREQ") == "DAILY" or (fields.get("FREQ") == "WEEKLY" and len(days) == 7):
        return Repeat.DAILY, ()
    if fields.get("FREQ") == "WEEKLY" and days == WEEKDAYS[:5]:
        return Repeat.WEEKDAYS, ()
    if fields.get("FREQ") == "WEEKLY" and days:
        return Repeat.WEEKLY, days
    return Repeat.ONCE, ()


def matches(reminder: Listed, part: str | None, rules: Rules) -> bool:
    return part is None or rules.day_part(reminder.clock) == part


# ---- calling the API, and what went wrong --------------------------------------------------------


class Fault(StrEnum):
    PERMISSION = "permission"  # 401, or a 403 that is not one of the two below
    TOO_MANY = "too_many"  # MAX_REMINDERS_EXCEEDED
    DEVICE = "device"  # DEVICE_NOT_SUPPORTED
    NOT_ACCEPTED = "not_accepted"  # any other 400: the API refused this reminder
    GONE = "gone"  # 404: already deleted (in the Alexa app, or it rang and ended)
    BUSY = "busy"  # 429
    UNAVAILABLE = "unavailable"  # 5xx, a timeout, no connection, an unreadable answer


class ReminderApiError(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault.value)
        self.fault = fault


def has_consent(handler_input: HandlerInput) -> bool:
    """Whether the user has granted this skill a reminders permission (Alexa sends a consent
    token then). Its absence means asking before calling the API."""
    user = handler_input.request_envelope.context.system.user
    permissions = getattr(user, "permissions", None) if user is not None else None
    return bool(getattr(permissions, "consent_token", None))


def can_call_api(handler_input: HandlerInput) -> bool:
    system = handler_input.request_envelope.context.system
    return bool(system.api_access_token and system.api_endpoint)


def create(handler_input: HandlerInput, request: ReminderRequest) -> str:
    """Create a reminder; its token. Raises :class:`ReminderApiError`."""
    answer = _call("create", lambda client: client.create_reminder(request), handler_input)
    token = getattr(answer, "alert_token", None)
    if not token:
        logger.warning("reminders API create answered without a token")
        raise ReminderApiError(Fault.UNAVAILABLE)
    return str(token)


def list_all(handler_input: HandlerInput) -> list[Any]:
    """Every reminder of this skill for this user (the API lists no other skill's), as JSON.

    Not ``get_reminders()``: ask-sdk-model 1.x cannot read the reminders it returns (its
    AlertInfo names a module that does not exist, so every answer with an alertInfo fails to
    deserialize). The same client's ``invoke`` is asked for plain JSON instead; errors are still
    read as the SDK's Error."""
    system = handler_input.request_envelope.context.system

    def get(client: Any) -> Any:
        return client.invoke(
            method="GET",
            endpoint=system.api_endpoint,
            path=REMINDERS_PATH,
            path_params={},
            query_params=[],
            header_params=[
                ("Accept", "application/json"),
                ("Authorization", f"Bearer {system.api_access_token}"),
            ],
            body=None,
            response_definitions=[
                ServiceClientResponse(response_type=ERROR_TYPE, status_code=code, message="")
                for code in (400, 401, 403, 429, 500, 503, 504)
            ],
            response_type="object",
        ).body

    answer = _call("list", get, handler_input)
    alerts = answer.get("alerts") if isinstance(answer, Mapping) else None
    return list(alerts) if isinstance(alerts, list) else []


def delete(handler_input: HandlerInput, token: str) -> None:
    try:
        _call("delete", lambda client: client.delete_reminder(token), handler_input)
    except ReminderApiError as exc:
        if exc.fault is not Fault.GONE:
            raise


def _call(operation: str, call: Any, handler_input: HandlerInput) -> Any:
    try:
        client = handler_input.service_client_factory.get_reminder_management_service()
        return call(client)
    except ServiceException as exc:
        fault = classify(exc)
        code = _code(exc)
        logger.warning(
            "reminders API %s failed: HTTP %s%s → %s",
            operation,
            exc.status_code,
            f" {clip(code, 40)}" if code else "",
            fault.value,
        )
        raise ReminderApiError(fault) from None
    # Broad on purpose: a body the SDK cannot read, or anything else on the way, is "unavailable"
    # to the user; only the kind of failure is logged (a message may quote the bearer token).
    except Exception as exc:
        logger.warning("reminders API %s failed: %s", operation, type(exc).__name__)
        raise ReminderApiError(Fault.UNAVAILABLE) from None


def classify(exc: ServiceException) -> Fault:
    """What a failed call means, from its HTTP status and the API's error code."""
    status = exc.status_code
    code = _code(exc).upper()
    if code == "MAX_REMINDERS_EXCEEDED":
        return Fault.TOO_MANY
    if code == "DEVICE_NOT_SUPPORTED":
        return Fault.DEVICE
    if status in (401, 403):
        return Fault.PERMISSION
    if status == 404:
        return Fault.GONE
    if status == 429:
        return Fault.BUSY
    if status is not None and 400 <= status < 500:
        return Fault.NOT_ACCEPTED
    return Fault.UNAVAILABLE


def _code(exc: ServiceException) -> str:
    """The API's error code ("MAX_REMINDERS_EXCEEDED"), from the SDK's Error or a raw body."""
    body = exc.body
    if isinstance(body, str | bytes):  # an answer the SDK had no type for: read it as JSON
        try:
            body = json.loads(body)
        except ValueError:
            return ""
    if isinstance(body, Mapping):
        return str(body.get("code") or "")
    return str(getattr(body, "code", "") or "")


def plan_from(data: Mapping[str, Any] | None) -> Plan | None:
    return Plan.from_json(data) if isinstance(data, Mapping) else None
