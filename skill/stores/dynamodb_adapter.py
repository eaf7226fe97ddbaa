"""ask-sdk's official ``DynamoDbAdapter``, with what the coach needs on top: saves conditional on
the revision read, an overall deadline per call, a check of every answer, plain numbers, and
failures that say what went wrong.

Import it through :func:`skill.stores.dynamodb.open_dynamodb_store`, which first gives boto3's
default session a region (the official module builds a resource from it when imported).

- **Revisions** (see :mod:`skill.stores.base`): the revision is kept inside the stored
  attributes under ``REVISION_KEY``, so the official ``get_attributes`` already returns it; only
  ``save_attributes`` is replaced, because the official one cannot make ``put_item`` conditional.
  Items written before revisions have none, and count as revision 0.
- **Deadline**: botocore's timeouts bound each connection attempt and each socket read, but not
  a whole answer (an endpoint that sends a byte a second never trips a one-second read timeout).
  Each call therefore runs on a short-lived daemon thread and the turn waits for it at most
  ``deadline`` seconds; a call still running then is abandoned (it ends at botocore's next
  timeout or when the endpoint closes) and the turn apologises. A bounded number of calls may run
  at once, so a misbehaving endpoint cannot pile up threads.
- **Answers**: a successful answer must be a JSON object, and no answer may exceed
  ``MAX_ANSWER_BYTES`` (an item is at most 400 KB). botocore would read a body that is not JSON
  as an empty answer: a GetItem answered with garbage would make the user look new, and the next
  save replace their progress.
- **The size cap holds while reading.** botocore's ``URLLib3Session.send`` reads the whole body
  (``AWSResponse.content``) before any response event (``before-parse``, ``needs-retry``,
  ``response-received``) fires, so no hook after the send can stop a 50 MB answer being read.
  botocore's own extension point for the send is the ``before-send`` event: a handler that
  returns a response replaces the send. :func:`_send_capped` uses it to do the send itself with
  the client's own HTTP session (so proxies, CA bundle, pool and timeouts stay botocore's), asks
  it not to read the body (``stream_output``, as botocore does for streaming operations), then
  reads the body chunk by chunk and stops at the cap, refusing a declared ``Content-Length``
  over it before reading at all. The body read within the cap goes on to botocore's parser as an
  ordinary ``AWSResponse``. A refused answer is not retried.
- **Numbers**: DynamoDB keeps numbers as ``Decimal`` and refuses floats: floats are written as
  Decimals and numbers are read back as ints (or floats when they have a fraction).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from ask_sdk_core.exceptions import PersistenceException
from ask_sdk_dynamodb.adapter import DynamoDbAdapter
from ask_sdk_model import RequestEnvelope
from boto3.dynamodb.conditions import Attr, Key
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from skill.stores.base import (
    PERSON_SEPARATOR,
    REVISION_KEY,
    UNDECODABLE_KEY,
    SaveConflictError,
    conflict,
    split_revision,
)
from skill.stores.retention import (
    ACCOUNT_ATTRIBUTE,
    ACCOUNT_INDEX,
    DEFAULT_RETENTION_DAYS,
    EXPIRES_ATTRIBUTE,
    expiry,
)

logger = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1 << 20  # an item is at most 400 KB; its JSON form can be larger
READ_CHUNK_BYTES = 64 * 1024
MAX_CALLS_AT_ONCE = 32
THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
PERMISSION_CODES = frozenset(
    {"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException"}
)
Result = TypeVar("Result")


class UnusableAnswerError(Exception):
    """DynamoDB's answer cannot be trusted: not a JSON object, or too large to be one of ours."""


