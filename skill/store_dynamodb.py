"""``dynamodb://table``: user state in DynamoDB, through the official ask-sdk adapter.

The adapter module builds a boto3 resource as a default argument when it is imported, which needs a
region and costs cold-start time for a resource nobody uses. So this module imports boto3 and the
adapter only inside ``open_dynamodb_store``, always passes an explicitly built resource, and
imports the adapter so that its unused default is never built (see ``_import_adapter``).

The resource has short timeouts and a single retry: a turn reads and writes once each, and Alexa
gives up on a response after eight seconds, so a dead endpoint must fail fast. Every failure
becomes a ``PersistenceException`` whose message says what is wrong (missing table, unreachable
endpoint, throttling, permissions); the skill then apologises and does not overwrite what is
stored.

DynamoDB keeps numbers as ``Decimal`` and refuses Python floats: floats are written as Decimals
and numbers are read back as ints (or floats when they have a fraction), so callers only ever see
plain JSON types.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ask_sdk_core.exceptions import PersistenceException

from skill.persistence import StoreURLError

if TYPE_CHECKING:
    from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
    from ask_sdk_model import RequestEnvelope

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLE = "RLS_COACH_DYNAMODB_ENDPOINT"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
PARTITION_KEY = "id"  # the adapter's default; serverless.yml declares the table with it
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
TOTAL_ATTEMPTS = 2  # one retry: enough for a blip, still well inside Alexa's 8 seconds

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


def open_dynamodb_store(
    table: str, environ: Mapping[str, str] | None = None
) -> AbstractPersistenceAdapter:
    """An adapter for ``table``. Region from AWS_REGION or AWS_DEFAULT_REGION (Lambda sets both);
    ``RLS_COACH_DYNAMODB_ENDPOINT`` points it at another server (DynamoDB Local, moto) instead of
    AWS. Nothing is sent over the network here: a missing table shows up on the first turn."""
    env = os.environ if environ is None else environ
    region = next((env[name].strip() for name in REGION_VARIABLES if env.get(name, "").strip()), "")
    if not region:
        raise StoreURLError(
            f"dynamodb://{table}: no AWS region; set AWS_REGION (AWS Lambda sets it for you), "
            "e.g. AWS_REGION=us-east-1"
        )
    endpoint = env.get(ENDPOINT_VARIABLE, "").strip() or None
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise StoreURLError(
                f"{ENDPOINT_VARIABLE}: '{endpoint}' is not an endpoint URL; use a form like "
                "http://127.0.0.1:8000"
            )

    import boto3.session  # noqa: PLC0415 - only the Lambda (or a DynamoDB user) pays for boto3
    from botocore.config import Config  # noqa: PLC0415

    session = boto3.session.Session(region_name=region)
    resource = session.resource(
        "dynamodb",
        endpoint_url=endpoint,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": TOTAL_ATTEMPTS},
        ),
    )
    adapter_class = _coach_adapter_class(_import_adapter())
    where = endpoint or f"region {region}"
    logger.info("user state in DynamoDB table %s (%s)", table, where)
    return adapter_class(
        table_name=table,
        partition_key_name=PARTITION_KEY,
        create_table=False,  # the table belongs to the deployment (serverless.yml), not the code
        dynamodb_resource=resource,
        where=where,
    )


def _import_adapter() -> type:
    """``ask_sdk_dynamodb.adapter.DynamoDbAdapter``, imported while boto3's default session is a
    stand-in whose ``resource()`` builds nothing. The module builds a default resource for a
    keyword default at import; the coach always passes its own, so that one is never used, and
    building it would cost a second client (~40 ms of a cold start) and would need a region from
    boto3's default session, which reads only AWS_DEFAULT_REGION."""
    import boto3  # noqa: PLC0415

    previous = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _UnusedDefaultSession()
    try:
        from ask_sdk_dynamodb.adapter import DynamoDbAdapter  # noqa: PLC0415
    finally:
        boto3.DEFAULT_SESSION = previous
    return DynamoDbAdapter


class _UnusedDefaultSession:
    """Answers ``boto3.resource(...)`` with None while the adapter module is imported."""

    def resource(self, *_: Any, **__: Any) -> None:
        return None


def _coach_adapter_class(base: type) -> type:
    """The official adapter with plain-JSON numbers and failures that say what went wrong."""

    class CoachDynamoDbAdapter(base):  # type: ignore[misc, valid-type]
        def __init__(self, *, where: str, **kwargs: Any) -> None:
            self.where = where
            super().__init__(**kwargs)

        def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
            try:
                return from_dynamodb(super().get_attributes(request_envelope))
            except PersistenceException as exc:
                raise self._explain(exc, "read the user's state from") from exc.__context__

        def save_attributes(
            self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
        ) -> None:
            item = to_dynamodb(attributes)
            try:
                super().save_attributes(request_envelope, item)
            except PersistenceException as exc:
                raise self._explain(exc, "save the user's state to") from exc.__context__

        def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
            try:
                super().delete_attributes(request_envelope)
            except PersistenceException as exc:
                raise self._explain(exc, "delete the user's state from") from exc.__context__

        def _explain(self, exc: PersistenceException, action: str) -> PersistenceException:
            return PersistenceException(
                f"could not {action} DynamoDB table '{self.table_name}' ({self.where}): "
                f"{describe_failure(exc.__context__, self.table_name) or exc}"
            )

    return CoachDynamoDbAdapter


def describe_failure(error: BaseException | None, table: str) -> str | None:
    """A short, specific reason for a boto3 failure, or None when there is nothing to add."""
    if error is None:
        return None
    from botocore import exceptions  # noqa: PLC0415

    if isinstance(error, exceptions.ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            return f"the table '{table}' does not exist (deploy it with serverless.yml)"
        if code in THROTTLING_CODES:
            return f"DynamoDB is throttling requests ({code}); try again shortly"
        if code in PERMISSION_CODES:
            return f"access denied ({code}); check the credentials and the function's IAM role"
        return f"{code or type(error).__name__}: {error}"
    if isinstance(error, exceptions.NoCredentialsError):
        return "no AWS credentials were found"
    if isinstance(error, exceptions.ConnectTimeoutError | exceptions.ReadTimeoutError):
        return f"DynamoDB did not answer in time ({error})"
    if isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectionError):
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
