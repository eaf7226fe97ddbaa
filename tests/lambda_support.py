"""Test helpers for the AWS side: a DynamoDB-compatible server on loopback, a proxy in front of it
that makes chosen operations fail as a faulty endpoint would, and Lambda "containers" (processes
that import the handler once and answer envelopes one per line, as a warm Lambda container does).
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ask_sdk_model import RequestEnvelope, ResponseEnvelope

from tests.support import SERIALIZER, SKILL_ID

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# What the Lambda Python runtime ships beside the function: boto3 and its own dependencies.
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "python-dateutil",
    "six",
    "urllib3",
)


def lambda_environment(endpoint: str | None, table: str | None, **extra: str) -> dict[str, str]:
    """The environment a Lambda container would have, and nothing from the developer's shell
    (no AWS profile, no real credentials, no RLS_COACH_* settings)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        **FAKE_CREDENTIALS,
        "RLS_COACH_SKILL_ID": SKILL_ID,
    }
    if table is not None:
        env["RLS_COACH_STORE"] = f"dynamodb://{table}"
    if endpoint is not None:
        env["RLS_COACH_DYNAMODB_ENDPOINT"] = endpoint
    env.update(extra)
    return {key: value for key, value in env.items() if value is not None}


# ---- DynamoDB ------------------------------------------------------------------------------


@contextlib.contextmanager
def moto_dynamodb() -> Iterator[str]:
    """A moto server (real HTTP, DynamoDB API) on 127.0.0.1; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def dynamodb(endpoint: str) -> Any:
    import boto3

    return boto3.session.Session(region_name=REGION, **_boto_credentials()).resource(
        "dynamodb", endpoint_url=endpoint
    )


def create_users_table(endpoint: str, name: str | None = None) -> str:
    """A table shaped as serverless.yml declares it; a fresh name unless one is given."""
    name = name or f"users-{uuid.uuid4().hex[:8]}"
    declared = yaml.safe_load((ROOT / "serverless.yml").read_text())["resources"]["Resources"]
    table = declared["UsersTable"]["Properties"]
    resource = dynamodb(endpoint)
    resource.create_table(
        TableName=name,
        KeySchema=table["KeySchema"],
        AttributeDefinitions=table["AttributeDefinitions"],
        GlobalSecondaryIndexes=table.get("GlobalSecondaryIndexes", []),
        BillingMode="PAY_PER_REQUEST",
    )
    ttl = table.get("TimeToLiveSpecification")
    if ttl:
        resource.meta.client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return name


def stored_items(endpoint: str, table: str) -> list[dict[str, Any]]:
    return dynamodb(endpoint).Table(table).scan()["Items"]


def _boto_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "aws_session_token": FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    }


def closed_port_url() -> str:
    """An endpoint on loopback where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# What a faulty DynamoDB endpoint can do to an operation, by name (see DynamoDBProxy).
THROTTLE = "throttle"  # DynamoDB's own throttling error, as a busy table answers
GARBAGE = "garbage"  # HTTP 200 with a body that is not JSON
HUGE = "huge"  # HTTP 200 with a JSON body far larger than any item
DRIP = "drip"  # HTTP 200 headers, then the body one byte at a time, a little under a second apart
DRIP_INTERVAL_S = 0.6
HUGE_BYTES = 8 << 20


@dataclass
class DynamoDBProxy:
    """Forwards DynamoDB calls to ``upstream``, except that the operations named in ``faults``
    (e.g. {"GetItem": GARBAGE}) get the fault instead of an answer from upstream."""

    upstream: str
    faults: dict[str, str] = field(default_factory=dict)
    url: str = ""
    seen: list[str] = field(default_factory=list)  # every operation asked for, in order
    stop: threading.Event = field(default_factory=threading.Event)

    @contextlib.contextmanager
    def running(self) -> Iterator[DynamoDBProxy]:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                proxy.seen.append(operation)
                fault = proxy.faults.get(operation)
                json_type = {"Content-Type": "application/x-amz-json-1.0"}
                if fault == THROTTLE:
                    self._reply(400, _THROTTLED, json_type)
                elif fault == GARBAGE:
                    self._reply(200, b"<html>upstream proxy error</html>", {})
                elif fault == HUGE:
                    padding = b"x" * HUGE_BYTES
                    self._reply(200, b'{"Padding":"' + padding + b'"}', json_type)
                elif fault == DRIP:
                    self._drip(b'{"Item":{}}' + b" " * 200)
                else:
                    self._forward(body)

            def _forward(self, body: bytes) -> None:
                host = proxy.upstream.removeprefix("http://")
                connection = http.client.HTTPConnection(host, timeout=10)
                connection.request("POST", self.path, body, dict(self.headers.items()))
                answer = connection.getresponse()
                self._reply(answer.status, answer.read(), dict(answer.getheaders()))
                connection.close()

            def _drip(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.flush()
                for byte in body:
                    if proxy.stop.wait(DRIP_INTERVAL_S):
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                self.close_connection = True

            def _reply(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the test's assertions say what matters; keep the output quiet

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self
        finally:
            self.stop.set()
            server.shutdown()
            server.server_close()
            thread.join()


_THROTTLED = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded.",
    }
).encode()


