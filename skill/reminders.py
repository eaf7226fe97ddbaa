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
from dateutil import rrule

from skill.advice import parse_clock
from skill.catalog.model import Catalog, Rules
from skill.clock import is_near_bedtime
from skill.logsafe import clip
from skill.reminder_words import Heard, vocabulary

logger = logging.getLogger(__name__)

PERMISSION = "alexa::alerts:reminders:skill:readwrite"
REMINDERS_PATH = "/v1/alerts/reminders"
ERROR_TYPE = "ask_sdk_model.services.reminder_management.error.Error"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 day codes, Monday first


class Repeat(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKDAYS = "weekdays"
    WEEKLY = "weekly"  # on the chosen days


@dataclass(frozen=True)
class Plan:
    """A reminder to create: ``first`` is the local date it first rings; ``interval`` 2 is every
    other day (or week); ``wind_down`` names a wind-down reminder (reminder_words.yaml) rather
    than one to exercise."""

    routine_id: str
    clock: dt.time
    repeat: Repeat
    first: dt.date
    days: tuple[str, ...] = ()  # day codes, for Repeat.WEEKLY
    interval: int = 1
    wind_down: str | None = None

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
            interval = int(data.get("interval") or 1)
            wind_down = data.get("wind_down")
            if clock is None or any(d not in WEEKDAYS for d in days) or not 1 <= interval <= 7:
                return None
            if wind_down is not None and str(wind_down) not in vocabulary()["wind_down"]:
                return None
            return cls(
                routine_id=str(data["routine_id"]),
                clock=clock,
                repeat=Repeat(data["repeat"]),
                first=dt.date.fromisoformat(str(data["first"])),
                days=days,
                interval=interval,
                wind_down=str(wind_down) if wind_down else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def starts(self) -> dt.datetime:
        """The local (naive) moment it first rings."""
        return dt.datetime.combine(self.first, self.clock)

    def schedule(self) -> tuple[dt.time, Repeat, tuple[str, ...], int]:
        """What makes two reminders the same one: when they ring."""
        return self.clock, self.repeat, self.days, self.interval


@dataclass(frozen=True)
class Planned:
    """A reminder read from the user's words. ``inferred``: the coach chose its time or days, so
    it is read back and asked about before it is set. ``ask_days``: "three times a week" — how
    many days to ask the user to name."""

    plan: Plan
    inferred: bool = False
    chose_half: bool = False  # a bare hour was given a half of the day: say which
    ask_days: int | None = None


# ---- understanding what was asked ----------------------------------------------------------------


def part_of_routine(catalog: Catalog, routine_id: str | None) -> str | None:
    """The part of the day a routine is for ("morning stretches" → morning), if it has one."""
    routine = catalog.routines.get(routine_id or "")
    return routine.default_for[0] if routine is not None and routine.default_for else None


def plan_from_words(
    heard: Heard,
    routine_id: str | None,
    catalog: Catalog,
    now: dt.datetime,
    bedtime: dt.time,
    base: Plan | None = None,
) -> Planned:
    """The reminder ``heard`` asks for, at local time ``now``. With ``base`` (a reminder being
    changed: "make it 8", "weekdays only"), what the words do not say stays as it was."""
    rules = catalog.rules
    local = now.replace(tzinfo=None, second=0, microsecond=0)
    repeat, days, interval = _repeat_of_words(heard, base)
    inferred = chose_half = False
    if heard.wind_down and not heard.says_days and base is None:
        repeat, inferred = Repeat.DAILY, True  # a wind-down habit, unless a day was said
    part = heard.part or part_of_routine(catalog, routine_id)
    said = heard.clock_as_said()
    first: dt.date | None = None
    if heard.relative is not None:
        moment = local + heard.relative
        clock, first = moment.time(), moment.date()
    elif heard.before_bed is not None:
        clock = (dt.datetime.combine(local.date(), bedtime) - heard.before_bed).time()
    elif said is not None and said[1]:
        clock = said[0]
    elif said is not None and part is not None:
        clock = said[0].replace(hour=said[0].hour % 12 + (0 if part == "morning" else 12))
    elif said is not None:
        clock, chose_half = _next_reading(said[0], local, rules, bedtime), True
        inferred = base is None or said[0].hour != base.clock.hour % 12
    elif base is not None:
        clock = base.clock
    elif part is not None:
        clock, inferred = rules.reminder_times[part], True
    else:
        stretch_times = [rules.reminder_times["morning"], rules.reminder_times["afternoon"]]
        clock = next((t for t in stretch_times if t > local.time()), stretch_times[0])
        inferred = True
    if routine_id is None:
        routine_id = catalog.routine_for_day_part(rules.day_part(clock)).id
    if first is None:
        first = _first_of_words(heard, clock, local, repeat, days, base)
    wind_down = heard.wind_down or (base.wind_down if base else None)
    plan = Plan(routine_id, clock, repeat, first, days, interval, wind_down)
    return Planned(plan, inferred or bool(heard.times_a_week), chose_half, heard.times_a_week)


def _repeat_of_words(heard: Heard, base: Plan | None) -> tuple[Repeat, tuple[str, ...], int]:
    if heard.repeat == "daily":
        return Repeat.DAILY, (), heard.interval
    if heard.repeat == "weekdays":
        return Repeat.WEEKDAYS, (), 1
    if heard.repeat == "weekly":
        return Repeat.WEEKLY, heard.days, 1
    if heard.times_a_week:
        return Repeat.WEEKLY, (), 1
    if base is not None and not heard.one_off:
        return base.repeat, base.days, base.interval
    return Repeat.ONCE, (), 1


def _first_of_words(
    heard: Heard,
    clock: dt.time,
    local: dt.datetime,
    repeat: Repeat,
    days: tuple[str, ...],
    base: Plan | None,
) -> dt.date:
    if repeat is Repeat.ONCE and heard.one_off in ("today", "tomorrow"):
        return local.date() + dt.timedelta(days=int(heard.one_off == "tomorrow"))
    if repeat is Repeat.ONCE and heard.one_off in WEEKDAYS:
        return first_day(clock, local, Repeat.WEEKLY, (heard.one_off,))
    kept = base is not None and base.repeat is Repeat.ONCE and repeat is Repeat.ONCE
    if kept and dt.datetime.combine(base.first, clock) > local:  # a new time keeps the day
        return base.first
    return first_day(clock, local, repeat, days)


def _next_reading(clock: dt.time, now: dt.datetime, rules: Rules, bedtime: dt.time) -> dt.time:
    """A bare hour ("at 7") as the next such time that does not fall in the bedtime window
    (said at 10 AM: 7 PM is close to a 10 PM bedtime, so 7 AM)."""
    morning = clock.replace(hour=clock.hour % 12)
    evening = clock.replace(hour=clock.hour % 12 + 12)
    readings = sorted((morning, evening), key=lambda reading: _until(reading, now))
    allowed = [
        r
        for r in readings
        if not is_near_bedtime(
            dt.datetime.combine(now.date(), r), bedtime, rules.bedtime_buffer_hours
        )
    ]
    return (allowed or readings)[0]


def _until(clock: dt.time, now: dt.datetime) -> dt.timedelta:
    """How long from ``now`` until ``clock`` next comes round."""
    moment = dt.datetime.combine(now.date(), clock)
    wait = moment - now.replace(tzinfo=None)
    return wait if wait > dt.timedelta(0) else wait + dt.timedelta(days=1)


def first_day(
    clock: dt.time, now: dt.datetime, repeat: Repeat, days: tuple[str, ...] = ()
) -> dt.date:
    """The first local date on which ``clock`` is still ahead and the repeat allows it (the
    weekday arithmetic is dateutil's rrule)."""
    allowed = days or (WEEKDAYS[:5] if repeat is Repeat.WEEKDAYS else WEEKDAYS)
    local = now.replace(tzinfo=None)
    rule = rrule.rrule(
        rrule.WEEKLY,
        dtstart=local.replace(hour=0, minute=0, second=0, microsecond=0),
        byweekday=[getattr(rrule, code) for code in allowed],
        byhour=clock.hour,
        byminute=clock.minute,
        bysecond=0,
    )
    following = rule.after(local.replace(microsecond=0))
    return following.date() if following else local.date()


def near_bedtime(plan: Plan, bedtime: dt.time, rules: Rules) -> bool:
    """An exercise reminder in the bedtime window; a wind-down reminder is meant to be there."""
    if plan.wind_down is not None:
        return False
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
    every = f"INTERVAL={plan.interval}"
    if plan.repeat is Repeat.DAILY:
        return f"FREQ=DAILY;{when};{every}"
    if plan.repeat is Repeat.WEEKDAYS:
        return f"FREQ=WEEKLY;BYDAY={','.join(WEEKDAYS[:5])};{when};{every}"
    if plan.repeat is Repeat.WEEKLY:
        return f"FREQ=WEEKLY;BYDAY={','.join(plan.days)};{when};{every}"
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
    """One of this skill's reminders, as the API describes it (``text``: what it says)."""

    token: str
    clock: dt.time
    repeat: Repeat
    first: dt.date
    days: tuple[str, ...] = ()
    interval: int = 1
    text: str = ""

    def schedule(self) -> tuple[dt.time, Repeat, tuple[str, ...], int]:
        return self.clock, self.repeat, self.days, self.interval


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
    repeat, days, interval = _repeat_of(recurrence)
    return Listed(
        str(token),
        start.time().replace(tzinfo=None, second=0, microsecond=0),
        repeat,
        start.date(),
        days,
        interval,
        _spoken_text(reminder),
    )


def _spoken_text(reminder: Mapping[str, Any]) -> str:
    try:
        return str(reminder["alertInfo"]["spokenInfo"]["content"][0]["text"])
    except (KeyError, IndexError, TypeError):
        return ""


def _repeat_of(recurrence: Mapping[str, Any] | None) -> tuple[Repeat, tuple[str, ...], int]:
    if recurrence is None:
        return Repeat.ONCE, (), 1
    rules = recurrence.get("recurrenceRules") or []
    fields: dict[str, str] = {}
    for part in str(rules[0]).split(";") if rules else ():
        key, _, value = part.partition("=")
        fields[key.strip().upper()] = value.strip().upper()
    if not fields:  # the older form: freq and byDay
        by_day = recurrence.get("byDay") or []
        fields = {"FREQ": str(recurrence.get("freq") or ""), "BYDAY": ",".join(map(str, by_day))}
    days = tuple(d for d in WEEKDAYS if d in fields.get("BYDAY", "").split(","))
    interval = int(fields["INTERVAL"]) if fields.get("INTERVAL", "").isdigit() else 1
    interval = interval if 1 <= interval <= 7 else 1
    if fields.get("FREQ") == "DAILY" or (fields.get("FREQ") == "WEEKLY" and len(days) == 7):
        return Repeat.DAILY, (), interval
    if fields.get("FREQ") == "WEEKLY" and days == WEEKDAYS[:5]:
        return Repeat.WEEKDAYS, (), 1
    if fields.get("FREQ") == "WEEKLY" and days:
        return Repeat.WEEKLY, days, 1
    return Repeat.ONCE, (), 1


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
    """``answered``: the API gave an HTTP answer; without one (a timeout, a dropped connection)
    a create may still have been made."""

    def __init__(self, fault: Fault, *, answered: bool = True) -> None:
        super().__init__(fault.value)
        self.fault = fault
        self.answered = answered


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


def update(handler_input: HandlerInput, token: str, request: ReminderRequest) -> None:
    """Change a reminder in place (PUT /v1/alerts/reminders/{token}). Raises
    :class:`ReminderApiError` (GONE when it was deleted meanwhile)."""
    _call("update", lambda client: client.update_reminder(token, request), handler_input)


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
        if exc.headers is None and exc.body is None:
            # The SDK's client found no answer at all (a timeout, a dropped connection) and calls
            # it a 500; a create may still have been made.
            logger.warning("reminders API %s failed: no answer", operation)
            raise ReminderApiError(Fault.UNAVAILABLE, answered=False) from None
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
        raise ReminderApiError(Fault.UNAVAILABLE, answered=False) from None


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
