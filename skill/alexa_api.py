"""The HTTP client the skill uses to call Alexa's APIs (the Settings API for the device's zone).

ask-sdk-core's ``DefaultApiClient`` calls ``requests`` with no timeout at all, so a slow Alexa API
would stall the user's turn for as long as the socket waits. The client here keeps everything the
SDK does (HTTPS only, header handling, error wrapping, requests' trust store) and adds a timeout.

Importing ``requests`` (through the SDK's ``api_client`` module) costs ~60 ms and several MiB,
and most turns never call an Alexa API, so the SDK's client is imported and built on the first
call, not when the skill is built: that keeps it off every cold start's path to the first answer.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse


class TimeoutApiClient(ApiClient):
    """The SDK's ``DefaultApiClient`` with a per-request timeout (seconds, for connect and for
    read), created on the first request."""

    def __init__(self, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"the API timeout must be a positive number of seconds, not {timeout}")
        self.timeout = timeout
        self._client: ApiClient | None = None
        self._creating = threading.Lock()  # the webhook's threads may race to the first call

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        if self._client is None:
            with self._creating:
                if self._client is None:
                    self._client = _requests_client(self.timeout)
        return self._client.invoke(request)


def _requests_client(timeout: float) -> ApiClient:
    from ask_sdk_core.api_client import DefaultApiClient  # noqa: PLC0415 - imports requests

    class _DefaultApiClientWithTimeout(DefaultApiClient):
        def _resolve_method(self, request: ApiClientRequest) -> Callable[..., Any]:
            # The SDK resolves e.g. requests.get and calls it with url, headers and data only;
            # binding the timeout here is the one hook that needs no copy of the SDK's invoke().
            method = super()._resolve_method(request)
            return functools.partial(method, timeout=timeout)

    return _DefaultApiClientWithTimeout()
