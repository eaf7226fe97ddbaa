"""What every store shares: the record key and the error for a store URL that cannot be used."""

from __future__ import annotations

from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_model import RequestEnvelope


class StoreURLError(ValueError):
    """The store URL cannot be used; the message says what form it should take."""


def user_key(request_envelope: RequestEnvelope) -> str:
    """The record key: the Alexa user id (stable per account and skill)."""
    try:
        return request_envelope.context.system.user.user_id
    except AttributeError:
        raise PersistenceException("the request has no context.System.user.userId") from None
