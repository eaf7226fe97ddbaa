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
