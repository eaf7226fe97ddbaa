"""The Lambda deployment as an operator builds it: `make package` offline, the CloudFormation it
produces, the zip on its own in a clean directory, and `serverless invoke local`."""

from __future__ import annotations

import datetime as dt
import fcntl
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from skill.stores.retention import ACCOUNT_ATTRIBUTE, ACCOUNT_INDEX, EXPIRES_ATTRIBUTE
from tests.lambda_support import (
    FAKE_CREDENTIALS,
    ROOT,
    LambdaContainer,
    create_users_table,
    lambda_environment,
    moto_dynamodb,
    runtime_packages,
)
from tests.support import SKILL_ID, Conversation, envelope, launch_request

pytestmark = pytest.mark.slow

OSLS = ROOT / "node_modules" / ".bin" / "osls"
SERVICE = "restless-legs-coach"
FUNCTION_NAME = f"{SERVICE}-dev-skill"
TABLE_NAME = f"{SERVICE}-dev-users"
DISCLAIMER = "not medical advice"
MORNING = ("morning stretches", "morning_stretches")
# The boto3 family stays out of the zip (the runtime has it), as does everything the webhook uses.
NOT_BUNDLED = ("boto3", "botocore", "s3transfer", "jmespath", "flask", "werkzeug", "waitress")
NOT_BUNDLED += ("cryptography", "webhook", "coach_dev")  # the dev tools stay out too


@dataclass(frozen=True)
class Packaged:
    zip_path: Path
    package_dir: Path

    def template(self, kind: str = "update") -> dict[str, Any]:
        path = self.package_dir / f"cloudformation-template-{kind}-stack.json"
        return json.loads(path.read_text())


