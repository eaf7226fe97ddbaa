"""``dynamodb://table``: user state in DynamoDB, through one of two clients.

- **direct** (``skill.stores.dynamodb_direct``): DynamoDB's JSON protocol over the standard library,
  signed with the credentials in the environment. This is what AWS Lambda runs: the function's
  role credentials are in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and
  boto3 would cost most of the cold start and memory for three calls.
- **boto3**: the official ask-sdk adapter over a boto3 resource, for everything else boto3's
  credential chain and configuration offer (profiles, SSO, instance and container roles, proxies,
  FIPS or dual-stack endpoints).

``RLS_COACH_DYNAMODB_CLIENT`` chooses: ``auto`` (the default) takes the direct client when the
environment holds an access key id and a secret (boto3's credential chain would pick exactly
those first), the endpoint is ``RLS_COACH_DYNAMODB_ENDPOINT`` or a standard AWS region's, and
none of the settings only boto3 honours is set (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_DYNAMODB``,
``AWS_USE_FIPS_ENDPOINT``, ``AWS_USE_DUALSTACK_ENDPOINT``, an HTTP(S) proxy); otherwise boto3.
``direct`` insists (and needs the credentials); ``boto3`` never takes the direct client. Both
honour ``AWS_CA_BUNDLE``, and both read and write the same item,
``{"id": <user id>, "attributes": <map>}``.

The official adapter module builds a boto3 resource as a default argument when it is imported,
which needs a region and costs cold-start time for a resource nobody uses. So this module imports
boto3 and the adapter only when the boto3 client is chosen, always passes an explicitly built
resource, and imports the adapter so that its unused default is never built (see
``_import_adapter``).

Both clients have short timeouts and a single retry: a turn reads and writes once each, and Alexa
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
import re
import sys
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter
from ask_sdk_core.exceptions import PersistenceException

from skill.stores.base import StoreURLError
from skill.stores.dynamodb_direct import (
    DirectDynamoDB,
    DynamoDBConnectionError,
    DynamoDBCredentialsError,
    DynamoDBServiceError,
    DynamoDBTimeoutError,
    deserialize,
    serialize,
)

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLE = "RLS_COACH_DYNAMODB_ENDPOINT"
CLIENT_VARIABLE = "RLS_COACH_DYNAMODB_CLIENT"
CLIENTS = ("auto", "direct", "boto3")
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
# Settings that only boto3 honours: with any of them set, "auto" leaves the choice to boto3.
BOTO3_ONLY_VARIABLES = (
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
)
# Regions whose DynamoDB endpoint is dynamodb.<region>.amazonaws.com (commercial and GovCloud)
# or dynamodb.<region>.amazonaws.com.cn (China); other partitions are left to boto3.
STANDARD_REGION = re.compile(r"(?:[a-z]{2}|us-gov)-[a-z]+-\d+")
CHINA_REGION = re.compile(r"cn-[a-z]+-\d+")
ATTRIBUTES = "attributes"  # the official adapter's attribute name
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
    AWS; ``RLS_COACH_DYNAMODB_CLIENT`` chooses the client (see the module docstring). Nothing is
    sent over the network here: a missing table shows up on the first turn."""
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
    where = endpoint or f"region {region}"
    if choose_client(env, region, endpoint) == "direct":
        logger.info("user state in DynamoDB table %s (%s, direct client)", table, where)
        client = DirectDynamoDB(
            region=region,
            endpoint=endpoint or regional_endpoint(region),
            environ=env,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            total_attempts=TOTAL_ATTEMPTS,
        )
        return DirectDynamoDbAdapter(table_name=table, client=client, where=where)

    import boto3.session  # noqa: PLC0415 - only the boto3 client pays for boto3
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
    logger.info("user state in DynamoDB table %s (%s, boto3 client)", table, where)
    return adapter_class(
        table_name=table,
        partition_key_name=PARTITION_KEY,
        create_table=False,  # the table belongs to the deployment (serverless.yml), not the code
        dynamodb_resource=resource,
        where=where,
    )


def choose_client(env: Mapping[str, str], region: str, endpoint: str | None) -> str:
    """ "direct" or "boto3", from RLS_COACH_DYNAMODB_CLIENT and what the environment offers."""
    wanted = env.get(CLIENT_VARIABLE, "").strip().lower() or "auto"
    if wanted not in CLIENTS:
        raise StoreURLError(
            f"{CLIENT_VARIABLE}: '{env[CLIENT_VARIABLE]}' is not one of {', '.join(CLIENTS)}"
        )
    if wanted == "boto3":
        return "boto3"
    has_credentials = all(env.get(name, "").strip() for name in CREDENTIAL_VARIABLES)
    known_endpoint = endpoint is not None or _regional_domain(region) is not None
    if wanted == "direct":
        if not has_credentials:
            raise StoreURLError(
                f"{CLIENT_VARIABLE}=direct needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "in the environment (AWS Lambda sets them); use auto or boto3 for profiles, "
                "SSO or instance roles"
            )
        if not known_endpoint:
            raise StoreURLError(
                f"{CLIENT_VARIABLE}=direct does not know DynamoDB's endpoint in region "
                f"'{region}'; set {ENDPOINT_VARIABLE} or use boto3"
            )
        return "direct"
    boto3_only = any(env.get(name, "").strip() for name in BOTO3_ONLY_VARIABLES)
    return "direct" if has_credentials and known_endpoint and not boto3_only else "boto3"