class CoachDynamoDbAdapter(DynamoDbAdapter):
    def __init__(
        self,
        *,
        where: str,
        deadline: float,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.where = where
        self.deadline = deadline
        self.retention_days = retention_days
        self._calls = threading.BoundedSemaphore(MAX_CALLS_AT_ONCE)
        client = self.dynamodb.meta.client
        client.meta.events.register(
            "before-parse.dynamodb", _check_answer, unique_id="rls-coach-check-answer"
        )
        # The client's HTTP session: botocore exposes it only on the endpoint (see the module).
        http_session = getattr(getattr(client, "_endpoint", None), "http_session", None)
        if http_session is not None:
            client.meta.events.register(
                "before-send.dynamodb",
                partial(_send_capped, http_session),
                unique_id="rls-coach-send-capped",
            )
        else:  # a future botocore: the cap still holds, after the read
            logger.warning("cannot cap DynamoDB answers while reading them with this botocore")

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        read = super().get_attributes
        attributes = self._call("read the user's state from", read, request_envelope)
        if not isinstance(attributes, Mapping):
            # Not written by this code: the turn keeps it aside (skill.builder) and the user
            # starts fresh, rather than the next save (at revision 0) silently replacing it.
            logger.warning("stored attributes in %s are not a map", self.table_name)
            return {UNDECODABLE_KEY: repr(attributes)[:100_000]}
        return from_dynamodb(attributes)

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        record, read = split_revision(attributes)
        stored = to_dynamodb({**record, REVISION_KEY: read + 1})
        revision = Attr(f"{self.attribute_name}.{REVISION_KEY}")
        condition = revision.eq(read) if read else revision.not_exists()

        def put() -> None:
            try:
                key = self.partition_keygen(request_envelope)
                self.dynamodb.Table(self.table_name).put_item(
                    Item={
                        self.partition_key_name: key,
                        self.attribute_name: stored,
                        **self._bookkeeping(key),
                    },
                    ConditionExpression=condition,
                )
            except Exception as exc:  # as the official adapter does; _call says what it was
                raise PersistenceException(f"Failed to save attributes: {exc}") from exc

        self._call("save the user's state to", put)

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        self._call("delete the user's state from", super().delete_attributes, request_envelope)

    def _bookkeeping(self, key: str) -> dict[str, Any]:
        """What an item carries beside the attributes (see :mod:`skill.stores.retention`): when
        it expires, and a person's account."""
        extra: dict[str, Any] = {
            EXPIRES_ATTRIBUTE: expiry(dt.datetime.now(dt.UTC), self.retention_days)
        }
        account, separator, _ = key.partition(PERSON_SEPARATOR)
        if separator:
            extra[ACCOUNT_ATTRIBUTE] = account
        return extra

    def delete_account(self, account: str) -> int:
        """Erase the account's item and every person's under it; how many items that was."""

        def delete() -> int:
            table = self.dynamodb.Table(self.table_name)
            keys, start = [account], None
            while True:
                page = table.query(
                    IndexName=ACCOUNT_INDEX,
                    KeyConditionExpression=Key(ACCOUNT_ATTRIBUTE).eq(account),
                    **({"ExclusiveStartKey": start} if start else {}),
                )
                keys += [item[self.partition_key_name] for item in page.get("Items", [])]
                start = page.get("LastEvaluatedKey")
                if not start:
                    break
            gone = 0
            for key in keys:
                answer = table.delete_item(
                    Key={self.partition_key_name: key}, ReturnValues="ALL_OLD"
                )
                gone += bool(answer.get("Attributes"))
            return gone

        return self._call("erase an account in", delete)

    def _call(self, action: str, call: Callable[..., Result], *args: Any) -> Result:
        """``call(*args)`` within the deadline; any failure as a PersistenceException saying
        what went wrong."""
        ends = time.monotonic() + self.deadline
        try:
            if not self._calls.acquire(timeout=self.deadline):
                raise PersistenceException("too many earlier calls are still waiting for DynamoDB")
            outcome: Future[Result] = Future()

            def run() -> None:
                try:
                    outcome.set_result(call(*args))
                except BaseException as exc:  # handed to the waiting turn
                    outcome.set_exception(exc)
                finally:
                    self._calls.release()

            threading.Thread(target=run, name="dynamodb-call", daemon=True).start()
            return outcome.result(timeout=max(0.0, ends - time.monotonic()))
        except TimeoutError as exc:
            failure: Exception = exc
            reason = f"DynamoDB did not answer within {self.deadline:g} s"
        except PersistenceException as exc:
            failure = exc
            reason = describe_failure(exc.__cause__ or exc.__context__, self.table_name) or str(exc)
        cause = failure.__cause__ or failure.__context__
        lost_race = isinstance(cause, ClientError) and (
            cause.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
        )
        kind = SaveConflictError if lost_race else PersistenceException
        raise kind(
            f"could not {action} DynamoDB table '{self.table_name}' ({self.where}): {reason}"
        ) from failure


class _ReadBody:
    """A body already read, in the shape ``AWSResponse`` reads its ``raw`` from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def _send_capped(http_session: Any, request: Any, **_: Any) -> AWSResponse:
    """botocore's ``before-send`` hook: send ``request`` with the client's session and read the
    answer only up to ``MAX_ANSWER_BYTES`` (see the module)."""
    streaming = request.stream_output
    request.stream_output = True  # the session leaves the body unread
    try:
        response = http_session.send(request)
    finally:
        request.stream_output = streaming
    raw = response.raw
    try:
        declared = str(response.headers.get("Content-Length", ""))
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
            raise UnusableAnswerError(
                f"an answer of {declared} bytes, more than an item can ever need "
                f"({MAX_ANSWER_BYTES})"
            )
        body = bytearray()
        for chunk in raw.stream(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > MAX_ANSWER_BYTES:
                raise UnusableAnswerError(
                    f"an answer of more than {MAX_ANSWER_BYTES} bytes, more than an item can "
                    "ever need"
                )
    except BaseException:
        raw.close()  # the rest of the body is never read: the connection cannot be reused
        raise
    # Read to the end, urllib3 has given the connection back to the pool.
    return AWSResponse(response.url, response.status_code, response.headers, _ReadBody(bytes(body)))


def _check_answer(response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's ``before-parse`` hook: refuse an answer that cannot be DynamoDB's."""
    body = response_dict.get("body") or b""
    if len(body) > MAX_ANSWER_BYTES:
        raise UnusableAnswerError(
            f"an answer of {len(body)} bytes, more than an item can ever need ({MAX_ANSWER_BYTES})"
        )
    if response_dict.get("status_code", 500) < 300:
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise UnusableAnswerError(f"an answer that is not a JSON object: {body[:60]!r}")


def describe_failure(error: BaseException | None, table: str) -> str | None:
    """A short, specific reason for a failure, or None when there is nothing to add."""
    if error is None:
        return None
    if isinstance(error, PersistenceException):
        return str(error)
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            return str(conflict(f"table '{table}'"))
        if code == "ResourceNotFoundException":
            return f"the table '{table}' does not exist (deploy it with serverless.yml)"
        if code in THROTTLING_CODES:
            return f"DynamoDB is throttling requests ({code}); try again shortly"
        if code in PERMISSION_CODES:
            return f"access denied ({code}); check the credentials and the function's IAM role"
        return f"{code or type(error).__name__}: {error}"
    if isinstance(error, UnusableAnswerError):
        return f"DynamoDB sent {error}"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials were found"
    if isinstance(error, ConnectTimeoutError | ReadTimeoutError):
        return f"DynamoDB did not answer in time ({error})"
    if isinstance(error, BotocoreConnectionError):
        return f"cannot reach DynamoDB ({error})"
    return f"{type(error).__name__}: {error}"


def to_dynamodb(value: Any, path: str = "attributes") -> Any:
    """A copy of ``value`` that DynamoDB accepts: floats become Decimals (via their shortest
    repr, so 0.1 is stored as 0.1). Non-finite numbers cannot be stored at all."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int | Decimal):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PersistenceException(f"cannot store the non-finite number {value} at {path}")
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {key: to_dynamodb(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_dynamodb(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise PersistenceException(f"cannot store a {type(value).__name__} at {path}")


def from_dynamodb(value: Any) -> Any:
    """Numbers back as int (or float when they have a fraction), so the record is plain JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {key: from_dynamodb(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set):
        return [from_dynamodb(item) for item in value]
    return value
