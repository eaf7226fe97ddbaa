"""Operator configuration: ``RLS_COACH_*`` environment variables, overridden by CLI flags."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skill.clock import ClockTimeError, parse_clock_time
from skill.stores.retention import (
    DEFAULT_RETENTION_DAYS,
    RETENTION_VARIABLE,
    RetentionError,
    parse_retention_days,
)

PREFIX = "RLS_COACH_"
DEFAULT_STORE = "sqlite:///rls-coach.sqlite3"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})
SKILL_ID_PATTERN = re.compile(r"^amzn1\.ask\.skill\.[0-9a-fA-F-]{8,}$")


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the variable and what it expects."""


@dataclass(frozen=True, slots=True)
class Settings:
    skill_id: str | None = None
    store_url: str = DEFAULT_STORE
    verify: bool = True
    default_timezone: str = "UTC"
    default_bedtime: dt.time | None = None  # None: the content's rules.default_bedtime
    settings_api_timeout: float = 1.5  # seconds; the Alexa Settings API must not stall a turn
    log_level: str = "INFO"
    # Days a record no turn has saved is kept (RLS_COACH_RETENTION_DAYS; see docs/privacy.md).
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.default_timezone)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given (already parsed) values; ``None`` means "leave as is"."""
        changes = {key: value for key, value in overrides.items() if value is not None}
        return validated(replace(self, **changes))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        base = cls()

        def get(name: str) -> str | None:
            value = env.get(PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        verify = get("VERIFY")
        timeout = get("SETTINGS_API_TIMEOUT")
        bedtime = get("BEDTIME")
        return validated(
            replace(
                base,
                skill_id=get("SKILL_ID") or base.skill_id,
                store_url=get("STORE") or base.store_url,
                verify=base.verify if verify is None else parse_bool(PREFIX + "VERIFY", verify),
                default_timezone=get("TIMEZONE") or base.default_timezone,
                default_bedtime=(
                    base.default_bedtime
                    if bedtime is None
                    else parse_clock(PREFIX + "BEDTIME", bedtime)
                ),
                settings_api_timeout=(
                    base.settings_api_timeout
                    if timeout is None
                    else parse_seconds(PREFIX + "SETTINGS_API_TIMEOUT", timeout)
                ),
                log_level=(get("LOG_LEVEL") or base.log_level).upper(),
                retention_days=parse_days(PREFIX + "RETENTION_DAYS", get("RETENTION_DAYS")),
            )
        )


def validated(settings: Settings) -> Settings:
    """Check what parsing did not; raise SettingsError naming the bad variable."""
    try:
        ZoneInfo(settings.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{PREFIX}TIMEZONE: unknown time zone '{settings.default_timezone}'; "
            "use an IANA name such as America/New_York or Europe/London"
        ) from None
    if settings.skill_id is not None and not SKILL_ID_PATTERN.match(settings.skill_id):
        raise SettingsError(
            f"{PREFIX}SKILL_ID: '{settings.skill_id}' is not a skill id; it looks like "
            "amzn1.ask.skill.xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
        )
    if settings.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise SettingsError(
            f"{PREFIX}LOG_LEVEL: '{settings.log_level}' is not one of DEBUG, INFO, WARNING, ERROR"
        )
    if "://" not in settings.store_url:
        raise SettingsError(
            f"{PREFIX}STORE: '{settings.store_url}' is not a store URL; use sqlite:///path, "
            "dynamodb://table or memory://"
        )
    return settings


def parse_bool(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name}: expected true or false, got '{value}'")


def parse_clock(name: str, value: str) -> dt.time:
    try:
        return parse_clock_time(value.strip())
    except ClockTimeError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def parse_days(name: str, value: str | None) -> int:
    try:
        return parse_retention_days(value)
    except RetentionError as exc:
        raise SettingsError(str(exc).replace(RETENTION_VARIABLE, name, 1)) from None


def parse_seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 30:
        raise SettingsError(f"{name}: expected a number of seconds between 0 and 30, got '{value}'")
    return seconds
