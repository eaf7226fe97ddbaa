"""AWS Lambda entry point (``skill/lambda_entry.handler`` in serverless.yml).

The Alexa trigger hands Lambda the raw request envelope, so this does what ask-sdk's
``lambda_handler()`` does (the SDK's serializer reads the event, ``skill.invoke`` answers it, the
serializer writes the response) around the one skill that ``skill.builder`` assembles, configured
from the ``RLS_COACH_*`` environment (serverless.yml selects the DynamoDB store and sets the skill
id). There is no signature check in front of it as with the webhook: the trigger pins the skill id,
and the skill id is checked here again.

Unlike the SDK's ``lambda_handler()``, the skill is built on the first invocation and kept for the
container's life, so catalog YAML is read once per container. Building it only here, not at
import, means a bad configuration can never fail the module import (which Lambda would retry on
every request, each time sending Alexa a raw traceback): instead the log says exactly what is
wrong, the user hears an apology, and the next invocation tries again. Nothing here imports Flask
or the webhook.

An event this function cannot answer raises :class:`RequestRejectedError`, whose message says
why: which part of the envelope is malformed, which request type is unknown, or which skill the
request was for.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
from typing import Any

from skill.logsafe import clip

logger = logging.getLogger(__name__)


class RequestRejectedError(Exception):
    """The event is not a request this function may answer (another skill, or not Alexa's)."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one Alexa request envelope with a response envelope."""
    try:
        skill = _container_skill()
    except Exception as exc:  # any start-up failure must still answer
        _log_start_failure(exc)
        return _apology(event)
    request_envelope = _read_envelope(skill.serializer, event)
    received = request_envelope.context.system.application.application_id
    if received != skill.skill_id:
        raise _rejected(
            f"refused a request for skill {clip(received, 100)}: "
            f"this function answers only {skill.skill_id}"
        )
    response_envelope = skill.invoke(request_envelope=request_envelope, context=context)
    return skill.serializer.serialize(response_envelope)


@functools.cache  # one skill per container; a build that raised is not kept, so it is retried
def _container_skill() -> Any:
    from skill.builder import skill_builder  # noqa: PLC0415
    from skill.settings import Settings  # noqa: PLC0415

    settings = Settings.from_env()
    logging.getLogger("skill").setLevel(settings.log_level)
    skill = skill_builder(settings=settings, check_skill_id=True).create()
    logger.info("skill %s ready (store %s)", settings.skill_id, settings.store_url)
    return skill


# ---- reading the event -----------------------------------------------------------------------


def _read_envelope(serializer: Any, event: Any) -> Any:
    """The event as ask-sdk's ``RequestEnvelope``, or RequestRejectedError saying what is wrong."""
    from ask_sdk_core.exceptions import SerializationException  # noqa: PLC0415 - loaded
    from ask_sdk_model import Request, RequestEnvelope  # noqa: PLC0415 - already loaded

    from skill.envelope import EnvelopeError, check_envelope, readable_envelope  # noqa: PLC0415

    try:
        check_envelope(event)
    except EnvelopeError as exc:
        raise _rejected(f"refused an event that is not an Alexa request envelope: {exc}") from None
    request_type = event["request"]["type"]
    if request_type not in Request.discriminator_value_class_map:
        raise _rejected(f"refused a request of unknown type {clip(request_type, 100)}")
    try:
        return readable_envelope(serializer, event)
    except EnvelopeError as exc:
        raise _rejected(f"refused an event that is not an Alexa request envelope: {exc}") from None
    except SerializationException:
        where = _malformed_part(serializer, event, RequestEnvelope, ()) or "the envelope"
        raise _rejected(
            f"refused a malformed Alexa request envelope: {where} has the wrong shape"
        ) from None


def _malformed_part(serializer: Any, payload: Any, model: Any, path: tuple[str, ...]) -> str:
    """The deepest field of ``payload`` that the SDK's serializer cannot read as ``model``."""
    if isinstance(payload, dict) and hasattr(model, "get_real_child_model"):
        model = _model(model.get_real_child_model(payload) or "")  # e.g. which Request
    if isinstance(payload, dict) and hasattr(model, "attribute_map"):
        for attribute, key in model.attribute_map.items():
            if key not in payload:
                continue
            type_name = model.deserialized_types[attribute]
            try:
                serializer.deserialize(json.dumps(payload[key]), type_name)
            except Exception:
                return _malformed_part(serializer, payload[key], _model(type_name), (*path, key))
    return ".".join(path)


def _model(type_name: str) -> Any:
    """The ask-sdk model class a type name such as ``ask_sdk_model.session.Session`` names (None
    for a plain or container type, whose parts are not looked into)."""
    module, _, name = type_name.rpartition(".")
    if not module.startswith("ask_sdk_model"):
        return None
    return getattr(importlib.import_module(module), name, None)


# ---- failures --------------------------------------------------------------------------------


def _log_start_failure(exc: Exception) -> None:
    from skill.settings import SettingsError  # noqa: PLC0415
    from skill.stores import StoreURLError  # noqa: PLC0415

    if isinstance(exc, SettingsError | StoreURLError):
        # The message names the variable and the expected form; a traceback would only hide it.
        logger.error("configuration error, answering with an apology: %s", exc)
    else:
        logger.error("the skill could not start, answering with an apology", exc_info=exc)


def _apology(event: Any) -> dict[str, Any]:
    """The apology for a skill that could not start; the session ends, as a retry would fail
    the same way."""
    from skill.envelope import apology  # noqa: PLC0415

    request = event.get("request") if isinstance(event, dict) else None
    request_type = request.get("type") if isinstance(request, dict) else None
    return apology(None, request_type, end_session=True)


def _rejected(message: str) -> RequestRejectedError:
    logger.error("%s", message)
    return RequestRejectedError(message)
