"""The peer's Lambda entry: its skill with the official ``DynamoDbAdapter``, as Amazon's
templates for Python skills build it (an explicit boto3 resource, the table made beforehand).

The table is ``PEER_TABLE``; boto3 finds the region, credentials and (for the benchmark's moto
server) ``AWS_ENDPOINT_URL_DYNAMODB`` in the environment, as it would in a real function.
"""

from __future__ import annotations

import os

import boto3
from ask_sdk_dynamodb.adapter import DynamoDbAdapter

from bench.peer_skill import skill_builder

dynamodb = boto3.resource("dynamodb", region_name=os.environ.get("AWS_REGION"))
adapter = DynamoDbAdapter(
    table_name=os.environ["PEER_TABLE"], create_table=False, dynamodb_resource=dynamodb
)
handler = skill_builder(adapter).lambda_handler()
