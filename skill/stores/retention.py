"""How long records are kept, and erasing a whole account.

- **Retention.** A record no turn has saved for ``RLS_COACH_RETENTION_DAYS`` (default 400) is
  erased. DynamoDB does it by itself: every save writes the moment the item may go in the TTL
  attribute :data:`EXPIRES_ATTRIBUTE` (serverless.yml declares it as the table's TimeToLive).
  SQLite has no such thing, so ``rls-coach purge`` erases them (``--dry-run`` only counts).
- **An account.** A recognised person's record is kept under the account (see
  :func:`skill.stores.base.person_key`), so when the skill is disabled, the account's record and
  every person's under it go together. In DynamoDB a person's item also carries the account in
  :data:`ACCOUNT_ATTRIBUTE`, read through the sparse index :data:`ACCOUNT_INDEX`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 400
MAX_RETENTION_DAYS = 3650
RETENTION_VARIABLE = "RLS_COACH_RETENTION_DAYS"
EXPIRES_ATTRIBUTE = "expires_at"  # DynamoDB TTL: epoch seconds
ACCOUNT_ATTRIBUTE = "account"  # on a person's item only
ACCOUNT_INDEX = "account-index"


class RetentionError(ValueError):
    """The retention setting is not a number of days; the message names the variable."""


def parse_retention_days(value: str | None) -> int:
    """``RLS_COACH_RETENTION_DAYS`` as a whole number of days (unset or blank: the default)."""
    if value is None or not value.strip():
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(value.strip())
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise RetentionError(
            f"{RETENTION_VARIABLE}: expected a whole number of days between 1 and "
            f"{MAX_RETENTION_DAYS}, got '{value}'"
        )
    return days


def expiry(now: dt.datetime, days: int) -> int:
    """The epoch second at which a record saved ``now`` expires."""
    return int((now + dt.timedelta(days=days)).timestamp())


@runtime_checkable
class AccountEraser(Protocol):
    def delete_account(self, account: str) -> int: ...


@runtime_checkable
class Purgeable(Protocol):
    def untouched_since(self, before: dt.datetime, *, delete: bool) -> int: ...


def erase_account(store: Any, account: str) -> int:
    """Erase every record of an account (its own and its people's); how many went. A store that
    cannot find an account's people erases nothing here and says so in the log."""
    if not isinstance(store, AccountEraser):
        logger.warning("the store %s cannot erase a whole account", type(store).__name__)
        return 0
    return store.delete_account(account)


def purge(
    store: Any, days: int, now: dt.datetime, *, dry_run: bool
) -> tuple[int, dt.datetime] | None:
    """Erase (or with ``dry_run`` only count) the records untouched for ``days``: how many, and
    the moment before which a record counts as untouched. None for a store that has no such
    records to purge (DynamoDB expires its own; memory keeps nothing between runs)."""
    if not isinstance(store, Purgeable):
        return None
    before = now - dt.timedelta(days=days)
    return store.untouched_since(before, delete=not dry_run), before