def offline_env(**extra: str) -> dict[str, str]:
    """The developer's environment minus anything AWS: packaging must need no account."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.pop("RLS_COACH_LAMBDA_ZIP", None)
    return {**env, **extra}


def make_package(output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`make package` as an operator runs it, writing into ``output``. The venv and node_modules
    stamps are taken as up to date (-o): the test must not rebuild the environment it runs in."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "-o",
            "node_modules/.installed",
            "package",
            f"LAMBDA_ZIP={output / 'rls-coach-lambda.zip'}",
            f"PACKAGE_DIR={output / 'serverless'}",
            *args,
        ],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def packaged(tmp_path_factory, worker_id) -> Packaged:
    """Packaged once per test run: under xdist, the first worker builds and the others wait for
    it (a file lock in the directory all workers share) and reuse the result."""
    if worker_id == "master":
        return _package(tmp_path_factory.mktemp("package"))
    shared = tmp_path_factory.getbasetemp().parent
    with (shared / "package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        output = shared / "package"
        if (output / "done").exists():
            return _read_packaged(output)
        output.mkdir(exist_ok=True)
        packaged = _package(output)
        (output / "done").touch()
        return packaged


def _package(output: Path) -> Packaged:
    result = make_package(output, f"SKILL_ID={SKILL_ID}")
    assert result.returncode == 0, result.stdout + result.stderr
    return _read_packaged(output)


def _read_packaged(output: Path) -> Packaged:
    return Packaged(output / "rls-coach-lambda.zip", output / "serverless")


def lambda_bundle() -> ModuleType:
    """tools/lambda_bundle.py, which decides what the zip holds."""
    spec = importlib.util.spec_from_file_location(
        "lambda_bundle", ROOT / "tools" / "lambda_bundle.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


# ---- the template ---------------------------------------------------------------------------


def test_the_templates_pass_cfn_lint(packaged):
    templates = [
        packaged.package_dir / f"cloudformation-template-{k}-stack.json"
        for k in ("create", "update")
    ]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), *map(str, templates)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_only_alexa_may_invoke_the_function_and_only_for_this_skill(packaged):
    template = packaged.template()
    [permission] = resources(template, "AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "FunctionName": {"Fn::GetAtt": ["SkillLambdaFunction", "Arn"]},
        "Action": "lambda:InvokeFunction",
        "Principal": "alexa-appkit.amazon.com",
        "EventSourceToken": SKILL_ID,
    }


def test_the_stack_names_the_arn_the_skill_manifest_needs_as_its_endpoint(packaged):
    """`ask deploy` publishes skill-package/skill.json, whose endpoint must be the very function
    the Alexa permission is granted on (unqualified: a version ARN would not be allowed)."""
    template = packaged.template()
    [permission] = resources(template, "AWS::Lambda::Permission").values()
    endpoint = template["Outputs"]["SkillFunctionArn"]["Value"]
    assert endpoint == permission["Properties"]["FunctionName"]
    assert endpoint == {"Fn::GetAtt": ["SkillLambdaFunction", "Arn"]}


def test_the_function_runs_the_lambda_entry_on_python_3_12_with_the_dynamodb_store(packaged):
    function = packaged.template()["Resources"]["SkillLambdaFunction"]["Properties"]
    assert function["Handler"] == "skill/lambda_entry.handler"
    assert function["Runtime"] == "python3.12"
    assert function["Architectures"] == ["arm64"]
    assert function["FunctionName"] == FUNCTION_NAME
    assert function["Timeout"] <= 8  # Alexa waits no longer
    assert function["Environment"]["Variables"] == {
        "RLS_COACH_SKILL_ID": SKILL_ID,
        "RLS_COACH_STORE": f"dynamodb://{TABLE_NAME}",
        "RLS_COACH_RETENTION_DAYS": "400",  # docs/privacy.md
    }


def test_the_table_is_on_demand_keyed_by_user_id_and_outlives_the_stack(packaged):
    [table] = resources(packaged.template(), "AWS::DynamoDB::Table").values()
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["TableName"] == TABLE_NAME
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["Properties"]["AttributeDefinitions"] == [
        {"AttributeName": "id", "AttributeType": "S"},
        {"AttributeName": "account", "AttributeType": "S"},
    ]


def test_the_table_expires_records_and_finds_an_accounts_people(packaged):
    """Retention is DynamoDB's TTL on what every save writes; a disabled account's people are
    found through a keys-only index on the account (docs/privacy.md)."""
    [table] = resources(packaged.template(), "AWS::DynamoDB::Table").values()
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": EXPIRES_ATTRIBUTE,
        "Enabled": True,
    }
    [index] = table["Properties"]["GlobalSecondaryIndexes"]
    assert index["IndexName"] == ACCOUNT_INDEX
    assert index["KeySchema"] == [{"AttributeName": ACCOUNT_ATTRIBUTE, "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}


def test_the_function_may_touch_only_its_own_logs_and_its_own_table(packaged):
    template = packaged.template()
    roles = resources(template, "AWS::IAM::Role")
    assert list(roles) == ["SkillRole"]  # the framework's broader default role is not made
    function = template["Resources"]["SkillLambdaFunction"]["Properties"]
    assert function["Role"] == {"Fn::Sub": "${SkillRole.Arn}"}

    grants: dict[str, list[Any]] = {}
    for statement in _allow_statements(template):
        actions = _as_list(statement["Action"])
        assert all("*" not in action for action in actions), statement
        for action in actions:
            grants.setdefault(action, []).extend(_as_list(statement["Resource"]))

    own_streams = f":log-group:/aws/lambda/{FUNCTION_NAME}:*"
    assert set(grants) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Query",
    }
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        [resource] = grants[action]
        # The one "*" allowed: the log streams of the function's own log group, whose names
        # Lambda makes up at run time.
        text = _flatten(resource)
        assert text.endswith(own_streams) and text.count("*") == 1, text
    for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert grants[action] == [{"Fn::GetAtt": ["UsersTable", "Arn"]}]
    # Query only the account index, never the table itself.
    [index] = grants["dynamodb:Query"]
    assert index == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["UsersTable", "Arn"]}, f"/index/{ACCOUNT_INDEX}"]]
    }


def _allow_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Allow statement of every identity policy in the template (trust policies say who
    may assume a role, not what it may do, so they are left out)."""
    found = []
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}:
            documents.append(properties["PolicyDocument"])
        for document in documents:
            found += [s for s in document["Statement"] if s["Effect"] == "Allow"]
    return found


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _flatten(value: Any) -> str:
    """A resource expression as one string, with Refs shown as ${Name}."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_flatten(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "${" + value["Ref"] + "}"
    return json.dumps(value)


# ---- the zip --------------------------------------------------------------------------------


def test_the_zip_holds_the_skill_and_its_dependencies_built_for_the_function(packaged):
    names = zipfile.ZipFile(packaged.zip_path).namelist()
    tops = {name.split("/")[0] for name in names}
    for needed in ("skill", "ask_sdk_core", "ask_sdk_dynamodb", "marshmallow", "yaml", "tzdata"):
        assert needed in tops
    assert "skill/lambda_entry.py" in names
    assert "skill/content/speech/en/common.yaml" in names
    for left_out in NOT_BUNDLED:
        assert left_out not in tops
    bundled = {top.split("-")[0].lower() for top in tops if top.endswith(".dist-info")}
    for requirement in lambda_bundle().lambda_requirements():
        assert lambda_bundle()._name(requirement).replace("-", "_") in bundled, requirement
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    provider = yaml.safe_load((ROOT / "serverless.yml").read_text())["provider"]
    assert (provider["runtime"], provider["architecture"]) == ("python3.12", "arm64")
    compiled = [n for n in names if n.endswith(".so")]
    assert compiled, "PyYAML's and charset-normalizer's wheels are compiled"
    assert all(n.endswith(".cpython-312-aarch64-linux-gnu.so") for n in compiled), compiled


def test_the_unpacked_zip_answers_alexa_with_only_the_runtime_beside_it(packaged, tmp_path):
    """A clean directory holding the zip's files, another holding only what the Lambda runtime
    provides (boto3 and its dependencies), an interpreter that sees nothing else (no
    site-packages, no system time zone files), and DynamoDB on loopback: a launch, a routine
    started and left, and a cold container that resumes it."""
    task = tmp_path / "task"
    zipfile.ZipFile(packaged.zip_path).extractall(task)
    runtime = runtime_packages(tmp_path / "runtime")

    with moto_dynamodb() as endpoint:
        table = create_users_table(endpoint)
        env = lambda_environment(endpoint, table, RLS_COACH_TIMEZONE="America/New_York")
        now = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)  # 8:15 in the function's New York
        container = LambdaContainer(env, [task, runtime], isolated=True, no_system_tz=True)
        with container:
            found, _ = container.modules(["flask", "cryptography", "waitress", "webhook"])
            assert found == dict.fromkeys(found, False)
            talk = Conversation(skill=container, now=now)
            first = talk.launch()
            started = talk.intent("StartRoutineIntent", routine=MORNING)
            talk.intent("AMAZON.NextIntent")
            talk.end_session("EXCEEDED_MAX_REPROMPTS")
            _, loaded = container.modules([])
        assert DISCLAIMER in first.text and not first.ends_session
        assert "One, lift your heel" in started.text  # counted reps: the numbers table ships too
        assert not [m for m in loaded if m.split(".")[0] in {"flask", "webhook", "cryptography"}]
        assert f"INFO skill.lambda_entry skill {SKILL_ID} ready" in container.log

        with LambdaContainer(env, [task, runtime], isolated=True, no_system_tz=True) as cold:
            resumed = Conversation(skill=cold, now=now).one_shot("ResumeRoutineIntent")
        assert "where you left off" in resumed.text and "right leg" in resumed.text


# ---- refusing to package without a skill id ------------------------------------------------


def test_make_package_without_a_skill_id_stops_before_building(tmp_path):
    result = make_package(tmp_path)
    assert result.returncode != 0
    assert "no skill id: give the id of the Alexa skill this function will answer" in (
        result.stderr
    )
    assert "make package SKILL_ID=amzn1.ask.skill." in result.stderr
    assert not (tmp_path / "rls-coach-lambda.zip").exists()


def test_make_package_with_a_malformed_skill_id_stops_before_building(tmp_path):
    result = make_package(tmp_path, "SKILL_ID=my-skill")
    assert result.returncode != 0
    assert "'my-skill' is not an Alexa skill id" in result.stderr
    assert not (tmp_path / "rls-coach-lambda.zip").exists()


@pytest.mark.parametrize("command", ["package", "deploy"])
def test_serverless_without_a_skill_id_names_the_missing_parameter(command, tmp_path):
    """Straight `osls package` / `osls deploy` (no make): refused while reading the
    configuration, before anything is built or any AWS call is made."""
    result = subprocess.run(
        [str(OSLS), command, "--package", str(tmp_path / "out")],
        cwd=ROOT,
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert 'Cannot resolve variable at "custom.skillId"' in output
    assert 'Value not found at "param" source' in output
    assert not (tmp_path / "out").exists()


# ---- serverless invoke local -----------------------------------------------------------------


def test_serverless_invoke_local_answers_a_launch(tmp_path):
    """`osls invoke local` runs the handler from the source tree with a local Python. osls calls
    `python3` (the major version only, whatever the configured python3.x runtime) from PATH,
    with $VIRTUAL_ENV/bin put first: so a project virtualenv's Python 3.11 serves for 3.12."""
    event = tmp_path / "launch.json"
    moment = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
    event.write_text(json.dumps(envelope(launch_request(moment))))
    with moto_dynamodb() as endpoint:
        create_users_table(endpoint, TABLE_NAME)
        result = subprocess.run(
            [
                str(OSLS),
                "invoke",
                "local",
                "--function",
                "skill",
                "--param",
                f"skillId={SKILL_ID}",
                "--path",
                str(event),
                "--env",
                f"RLS_COACH_DYNAMODB_ENDPOINT={endpoint}",
            ],
            cwd=ROOT,
            env=offline_env(VIRTUAL_ENV=sys.prefix, **FAKE_CREDENTIALS),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    response = json.loads("\n".join(lines[lines.index("{") :]))
    assert DISCLAIMER in response["response"]["outputSpeech"]["ssml"]
    assert response["response"]["shouldEndSession"] is False
    assert f"ready (store dynamodb://{TABLE_NAME})" in result.stdout
