"""The HTTP client the skill uses to call Alexa's APIs (the Settings API for the device's zone).

It is ask-sdk-core's ``DefaultApiClient`` (on ``requests``) with one addition: a timeout on every
call, which the SDK's client leaves out, so a slow Alexa API cannot stall the user's turn. TLS is
checked as ``requests`` checks it: against certifi's roots, or the bundle named by
``REQUESTS_CA_BUNDLE``.

The SDK's client module (and with it ``requests``) is imported on the first call, not when the
skill is built: most turns never call an Alexa API, and a cold Lambda start would otherwise load
``requests`` before its first answer.
"""

from __future__ import annotations

import functools
from typing import Any

from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse


class TimeoutApiClient(ApiClient):
    """The SDK's ``DefaultApiClient``, with ``timeout`` (seconds, for connecting and for each
    read) on every request. Failures, timeouts included, raise the SDK's ``ApiClientException``."""

    def __init__(self, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError(f"the API timeout must be a positive number of seconds, not {timeout}")
        self.timeout = timeout
        self._client: ApiClient | None = None

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        # Two threads racing to the first call may each make a client: both work alike.
        client = self._client or self._make_client()
        return client.invoke(request)

    def _make_client(self) -> ApiClient:
        from ask_sdk_core.api_client import DefaultApiClient  # noqa: PLC0415 - see the module

        timeout = self.timeout

        class DefaultApiClientWithTimeout(DefaultApiClient):
            def _resolve_method(self, request: ApiClientRequest) -> Any:
                return functools.partial(super()._resolve_method(request), timeout=timeout)

        self._client = DefaultApiClientWithTimeout()
        return self._client
