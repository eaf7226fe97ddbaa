"""The HTTP client the skill uses to call Alexa's APIs (the Settings API for the device's zone).

ask-sdk-core's ``DefaultApiClient`` calls ``requests`` with no timeout at all, so a slow Alexa API
would stall the user's turn for as long as the socket waits. This subclass keeps everything the
SDK does (HTTPS only, header handling, error wrapping, requests' trust store) and adds a timeout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ask_sdk_core.api_client import DefaultApiClient
from ask_sdk_model.services import ApiClientRequest


class TimeoutApiClient(DefaultApiClient):
    """``DefaultApiClient`` with a per-request timeout (seconds, for connect and for read)."""

    def __init__(self, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"the API timeout must be a positive number of seconds, not {timeout}")
        self.timeout = timeout

    def _resolve_method(self, request: ApiClientRequest) -> Callable[..., Any]:
        # The SDK resolves e.g. requests.get and calls it with url, headers and data only; binding
        # the timeout here is the one hook that needs no copy of the SDK's invoke().
        method = super()._resolve_method(request)
        return functools.partial(method, timeout=self.timeout)