def regional_endpoint(region: str) -> str:
    """DynamoDB's HTTPS endpoint in a standard AWS region."""
    domain = _regional_domain(region)
    if domain is None:
        raise StoreURLError(f"no known DynamoDB endpoint in region '{region}'")
    return f"https://dynamodb.{region}.{domain}"


def _regional_domain(region: str) -> str | None:
    if CHINA_REGION.fullmatch(region):
        return "amazonaws.com.cn"
    if STANDARD_REGION.fullmatch(region):
        return "amazonaws.com"
    return None


def _partition_key(request_envelope: RequestEnvelope) -> str:
    """The user id, failing as the official adapter's ``user_id_partition_keygen`` does."""
    try:
        return request_envelope.context.system.user.user_id
    except AttributeError:
        raise PersistenceException(
            "Couldn't retrieve user id from request envelope, for partition key use"
        ) from None


class DirectDynamoDbAdapter(AbstractPersistenceAdapter):
    """The same records and failures as the official adapter, through ``DirectDynamoDB``."""

    def __init__(self, *, table_name: str, client: DirectDynamoDB, where: str) -> None:
        self.table_name = table_name
        self.client = client
        self.where = where

    def get_attributes(self, request_envelope: RequestEnvelope) -> dict[str, Any]:
        try:
            key = {PARTITION_KEY: serialize(_partition_key(request_envelope))}
            answer = self.client.call(
                "GetItem", {"TableName": self.table_name, "Key": key, "ConsistentRead": True}
            )
            if "Item" not in answer:
                return {}
            attributes = deserialize({"M": answer["Item"]})[ATTRIBUTES]
        except Exception as exc:
            raise self._explain(exc, "read the user's state from") from exc
        return from_dynamodb(attributes)

    def save_attributes(
        self, request_envelope: RequestEnvelope, attributes: dict[str, Any]
    ) -> None:
        item = to_dynamodb(attributes)
        try:
            record = {PARTITION_KEY: _partition_key(request_envelope), ATTRIBUTES: item}
            self.client.call(
                "PutItem", {"TableName": self.table_name, "Item": serialize(record)["M"]}
            )
        except Exception as exc:
            raise self._explain(exc, "save the user's state to") from exc

    def delete_attributes(self, request_envelope: RequestEnvelope) -> None:
        try:
            key = {PARTITION_KEY: serialize(_partition_key(request_envelope))}
            self.client.call("DeleteItem", {"TableName": self.table_name, "Key": key})
        except Exception as exc:
            raise self._explain(exc, "delete the user's state from") from exc

    def _explain(self, error: Exception, action: str) -> PersistenceException:
        return PersistenceException(
            f"could not {action} DynamoDB table '{self.table_name}' ({self.where}): "
            f"{describe_failure(error, self.table_name)}"
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
    """A short, specific reason for a failure of either client, or None when there is nothing to
    add. botocore's exceptions are only looked at when botocore is loaded: a botocore error
    cannot exist otherwise, and the direct client must not import it."""
    if error is None:
        return None
    if isinstance(error, DynamoDBServiceError):
        return _describe_code(error.code, error, table)
    if isinstance(error, DynamoDBCredentialsError):
        return "no AWS credentials were found"
    if isinstance(error, DynamoDBTimeoutError):
        return f"DynamoDB did not answer in time ({error})"
    if isinstance(error, DynamoDBConnectionError):
        return f"cannot reach DynamoDB ({error})"
    exceptions = sys.modules.get("botocore.exceptions")
    if exceptions is None:
        return f"{type(error).__name__}: {error}"
    if isinstance(error, exceptions.ClientError):
        return _describe_code(error.response.get("Error", {}).get("Code", ""), error, table)
    if isinstance(error, exceptions.NoCredentialsError):
        return "no AWS credentials were found"
    if isinstance(error, exceptions.ConnectTimeoutError | exceptions.ReadTimeoutError):
        return f"DynamoDB did not answer in time ({error})"
    if isinstance(error, exceptions.EndpointConnectionError | exceptions.ConnectionError):
        return f"cannot reach DynamoDB ({error})"
    return f"{type(error).__name__}: {error}"


def _describe_code(code: str, error: BaseException, table: str) -> str:
    if code == "ResourceNotFoundException":
        return f"the table '{table}' does not exist (deploy it with serverless.yml)"
    if code in THROTTLING_CODES:
        return f"DynamoDB is throttling requests ({code}); try again shortly"
    if code in PERMISSION_CODES:
        return f"access denied ({code}); check the credentials and the function's IAM role"
    return f"{code or type(error).__name__}: {error}"


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
