"""A DynamoDB-compatible server on loopback (moto), so both Lambda entries run with their real
stores: the coach's ``dynamodb://`` store, and the peer's ``DynamoDbAdapter``."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

from bench.processes import HOST, REPO, child_env, free_port, stop_process

TABLE = "rls-coach-bench"
PEER_TABLE = "hello-peer-bench"
REGION = "us-east-1"


@contextlib.contextmanager
def running_dynamodb(timeout_s: float = 30.0) -> Iterator[dict[str, dict[str, str]]]:
    """Start moto's server, create both tables, and yield each side's environment: the coach
    configured as its docs say (``RLS_COACH_STORE``, ``RLS_COACH_DYNAMODB_ENDPOINT``), the peer as
    boto3 is (``AWS_ENDPOINT_URL_DYNAMODB``)."""
    import boto3  # noqa: PLC0415

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(),
        cwd=REPO,
    )
    endpoint = f"http://{HOST}:{port}"
    aws = {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
    }
    try:
        client = boto3.client(
            "dynamodb",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        deadline = time.monotonic() + timeout_s
        for table in (TABLE, PEER_TABLE):
            while True:
                try:
                    client.create_table(
                        TableName=table,
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST",
                    )
                    break
                except Exception:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        yield {
            "ours": {
                **aws,
                "RLS_COACH_STORE": f"dynamodb://{TABLE}",
                "RLS_COACH_DYNAMODB_ENDPOINT": endpoint,
            },
            "peer": {**aws, "PEER_TABLE": PEER_TABLE, "AWS_ENDPOINT_URL_DYNAMODB": endpoint},
            "floor": aws,
        }
    finally:
        stop_process(process)
