"""Where a simulated device's request envelopes go: the skill built in this process, or a running
webhook over HTTP."""

from __future__ import annotations

import ipaddress
import json
import logging
import urllib.error
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlsplit

from ask_sdk_model.services import ApiClient

from skill.settings import Settings

logger = logging.getLogger(__name__)

HTTP_TIMEOUT_SECONDS = 15.0


class ChatError(Exception):
    """Something the person at the terminal must fix (a bad URL, a webhook that is down, …)."""


class Transport(Protocol):
    description: str

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Deliver a request envelope; return the response envelope as JSON data."""
        ...


class InProcessTransport:
    """The skill built in this process, invoked through the SDK's own serializer, exactly as the
    webhook and the Lambda entry invoke it."""

    def __init__(self, skill: Any, description: str = "in-process") -> None:
        from ask_sdk_core.serialize import DefaultSerializer  # noqa: PLC0415

        self.skill = skill
        self.description = description
        self._serializer = DefaultSerializer()

    @classmethod
    def from_settings(
        cls, settings: Settings, api_client: ApiClient | None = None
    ) -> InProcessTransport:
        """The skill as ``rls-coach serve`` builds it; with ``api_client``, its calls to the Alexa
        APIs go there instead of the network."""
        from skill.builder import build_skill  # noqa: PLC0415
        from skill.stores import StoreURLError  # noqa: PLC0415

        try:
            skill = build_skill(settings=settings, api_client=api_client)
        except StoreURLError as exc:
            raise ChatError(str(exc)) from None
        except ImportError as exc:
            raise ChatError(f"the store '{settings.store_url}' cannot be opened: {exc}") from None
        return cls(skill, description=f"in-process, store {settings.store_url}")

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        from ask_sdk_model import RequestEnvelope  # noqa: PLC0415

        request = self._serializer.deserialize(json.dumps(envelope), RequestEnvelope)
        try:
            response = self.skill.invoke(request_envelope=request, context=None)
        except Exception as exc:
            logger.debug("the skill raised", exc_info=exc)
            raise ChatError(f"the skill failed: {type(exc).__name__}: {exc}") from None
        return self._serializer.serialize(response)


class HttpTransport:
    """POST to a running webhook, as Alexa does (without a signature: the webhook must be
    started with --no-verify)."""

    def __init__(self, url: str, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ChatError(f"--url '{url}' is not an http(s) URL; try http://127.0.0.1:5000/alexa")
        self.url = url
        self.timeout = timeout
        self.description = url
        handlers = [urllib.request.ProxyHandler({})] if _is_loopback(parts.hostname) else []
        self._opener = urllib.request.build_opener(*handlers)

    def send(self, envelope: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(envelope).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as reply:
                raw = reply.read()
        except urllib.error.HTTPError as exc:
            reason = _http_reason(exc)
            hint = ""
            if "verification" in reason:
                # Only Alexa can sign requests; a local client needs a webhook that skips it.
                hint = "; to talk to it from here, start it with `rls-coach serve --no-verify`"
            raise ChatError(
                f"the skill at {self.url} answered HTTP {exc.code}: {reason}{hint}"
            ) from None
        except urllib.error.URLError as exc:
            raise ChatError(
                f"cannot reach the skill at {self.url}: {exc.reason}. "
                "Is `rls-coach serve` running there?"
            ) from None
        except TimeoutError:
            raise ChatError(
                f"the skill at {self.url} did not answer within {self.timeout:g} s"
            ) from None
        except OSError as exc:
            raise ChatError(f"talking to the skill at {self.url} failed: {exc}") from None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ChatError(f"the skill at {self.url} did not answer with a JSON envelope")
        return body


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _http_reason(error: urllib.error.HTTPError) -> str:
    """The reason a webhook gave for refusing a request: its JSON error message, its text, or
    the status line."""
    try:
        raw = error.read().decode("utf-8", "replace")
    except OSError:
        raw = ""
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("reason", "error", "message", "detail"):
            if isinstance(data.get(key), str) and data[key].strip():
                return data[key].strip()
    text = " ".join(raw.split())
    if text and not text.startswith("<"):
        return text[:300]
    return str(error.reason or "no reason given")
