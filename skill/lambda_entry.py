"""AWS Lambda entry point (``skill/lambda_entry.handler`` in serverless.yml).

The Alexa trigger hands Lambda the raw request envelope, so this is ask-sdk's ``lambda_handler()``
(as ``skill.envelope.lambda_handler``: the same, with the skill built once and the fast envelope
parser) around the one skill that ``skill.builder`` assembles, configured from the
``RLS_COACH_*`` environment (serverless.yml selects the DynamoDB store and sets the skill id). The
SDK checks the skill id itself: there is no signature check in front of it as with the webhook.

The skill is built on the first invocation and kept for the container's life, so catalog YAML is
read once per container. Building it only here, not at import, means a bad configuration can
never fail the module import (which Lambda would retry on every request, each time sending Alexa a
raw traceback): instead the log says exactly what is wrong, the user hears an apology, and the next
invocation tries again. Nothing here imports Flask or the webhook.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]

_skill_handler: LambdaHandler | None = None
_skill_id: str | None = None


class RequestRejectedError(Exception):
    """The event is not a request this function may answer (another skill, or not Alexa's)."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope."""
    global _skill_handler, _skill_id  # one skill per container
    if _skill_handler is None:
        try:
            _skill_handler, _skill_id = _build_handler()
        except Exception as exc:  # any start-up failure must still answer
            _log_start_failure(exc)
            return _apology(event)
    received = _application_id(event)
    if received is None:
        raise _rejected("refused an event that is not an Alexa request envelope")
    from ask_sdk_core.exceptions import AskSdkException  # noqa: PLC0415 - already loaded

    try:
        return _skill_handler(event, context)
    except AskSdkException:
        # Errors in handlers are answered by the skill's own exception handler; what reaches
        # here was refused before dispatch by the SDK's skill id check.
        raise _rejected(
            f"refused a request for skill {received}: this function answers only {_skill_id}"
        ) from None


def _build_handler() -> tuple[LambdaHandler, str | None]:
    from skill.builder import skill_builder  # noqa: PLC0415
    from skill.envelope import lambda_handler  # noqa: PLC0415
    from skill.settings import Settings  # noqa: PLC0415

    settings = Settings.from_env()
    logging.getLogger("skill").setLevel(settings.log_level)
    skill = skill_builder(settings=settings, check_skill_id=True).create()
    logger.info("skill %s ready (store %s)", settings.skill_id, settings.store_url)
    # The SDK's lambda_handler() with the skill built once and the fast envelope parser.
    return lambda_handler(skill), settings.skill_id


def _log_start_failure(exc: Exception) -> None:
    from skill.settings import SettingsError  # noqa: PLC0415
    from skill.stores import StoreURLError  # noqa: PLC0415

    if isinstance(exc, SettingsError | StoreURLError):
        # The message names the variable and the expected form; a traceback would only hide it.
        logger.error("configuration error, answering with an apology: %s", exc)
    else:
        logger.error("the skill could not start, answering with an apology", exc_info=exc)


def _apology(event: Any) -> dict[str, Any]:
    """A response envelope that apologises and ends the session, built without the SDK."""
    request = event.get("request") if isinstance(event, dict) else None
    if isinstance(request, dict) and request.get("type") == "SessionEndedRequest":
        return {"version": "1.0", "response": {}}  # Alexa accepts no speech here
    response: dict[str, Any] = {"shouldEndSession": True}
    try:
        from skill.catalog.loader import default_catalog  # noqa: PLC0415
        from skill.speech import Speech  # noqa: PLC0415

        sentence = default_catalog().phrases("common.error")[0]
        response["outputSpeech"] = {"type": "SSML", "ssml": Speech().say(sentence).ssml()}
    except Exception:
        # The content itself is unreadable: end the session silently rather than fail.
        logger.exception("could not load the apology from the content")
    return {"version": "1.0", "response": response}


def _application_id(event: Any) -> str | None:
    """``context.System.application.applicationId``, or None if the event has no such shape."""
    node: Any = event
    for key in ("context", "System", "application", "applicationId"):
        node = node.get(key) if isinstance(node, dict) else None
    has_request = isinstance(event, dict) and isinstance(event.get("request"), dict)
    return node if isinstance(node, str) and has_request else None


def _rejected(message: str) -> RequestRejectedError:
    logger.error("%s", message)
    return RequestRejectedError(message)
