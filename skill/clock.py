"""The user's "now": the request's own timestamp in the device's time zone, never the server clock.

The device's zone comes from the Alexa Settings API when it can be had; otherwise the configured
default zone is used and the turn still answers.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from ask_sdk_core.handler_input import HandlerInput

from skill.settings import Settings

logger = logging.getLogger(__name__)


def device_zone(handler_input: HandlerInput, settings: Settings) -> ZoneInfo:
    """The device's time zone, or the configured default."""
    return settings.zone


def request_time(handler_input: HandlerInput) -> dt.datetime:
    """The request's timestamp as an aware UTC datetime."""
    stamp = handler_input.request_envelope.request.timestamp
    if stamp is None:
        raise ValueError("the request has no timestamp")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp


def local_now(handler_input: HandlerInput, settings: Settings) -> dt.datetime:
    return request_time(handler_input).astimezone(device_zone(handler_input, settings))


def effective_bedtime(
    state_bedtime: dt.time | None, settings: Settings, default: dt.time
) -> dt.time:
    """The user's own bedtime, else the operator's default, else the content's default."""
    return state_bedtime or settings.default_bedtime or default


def next_bedtime(now: dt.datetime, bedtime: dt.time) -> dt.datetime:
    """The next occurrence of ``bedtime`` at or after ``now`` (local)."""
    today = now.replace(hour=bedtime.hour, minute=bedtime.minute, second=0, microsecond=0)
    # A moment up to four hours past bedtime (say 1 a.m. with a 22:30 bedtime) still belongs to
    # that night's bedtime, so the earliest candidate after "now minus four hours" wins.
    candidates = (today + dt.timedelta(days=offset) for offset in (-1, 0, 1))
    return min(c for c in candidates if c >= now - dt.timedelta(hours=4))


def hours_before_bedtime(moment: dt.datetime, bedtime: dt.time) -> float:
    """Hours from ``moment`` until bedtime; negative when bedtime has just passed."""
    return (next_bedtime(moment, bedtime) - moment).total_seconds() / 3600


def is_near_bedtime(moment: dt.datetime, bedtime: dt.time, buffer_hours: float) -> bool:
    """Within ``buffer_hours`` before bedtime, or after it (until the small hours)."""
    return hours_before_bedtime(moment, bedtime) <= buffer_hours
