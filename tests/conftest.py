from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.settings import Settings
from skill.stores import MemoryAdapter
from tests.support import Conversation

NEW_YORK = ZoneInfo("America/New_York")


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
def webhook(tmp_path_factory):
    """The real webhook (`rls-coach serve --no-verify`, SQLite store) as a process on a free
    loopback port, shared by every test of the session that talks to it over HTTP."""
    from tests.webhook_process import running_webhook

    with running_webhook(tmp_path_factory.mktemp("webhook")) as running:
        yield running
