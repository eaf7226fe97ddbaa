from __future__ import annotations

import datetime as dt
import multiprocessing.process
import subprocess
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.settings import Settings
from skill.stores import MemoryAdapter
from tests.support import Conversation

NEW_YORK = ZoneInfo("America/New_York")


# ---- the slow marker is honest ---------------------------------------------------------------
# `make check` runs the tests not marked slow, as a quick loop with no Node, no servers and no
# child processes. So a test that starts a process (directly or through a fixture it is the first
# to use) without the marker fails here, saying so, rather than slowing the loop unnoticed.

_running: list[pytest.Item] = []
_unguarded: dict[str, Callable[..., Any]] = {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _running.append(item)
    try:
        return (yield)
    finally:
        _running.pop()


def _only_when_slow(what: str, start: Callable[..., Any]) -> Callable[..., Any]:
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _running and _running[-1].get_closest_marker("slow") is None:
            pytest.fail(
                f"{_running[-1].nodeid} starts {what} but is not marked slow: add "
                "@pytest.mark.slow (make check leaves such tests to make test)",
                pytrace=False,
            )
        return start(self, *args, **kwargs)

    return guarded


def pytest_configure(config: pytest.Config) -> None:
    _unguarded["popen"] = subprocess.Popen.__init__
    _unguarded["process"] = multiprocessing.process.BaseProcess.start
    subprocess.Popen.__init__ = _only_when_slow("a process", _unguarded["popen"])  # type: ignore[method-assign]
    multiprocessing.process.BaseProcess.start = _only_when_slow(  # type: ignore[method-assign]
        "a process", _unguarded["process"]
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    if _unguarded:
        subprocess.Popen.__init__ = _unguarded.pop("popen")  # type: ignore[method-assign]
        multiprocessing.process.BaseProcess.start = _unguarded.pop("process")  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture
def settings() -> Settings:
    return Settings(store_url="memory://", verify=False, default_timezone="America/New_York")


@pytest.fixture
def store() -> MemoryAdapter:
    return MemoryAdapter()


@pytest.fixture
def skill(catalog, store, settings):
    return build_skill(catalog, store, settings)


@pytest.fixture
def morning() -> dt.datetime:
    """A Tuesday, 8:15 in the morning, New York time."""
    return dt.datetime(2026, 11, 17, 8, 15, tzinfo=NEW_YORK)


@pytest.fixture
def talk(skill, morning) -> Conversation:
    return Conversation(skill=skill, now=morning)


@pytest.fixture(scope="session")
def alexa_api_tls(tmp_path_factory):
    """A test CA and server certificate for the Alexa API stand-in (tests/fake_alexa_api.py),
    trusted by the webhook process and, through ``alexa_api``, by the skill in this process."""
    from tests.fake_alexa_api import make_tls_files

    return make_tls_files(tmp_path_factory.mktemp("alexa-api-tls"))


@pytest.fixture
def alexa_api(alexa_api_tls, monkeypatch):
    """The Alexa API stand-in on 127.0.0.1 (time zone America/New_York, reminders), trusted by
    the skill in this process; requests must carry its ``endpoint`` and a token to reach it."""
    from tests.fake_alexa_api import FakeAlexaApi

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(alexa_api_tls.ca))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    with FakeAlexaApi(alexa_api_tls, zone="America/New_York") as running:
        yield running


@pytest.fixture(scope="session")
def webhook(tmp_path_factory, alexa_api_tls):
    """The real webhook (`rls-coach serve --no-verify`, SQLite store) as a process on a free
    loopback port, shared by every test of the session that talks to it over HTTP. It trusts
    the Alexa API stand-in's CA, for the requests that name a stand-in as their API endpoint."""
    from tests.webhook_process import running_webhook

    env = {"REQUESTS_CA_BUNDLE": str(alexa_api_tls.ca), "NO_PROXY": "127.0.0.1,localhost"}
    with running_webhook(tmp_path_factory.mktemp("webhook"), env=env) as running:
        yield running


@pytest.fixture(scope="module")
def endpoint():
    """A DynamoDB server (moto's, real HTTP) on 127.0.0.1 for a test module: its endpoint URL."""
    from tests.lambda_support import moto_dynamodb

    with moto_dynamodb() as url:
        yield url


@pytest.fixture
def table(endpoint) -> str:
    """A fresh users table on the DynamoDB ``endpoint``, shaped as serverless.yml declares it."""
    from tests.lambda_support import create_users_table

    return create_users_table(endpoint)
