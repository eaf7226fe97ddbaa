"""A DynamoDB-compatible server on loopback (moto), so the Lambda entry runs with its real store."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

from bench.processes import HOST, REPO, child_env, free_port, stop_process

TABLE = "rls-coach-bench"
REGION = "us-east-1"


@contextlib.contextmanager
def running_dynamodb(timeout_s: float = 30.0) -> Iterator[dict[str, str]]:
    """Start moto's server, create the table, and yield the environment that points the
    coach's ``dynamodb://`` store at it."""
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
    env = {
        "RLS_COACH_STORE": f"dynamodb://{TABLE}",
        "RLS_COACH_DYNAMODB_ENDPOINT": endpoint,
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
        while True:
            try:
                client.create_table(
                    TableName=TABLE,
                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                    BillingMode="PAY_PER_REQUEST",
                )
                break
            except Exception:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield env
    finally:
        stop_process(process)
