"""What every store shares: the record key, the revision a save is conditional on, and the error
for a store URL that cannot be used.

Saves never overwrite progress they did not read. A store's ``get_attributes`` returns the
record with its revision under :data:`REVISION_KEY`; the turn hands that revision back with the
record it saves (``SaveStateInterceptor``), and ``save_attributes`` writes only if the stored
revision is still that one, bumping it. A save whose record carries no revision may only create
a record that does not exist yet. Otherwise the save is refused with a ``PersistenceException``
(:func:`conflict`), so the user hears an apology and the newer record stays as it is: two devices
of one user, or a turn whose read went wrong, can never silently replace newer progress.

Why in the record rather than in the adapter: the revision then travels with the turn that read
it, across threads and processes, and the adapter keeps nothing between calls. The state schema
ignores unknown fields, so the key never reaches the coach's own state.
"""

from __future__ import annotations

from typing import Any

from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope

REVISION_KEY = "_revision"
# A record the turn could not read is never overwritten: it is kept aside under this key of the
# record saved in its place (with when and why), and carried on by every later save.
QUARANTINE_KEY = "_quarantined"
# A store that finds a value it cannot decode at all (not JSON, not a map) returns it under this
# key, so the turn keeps it aside like any other unreadable record.
UNDECODABLE_KEY = "_undecodable"


class SaveConflictError(PersistenceException):
    """The save was refused because another turn saved first (see :func:`conflict`)."""
# Between the account's user id and a recognised person's id in that person's record key. Alexa
# ids are letters, digits, dots, dashes and underscores, so it cannot occur inside either.
PERSON_SEPARATOR = "#person#"


class StoreURLError(ValueError):
    """The store URL cannot be used; the message says what form it should take."""


def user_key(request_envelope: RequestEnvelope) -> str:
    """The record key, and the partition key every store uses (the DynamoDB adapter's
    ``partition_keygen``): the Alexa user id (stable per account and skill) or, when Alexa
    recognised the speaker's voice (``context.System.person``), that person's own key under the
    account (:func:`person_key`). Like the SDK's ``person_id_partition_keygen``, but a person's
    key keeps the account in it, so that a skill event for the account can find every record."""
    system = getattr(getattr(request_envelope, "context", None), "system", None)
    account = getattr(getattr(system, "user", None), "user_id", None)
    if not account:
        raise PersistenceException(
            "Couldn't retrieve user id from the request (context.System.user.userId)"
        )
    person = getattr(getattr(system, "person", None), "person_id", None)
    return person_key(account, person) if person else account


def person_key(account: str, person: str) -> str:
    """A recognised person's record key: under the account, so that everything of one account
    can be found (and erased) together, and never the account's own key."""
    return f"{account}{PERSON_SEPARATOR}{person}"


def split_revision(attributes: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The record to store and the revision it was read at (0: no record was read)."""
    record = dict(attributes)
    revision = record.pop(REVISION_KEY, 0)
    if type(revision) is not int or revision < 0:
        raise PersistenceException(f"{REVISION_KEY} must be a revision number, not {revision!r}")
    return record, revision


def conflict(where: str) -> SaveConflictError:
    return SaveConflictError(
        f"the user's progress changed on another device since this turn read it; nothing was "
        f"saved to {where}"
    )
