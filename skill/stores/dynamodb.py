"""``dynamodb://table``: user state in DynamoDB, through ask-sdk's official ``DynamoDbAdapter``
(:mod:`skill.stores.dynamodb_adapter`) over a boto3 resource built here.

The region comes from AWS_REGION or AWS_DEFAULT_REGION (Lambda sets both), and
``RLS_COACH_DYNAMODB_ENDPOINT`` points the store at another server (DynamoDB Local, moto). Every
other setting is boto3's own: its credential chain, profiles, proxies, CA bundle.

Every call has short botocore timeouts and a single retry, and an overall deadline on top (see
:class:`~skill.stores.dynamodb_adapter.CoachDynamoDbAdapter`): a turn reads and writes once
each, and Alexa gives up on an answer after eight seconds, so a dead or dripping endpoint must
fail fast. boto3 is imported only when a DynamoDB store is opened: the webhook never loads it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from skill.stores.base import StoreURLError, user_key
from skill.stores.retention import RETENTION_VARIABLE, RetentionError, parse_retention_days

if TYPE_CHECKING:
    from skill.stores.dynamodb_adapter import CoachDynamoDbAdapter

logger = logging.getLogger(__name__)

ENDPOINT_VARIABLE = "RLS_COACH_DYNAMODB_ENDPOINT"
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
PARTITION_KEY = "id"  # the adapter's default; serverless.yml declares the table with it
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.0  # per socket read: botocore cannot bound a whole answer's time
TOTAL_ATTEMPTS = 2  # one retry: enough for a blip
CALL_DEADLINE_SECONDS = 2.5  # a whole call, retry included: a read and a save fit in 8 s


def open_dynamodb_store(
    table: str, environ: Mapping[str, str] | None = None
) -> CoachDynamoDbAdapter:
    """The store for ``table``. Nothing is sent over the network here: a missing table shows up
    on the first turn (as an apology, and a log line naming it)."""
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

    try:
        retention_days = parse_retention_days(env.get(RETENTION_VARIABLE))
    except RetentionError as exc:
        raise StoreURLError(f"dynamodb://{table}: {exc}") from None

    import boto3  # noqa: PLC0415 - only a DynamoDB store pays for boto3
    from botocore.config import Config  # noqa: PLC0415

    if boto3.DEFAULT_SESSION is None or not boto3.DEFAULT_SESSION.region_name:
        # The adapter's module builds ``boto3.resource("dynamodb")`` as a default argument when
        # it is imported, from boto3's default session, and botocore reads the region only from
        # AWS_DEFAULT_REGION or a config file. Give that session the region; the resource below
        # comes from it too, so the service model is loaded once.
        boto3.setup_default_session(region_name=region)
    from skill.stores.dynamodb_adapter import CoachDynamoDbAdapter  # noqa: PLC0415

    resource = boto3.DEFAULT_SESSION.resource(
        "dynamodb",
        region_name=region,
        endpoint_url=endpoint,
        config=Config(
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            read_timeout=READ_TIMEOUT_SECONDS,
            retries={"mode": "standard", "total_max_attempts": TOTAL_ATTEMPTS},
        ),
    )
    where = endpoint or f"region {region}"
    logger.info("user state in DynamoDB table %s (%s)", table, where)
    return CoachDynamoDbAdapter(
        table_name=table,
        partition_key_name=PARTITION_KEY,
        # One record per account, or per recognised person on it (skill.stores.base.user_key).
        partition_keygen=user_key,
        retention_days=retention_days,
        create_table=False,  # the table belongs to the deployment (serverless.yml), not the code
        dynamodb_resource=resource,
        where=where,
        deadline=CALL_DEADLINE_SECONDS,
    )
