"""The HTTP client the skill uses to call Alexa's APIs (Settings, Reminders).

It is ask-sdk-core's ``DefaultApiClient`` (on ``requests``: the SDK still checks the URL, shapes
the headers and the JSON body) with what a voice turn needs on top:

- **A timeout on every socket operation** (``timeout``), which the SDK's client leaves out.
- **A whole-call deadline, and a budget for the turn.** A per-read timeout never trips on a
  server that sends a byte a second, so each call also has a deadline: at most twice the timeout,
  and never past the turn's budget for all its API work (:func:`start_turn_budget`, set when a
  turn starts: ``TURN_BUDGET_SECONDS``, well inside the 8 seconds Alexa waits for an answer). The
  call runs on a short-lived daemon thread and the turn waits for it only until the deadline; the
  body is read as it arrives (urllib3's ``read1``), so a call still dripping its body stops at the
  deadline too. A call still waiting for its headers then is abandoned (it ends at the next socket
  timeout or when the server closes), and only ``MAX_CALLS_AT_ONCE`` may be outstanding, so a
  misbehaving API cannot pile up threads. An answer that comes after the deadline is never used.
- **A size cap while reading** (``MAX_ANSWER_BYTES``): a declared ``Content-Length`` over it is
  refused before the body is read, and a body that grows past it is refused as soon as it does,
  so a 50 MB answer costs at most a megabyte of memory.

Failures of every kind raise the SDK's ``ApiClientException``, as the SDK's own client does.
TLS is checked as ``requests`` checks it: against certifi's roots, or the bundle named by
``REQUESTS_CA_BUNDLE``. ``requests`` is imported on the first call, not when the skill is built:
most turns never call an Alexa API, and a cold Lambda start would otherwise pay for it.
"""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse

TURN_BUDGET_SECONDS = 3.0  # all of a turn's API calls together
MAX_ANSWER_BYTES = 1 << 20  # a time zone or a reminder list is a few KiB
MAX_CALLS_AT_ONCE = 16
READ_CHUNK_BYTES = 64 * 1024


@dataclass
class _TurnApi:
    """The API work of the turn running in this thread."""

    ends: float  # when its budget runs out (time.monotonic())
    changed: bool = False  # whether it asked an API to change something (not a GET)


_turn: contextvars.ContextVar[_TurnApi | None] = contextvars.ContextVar(
    "alexa_api_turn", default=None
)
# The deadline of the call being made, for the thread that makes it.
_call_ends: contextvars.ContextVar[float] = contextvars.ContextVar("alexa_api_call_ends")


def start_turn_budget(seconds: float = TURN_BUDGET_SECONDS) -> None:
    """Give the turn running in this thread ``seconds`` for all its Alexa API calls."""
    _turn.set(_TurnApi(ends=time.monotonic() + seconds))


def turn_changed_something() -> bool:
    """Whether the turn running in this thread has asked an Alexa API to change anything (a
    call other than GET, answered or not): running the turn again would do it twice."""
    turn = _turn.get()
    return turn is not None and turn.changed


@dataclass(frozen=True)
class _Answer:
    """What the SDK's client reads of a ``requests`` response, read within the limits."""

    headers: Any
    status_code: int
    text: str


class TimeoutApiClient(ApiClient):
    """The SDK's ``DefaultApiClient`` with a timeout on each socket operation, a deadline on each
    call within the turn's budget, and a size cap on each answer (see the module)."""

    def __init__(self, timeout: float, *, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        if not timeout > 0:
            raise ValueError(f"the API timeout must be a positive number of seconds, not {timeout}")
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self._client: ApiClient | None = None
        self._calls = threading.BoundedSemaphore(MAX_CALLS_AT_ONCE)

    def invoke(self, request: ApiClientRequest) -> ApiClientResponse:
        started = time.monotonic()
        ends = started + 2 * self.timeout
        turn = _turn.get()
        if turn is not None:
            ends = min(ends, turn.ends)
            if (request.method or "GET").upper() not in {"GET", "HEAD"}:
                turn.changed = True
        if ends <= started:
            raise ApiClientException("no time is left in this turn for Alexa's APIs")
        # Two threads racing to the first call may each make a client: both work alike.
        client = self._client or self._make_client()
        if not self._calls.acquire(timeout=ends - started):
            raise ApiClientException("too many earlier calls to Alexa's APIs are still running")
        outcome: Future[ApiClientResponse] = Future()

        def call() -> None:
            try:
                _call_ends.set(ends)
                outcome.set_result(client.invoke(request))
            except BaseException as exc:  # handed to the waiting turn
                outcome.set_exception(exc)
            finally:
                self._calls.release()

        threading.Thread(target=call, name="alexa-api-call", daemon=True).start()
        try:
            return outcome.result(timeout=max(0.0, ends - time.monotonic()))
        except TimeoutError:
            raise ApiClientException(
                f"Error executing the request: no complete answer within {ends - started:.1f} s"
            ) from None

    def _make_client(self) -> ApiClient:
        from ask_sdk_core.api_client import DefaultApiClient  # noqa: PLC0415 - see the module

        send = self._send

        class DefaultApiClientWithLimits(DefaultApiClient):
            def _resolve_method(self, request: ApiClientRequest) -> Any:
                method = super()._resolve_method(request)  # refuses unknown methods as before
                return lambda **kwargs: send(method.__name__, **kwargs)

        self._client = DefaultApiClientWithLimits()
        return self._client

    def _send(self, method: str, *, url: str, headers: Any, data: Any) -> _Answer:
        """One request, its body read as it arrives, within the call's deadline and size cap."""
        import requests  # noqa: PLC0415 - loaded with the SDK's client

        ends = _call_ends.get()
        cap = self.max_answer_bytes
        with requests.request(
            method, url, headers=headers, data=data, timeout=self.timeout, stream=True
        ) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise ApiClientException(f"the answer declares {declared} bytes, over {cap}")
            body = bytearray()
            while chunk := response.raw.read1(READ_CHUNK_BYTES, decode_content=True):
                body += chunk
                if len(body) > cap:
                    raise ApiClientException(f"the answer is larger than {cap} bytes")
                if time.monotonic() > ends:
                    raise ApiClientException("the answer did not finish before the deadline")
            text = body.decode(response.encoding or "utf-8", errors="replace")
            return _Answer(response.headers, response.status_code, text)
