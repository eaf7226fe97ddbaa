"""The HTTP client the skill uses to call Alexa's APIs (the Settings API for the device's zone).

ask-sdk-core's ``DefaultApiClient`` calls ``requests`` with no timeout at all, so a slow Alexa API
would stall the user's turn for as long as the socket waits. It is also costly to load: every real
Alexa request carries an API token, so a cold start's first answer asks for the device's zone, and
importing ``requests`` then cost ~67 ms and ~9.6 MiB (188 modules) against ~16 ms and ~3.1 MiB
(40 modules) for ``urllib.request`` (median of 5 fresh processes, ``-X importtime``, after the SDK,
``ssl`` and ``json`` are loaded). So this client does what the SDK's does with the standard
library, plus a per-request timeout:

- the same refusals (an unknown method, a URL that is not ``https``) and the same
  ``ApiClientException`` ("Error executing the request: ...") for every failure, connection
  errors and timeouts included;
- the same request: headers joined per name as the SDK joins them, a body sent as JSON when the
  ``Content-type`` header says so, as text or bytes otherwise (a mapping is form-encoded, as
  ``requests`` does);
- the same ``ApiClientResponse`` for every status: the status code, the headers split on commas
  as the SDK splits ``requests``' joined headers, and the body as text decoded as ``requests``
  decodes it (the charset the answer names, else ISO-8859-1 for text and UTF-8 otherwise, where
  ``requests`` would guess: the Alexa APIs answer JSON, which is UTF-8);
- proxies from ``HTTPS_PROXY``/``NO_PROXY`` as ``requests`` reads them.

Two differences, on purpose: certificates are checked against the system's trust store
(``ssl.create_default_context()``, which reads ``SSL_CERT_FILE``/``SSL_CERT_DIR``), not certifi's
copy; and a redirect is returned, not followed (the Alexa APIs do not redirect, and following one
elsewhere would carry the user's bearer token with it). And one by the way: urllib labels a body
sent without a ``Content-type`` as form-encoded, where ``requests`` sends none (the SDK's service
clients always name the body's type).
``tests/test_alexa_api.py`` runs this client and the SDK's side by side against a TLS server.
The standard library's HTTP modules are imported on the first call, not when the skill is built:
most turns never call an Alexa API.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

# The methods the SDK's client can send (those ``requests`` has a function for).
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# The header names and values ``requests`` accepts (it refuses a value with leading whitespace,
# which http.client would send).
VALID_HEADER_NAME = re.compile(r"[^:\s][^:\r\n]*\Z")
VALID_HEADER_VALUE = re.compile(r"(\S[^\r\n]*)?\Z")


class TimeoutApiClient(ApiClient):
    """An Alexa API client on ``urllib.request`` with a per-request timeout (seconds, for
    connecting and for each read). ``ssl_context`` defaults to the system's trust store, made on
    the first request."""

    def __init__(self, timeout: float, ssl_context: Any = None) -> None:
        if not timeout > 0:
            raise ValueError(f"the API timeout must be a positive number of seconds, not {timeout}")
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._opener: Any = None
        self._creating = threading.Lock()  # the webhook's threads may race to the first call

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        try:
            return self._send(request)
        # Broad as the SDK's own client is: the caller sees one exception type for every failure.
        except Exception as exc:
            raise ApiClientException(f"Error executing the request: {exc}") from exc

    def _send(self, request: ApiClientRequest) -> ApiClientResponse:
        method = _method(request.method)
        headers = _joined_headers(request.headers)
        url = request.url
        if not isinstance(url, str) or not url.lower().startswith("https://"):
            raise ApiClientException("Requests against non-HTTPS endpoints are not allowed.")
        data = _body(request.body, headers)

        from urllib.request import Request  # noqa: PLC0415 - loaded with the opener, on first use

        opener = self._opener or self._create_opener()
        outgoing = Request(url, data=data, headers=headers, method=method)
        with opener.open(outgoing, timeout=self.timeout) as response:
            body = response.read()
            status = response.status
            received = response.headers
        return ApiClientResponse(
            headers=_split_headers(received.items()),
            status_code=status,
            body=_text(body, received.get("Content-Type")),
        )

    def _create_opener(self) -> Any:
        with self._creating:
            if self._opener is None:
                import ssl  # noqa: PLC0415
                import urllib.request  # noqa: PLC0415

                context = self._ssl_context or ssl.create_default_context()
                # Only proxies and HTTPS: no redirect or error handlers, so every status comes
                # back as an answer (as with requests) and no redirect carries the token away.
                opener = urllib.request.OpenerDirector()
                opener.add_handler(urllib.request.ProxyHandler())
                opener.add_handler(urllib.request.HTTPSHandler(context=context))
                self._opener = opener
        return self._opener


def _method(method: str | None) -> str:
    name = method.upper() if isinstance(method, str) else None
    if name not in METHODS:
        raise ApiClientException(f"Invalid request method: {method}")
    return name


def _joined_headers(pairs: Iterable[tuple[str, str]] | None) -> dict[str, str]:
    """The request's header pairs as one value per name, repeated names joined by ", " (names
    compared as given, as the SDK does)."""
    headers: dict[str, str] = {}
    for name, value in pairs or ():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    # requests, like urllib, then keeps the last of the names that differ only in case.
    sent = {
        name.lower() if isinstance(name, str) else name: (name, value)
        for name, value in headers.items()
    }
    for name, value in sent.values():
        if not isinstance(name, str) or not VALID_HEADER_NAME.match(name):
            raise ValueError(f"invalid header name {name!r}")
        if not isinstance(value, str) or not VALID_HEADER_VALUE.match(value):
            raise ValueError(f"invalid value of header {name}: {value!r}")
    return headers


def _body(body: Any, headers: Mapping[str, str]) -> bytes | None:
    if not body:
        return None
    content_type = headers.get("Content-type")
    if content_type is not None and "json" in content_type:
        body = json.dumps(body)
    if isinstance(body, str):
        return body.encode()  # urllib3 sends a text body as UTF-8
    if isinstance(body, bytes):
        return body
    from urllib.parse import urlencode  # noqa: PLC0415

    return urlencode(body, doseq=True).encode()


def _split_headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The answer's headers as the SDK gives them: urllib3 joins a repeated name's values with
    ", " under the name as first seen, and the SDK splits every value on commas (a date's too)."""
    joined: dict[str, tuple[str, list[str]]] = {}
    for name, value in pairs:
        joined.setdefault(name.lower(), (name, []))[1].append(value)
    return [
        (name, part.strip())
        for name, values in joined.values()
        for part in ", ".join(values).split(",")
        if part.strip()
    ]


def _text(body: bytes, content_type: str | None) -> str:
    """The body decoded as ``requests``' ``Response.text`` decodes it (see the module's notes)."""
    if not body:
        return ""
    media_type, *parameters = (content_type or "").split(";")
    encoding = None
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            encoding = value.strip().strip("'\"")
    if encoding is None:
        encoding = "ISO-8859-1" if "text" in media_type else "utf-8"
    try:
        return body.decode(encoding, errors="replace")
    except LookupError:
        return body.decode(errors="replace")
