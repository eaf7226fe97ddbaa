"""The real webhook (``webhook.app.create_app``) behind Flask's test client: real HTTP requests
through the real app, without a server process."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.settings import Settings
from skill.stores import MemoryAdapter
from webhook.app import create_app


def webhook_client(
    settings: Settings,
    *,
    catalog: Catalog | None = None,
    store: Any = None,
    skill: Any = None,
    **config: Any,
) -> FlaskClient:
    """A client of the webhook serving ``skill``, or else the skill built on ``store`` (a fresh
    memory store unless given); ``config`` adds create_app keys (TRUST_ROOTS, CLOCK, …)."""
    catalog = catalog or default_catalog()
    skill = skill or build_skill(catalog, store or MemoryAdapter(), settings)
    app = create_app({"SETTINGS": settings, "SKILL": skill, "CATALOG": catalog, **config})
    return app.test_client()