# ---- Lambda containers ---------------------------------------------------------------------

# Runs in the container process: optional isolation set-up, then one JSON command per line.
# Logging goes to stderr through a root handler, as the Lambda runtime installs one.
_RUNNER = r"""
import importlib.util, json, logging, sys
setup = json.loads(sys.argv[1])
sys.path[:0] = setup["paths"]
if setup["no_system_tz"]:
    import zoneinfo
    zoneinfo.reset_tzpath(to=[])
logging.basicConfig(stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
from skill.lambda_entry import handler
for line in sys.stdin:
    command = json.loads(line)
    if "modules" in command:
        found = {name: importlib.util.find_spec(name) is not None for name in command["modules"]}
        answer = {"found": found, "loaded": sorted(sys.modules)}
    else:
        try:
            answer = {"response": handler(command["event"], None)}
        except Exception as exc:
            answer = {"error": type(exc).__name__, "message": str(exc)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
"""


class ContainerError(AssertionError):
    """The handler raised instead of answering; carries the exception's type and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class LambdaContainer:
    """A process that imports ``skill.lambda_entry`` and answers one event per line.

    ``paths`` go first on sys.path. With ``isolated``, the interpreter runs with ``-I -S``: no
    site-packages and no PYTHON* variables, so only the standard library and ``paths`` can be
    imported (as in a Lambda container: the function's zip and the runtime's own packages).

    It also passes for a ``CustomSkill`` in ``tests.support.Conversation``: ``invoke`` takes
    and returns SDK envelopes.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        paths: list[Path] | None = None,
        *,
        isolated: bool = False,
        no_system_tz: bool = False,
        cwd: Path | None = None,
    ) -> None:
        setup = {"paths": [str(p) for p in (paths or [ROOT])], "no_system_tz": no_system_tz}
        flags = ["-I", "-S"] if isolated else []
        self._stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by close()
        self._process = subprocess.Popen(
            [sys.executable, *flags, "-c", _RUNNER, json.dumps(setup)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=dict(env),
            cwd=cwd or tempfile.gettempdir(),
            text=True,
        )
        self.log = ""

    def __enter__(self) -> LambdaContainer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> str:
        """Stop the process; returns (and keeps in ``.log``) everything it logged."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()
        self._stderr.seek(0)
        self.log = self._stderr.read()
        self._stderr.close()
        return self.log

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps(command) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise AssertionError(f"the container died:\n{self.close()}")
        return json.loads(line)

    def handle(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's response envelope for ``event``; ContainerError if it raised."""
        answer = self._ask({"event": event})
        if "error" in answer:
            raise ContainerError(answer["error"], answer["message"])
        return answer["response"]

    def modules(self, names: list[str]) -> tuple[dict[str, bool], list[str]]:
        """Which of ``names`` the container could import, and which modules it has loaded."""
        answer = self._ask({"modules": names})
        return answer["found"], answer["loaded"]

    def invoke(self, request_envelope: RequestEnvelope, context: Any = None) -> ResponseEnvelope:
        body = self.handle(SERIALIZER.serialize(request_envelope))
        return SERIALIZER.deserialize(json.dumps(body), ResponseEnvelope)


def runtime_packages(destination: Path) -> Path:
    """A directory holding only what the Lambda Python runtime provides beside the function
    (boto3 and its dependencies), copied from this environment's installed distributions."""
    for name in RUNTIME_DISTRIBUTIONS:
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or ():
            source = Path(str(distribution.locate_file(file))).resolve()
            relative = Path(str(file))
            if ".." in relative.parts or not source.is_file() or "__pycache__" in relative.parts:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination
