"""The user's "now": the request's own timestamp in the device's time zone, never the server clock;
and the one reader of "HH:MM" clock times (settings, content, stored state and Alexa's slots).

The device's zone comes from the Alexa Settings API when it can be had; otherwise the configured
default zone is used and the turn still answers.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from cachetools import TLRUCache

from skill.logsafe import hashed

if TYPE_CHECKING:
    from ask_sdk_core.handler_input import HandlerInput

logger = logging.getLogger(__name__)

_CLOCK_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")


class ClockTimeError(ValueError):
    """Text that is not a 24-hour clock time; the message says what one looks like."""


def parse_clock_time(text: str, *, seconds: bool = False) -> dt.time:
    """A 24-hour clock time written "HH:MM" ("22:30", "7:05") as a time of day. With ``seconds``,
    "HH:MM:SS" is read too (AMAZON.TIME may send "07:05:00") and the seconds are dropped."""
    match = _CLOCK_TIME.fullmatch(text) if isinstance(text, str) else None
    if match and (seconds or match[3] is None):
        hours, minutes, secs = int(match[1]), int(match[2]), int(match[3] or 0)
        if hours < 24 and minutes < 60 and secs < 60:
            return dt.time(hours, minutes)
    raise ClockTimeError(f'expected a 24-hour time like "22:30", got {text!r}')


class Defaults(Protocol):
    """What the clock reads from the operator's settings (:class:`skill.settings.Settings`).
    A protocol rather than an import, because the settings read their bedtime with
    :func:`parse_clock_time`."""

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def default_bedtime(self) -> dt.time | None: ...


# A device's zone changes rarely (the owner moves it or edits it in the Alexa app), so an hour is
# fresh enough. A failed lookup is remembered for less time: long enough that a broken or slow API
# costs one short timeout every few minutes rather than on every turn, short enough to recover.
ZONE_TTL_SECONDS = 3600.0
FAILED_ZONE_TTL_SECONDS = 300.0
ZONE_CACHE_DEVICES = 10_000


class DeviceZones:
    """Device id → time zone from the Alexa Settings API, cached in-process (bounded, expiring).

    A lookup never raises: any failure (no API client or access token, a 403, an error status,
    a timeout, an unknown zone name) is logged, remembered briefly, and answered with ``None`` so
    the caller uses the configured default zone and the user still gets an answer.
    """

    def __init__(
        self,
        maxsize: int = ZONE_CACHE_DEVICES,
        ttl: float = ZONE_TTL_SECONDS,
        failed_ttl: float = FAILED_ZONE_TTL_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.failed_ttl = failed_ttl
        # cachetools caches are not thread-safe; the webhook serves turns from several threads.
        self._lock = threading.Lock()
        self._cache: TLRUCache[str, ZoneInfo | None] = TLRUCache(
            maxsize=maxsize, ttu=self._expires, timer=timer
        )

    def _expires(self, _device_id: str, zone: ZoneInfo | None, now: float) -> float:
        return now + (self.ttl if zone is not None else self.failed_ttl)

    def lookup(self, handler_input: HandlerInput) -> ZoneInfo | None:
        context = handler_input.request_envelope.context
        system = context.system if context else None
        device_id = system.device.device_id if system and system.device else None
        if not system or not device_id or not system.api_access_token or not system.api_endpoint:
            return None  # nothing to ask with (e.g. a hand-made test envelope)
        with self._lock:
            if device_id in self._cache:
                return self._cache[device_id]
        zone = self._ask(handler_input, device_id)
        with self._lock:
            self._cache[device_id] = zone
        return zone

    @staticmethod
    def _ask(handler_input: HandlerInput, device_id: str) -> ZoneInfo | None:
        try:
            ups = handler_input.service_client_factory.get_ups_service()
            name = ups.get_system_time_zone(device_id)
            if not isinstance(name, str) or not name:
                raise ValueError(f"no time zone in the answer ({name!r})")
            return ZoneInfo(name)
        # Broad on purpose: whatever went wrong (HTTP, TLS, a timeout, a bad body, an unknown
        # zone name), the turn must still answer, with the default zone.
        except Exception as exc:
            # Only the kinds of failure: a message can quote the request's bearer token (an
            # invalid header value is quoted whole) and the device id is the user's.
            cause = exc.__cause__ or exc.__context__
            logger.warning(
                "could not read the time zone of device %s (%s%s); using the default zone",
                hashed(device_id),
                type(exc).__name__,
                f" from {type(cause).__name__}" if cause is not None else "",
            )
            return None

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


DEVICE_ZONES = DeviceZones()


def device_zone(
    handler_input: HandlerInput, settings: Defaults, zones: DeviceZones | None = None
) -> ZoneInfo:
    """The device's time zone from the Alexa Settings API, or the configured default."""
    return (zones or DEVICE_ZONES).lookup(handler_input) or settings.zone


def request_time(handler_input: HandlerInput) -> dt.datetime:
    """The request's timestamp as an aware UTC datetime."""
    request = handler_input.request_envelope.request
    stamp = request.timestamp if request else None
    if stamp is None:
        raise ValueError("the request has no timestamp")
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp


def local_now(handler_input: HandlerInput, settings: Defaults) -> dt.datetime:
    return request_time(handler_input).astimezone(device_zone(handler_input, settings))


def effective_bedtime(
    state_bedtime: dt.time | None, settings: Defaults, default: dt.time
) -> dt.time:
    """The user's own bedtime, else the operator's default, else the content's default."""
    return state_bedtime or settings.default_bedtime or default


_BEDTIME_GRACE = dt.timedelta(hours=4)


def next_bedtime(now: dt.datetime, bedtime: dt.time) -> dt.datetime:
    """The next occurrence of ``bedtime`` at or after ``now`` (local). A moment up to four hours
    past bedtime (1 a.m. with a 22:30 bedtime) still belongs to that night's bedtime, so this is
    the earliest of yesterday's, today's and tomorrow's bedtimes after "now minus four hours"."""
    today = now.replace(hour=bedtime.hour, minute=bedtime.minute, second=0, microsecond=0, fold=0)
    candidates = (today + dt.timedelta(days=offset) for offset in (-1, 0, 1))
    return min(c for c in candidates if c >= now - _BEDTIME_GRACE)


def hours_before_bedtime(moment: dt.datetime, bedtime: dt.time) -> float:
    """Hours from ``moment`` until bedtime; negative when bedtime has just passed (the small
    hours belong to that night's bedtime: see :func:`next_bedtime`)."""
    return (next_bedtime(moment, bedtime) - moment).total_seconds() / 3600


def is_near_bedtime(moment: dt.datetime, bedtime: dt.time, buffer_hours: float) -> bool:
    """Within ``buffer_hours`` before bedtime, or after it (until the small hours)."""
    return hours_before_bedtime(moment, bedtime) <= buffer_hours
