"""What both entries (the webhook and the Lambda handler) do with an incoming envelope before the
skill sees it, and what they answer when the skill cannot: one copy of each, used by both.

- :func:`check_envelope`: the envelope has every field the checks and the skill read;
- :func:`readable_envelope`: ask-sdk's ``RequestEnvelope``, after removing what would make its
  serializer misread the request (look-alike keys) or refuse a request Alexa may legitimately
  send (a SessionEndedRequest error type newer than the SDK);
- :func:`apology`: a response envelope that apologises, built from the content without the SDK.

Reasons are short, name the field, and quote nothing the sender chose beyond a clipped name.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

from skill.logsafe import clip

if TYPE_CHECKING:
    from ask_sdk_model import RequestEnvelope

    from skill.catalog.model import Catalog

logger = logging.getLogger(__name__)

# Fields the checks and the skill rely on; a body without them is not an Alexa request.
REQUIRED_FIELDS = (
    ("request", "type"),
    ("request", "timestamp"),
    ("context", "System", "application", "applicationId"),
    ("context", "System", "user", "userId"),
)


class EnvelopeError(ValueError):
    """The event is not an Alexa request envelope the skill can read; the message says why."""


def check_envelope(event: Any) -> dict[str, Any]:
    """``event`` itself once it has every required field and a readable timestamp."""
    if not isinstance(event, dict):
        raise EnvelopeError("it is not a JSON object")
    missing = [".".join(path) for path in REQUIRED_FIELDS if not text_at(event, path)]
    if missing:
        raise EnvelopeError(f"missing {', '.join(missing)}")
    try:
        dt.datetime.fromisoformat(event["request"]["timestamp"])
    except ValueError:
        raise EnvelopeError("request.timestamp is not an ISO 8601 time") from None
    return event


def text_at(data: Any, path: tuple[str, ...]) -> str | None:
    """The non-blank text at ``path`` in nested JSON objects, or None."""
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, str) and data.strip() else None


def readable_envelope(serializer: Any, event: dict[str, Any]) -> RequestEnvelope:
    """The checked ``event`` as the SDK's ``RequestEnvelope``. Raises EnvelopeError for nesting
    too deep to be an envelope, and the SDK's ``SerializationException`` for a field of the
    wrong shape (the caller says which)."""
    from ask_sdk_model import RequestEnvelope  # noqa: PLC0415 - loaded with the skill anyway

    _drop_look_alike_keys(event)
    _tolerate_new_session_end_errors(event)
    try:
        text = json.dumps(event)
    except RecursionError:
        raise EnvelopeError("it is nested too deeply to be an Alexa request") from None
    except (TypeError, ValueError):
        raise EnvelopeError("it holds values that are not JSON") from None
    try:
        return serializer.deserialize(text, RequestEnvelope)
    except RecursionError:
        raise EnvelopeError("it is nested too deeply to be an Alexa request") from None


def _drop_look_alike_keys(event: dict[str, Any]) -> None:
    """Remove keys that spell a model attribute's Python name (``user_id`` beside ``userId``)
    from ``context``, ``context.System`` and ``context.System.user``.

    The SDK's serializer sets every unknown key as an attribute after the known ones, so
    ``"user_id": "B"`` would replace the ``userId`` the verifier and the log saw, and the user's
    record would be read and saved under B. The user id comes from one place only."""
    from ask_sdk_model import Context  # noqa: PLC0415
    from ask_sdk_model.interfaces.system import SystemState  # noqa: PLC0415
    from ask_sdk_model.user import User  # noqa: PLC0415

    context = event["context"]
    system = context["System"]
    for node, model in ((context, Context), (system, SystemState), (system["user"], User)):
        for attribute, key in model.attribute_map.items():
            if attribute != key and attribute in node:
                del node[attribute]


def _tolerate_new_session_end_errors(event: dict[str, Any]) -> None:
    """A SessionEndedRequest says why the session ended; Alexa may add error types the SDK does
    not know yet, and its serializer refuses the whole request for one. The type is logged and
    left out, so the session still ends cleanly."""
    from ask_sdk_model.session_ended_error_type import SessionEndedErrorType  # noqa: PLC0415

    request = event["request"]
    error = request.get("error") if request.get("type") == "SessionEndedRequest" else None
    if not isinstance(error, dict) or "type" not in error:
        return
    known = {member.value for member in SessionEndedErrorType}
    if error["type"] not in known:
        logger.warning(
            "session ended with an error of a type the SDK does not know: %s (%s)",
            clip(error["type"], 60),
            clip(error.get("message", ""), 200),
        )
        del error["type"]


def apology(
    catalog: Catalog | None, request_type: Any = None, *, end_session: bool = False
) -> dict[str, Any]:
    """A response envelope that apologises (``common.error``, and unless the session ends, its
    reprompt). A SessionEndedRequest gets an empty response: Alexa accepts no speech there.
    Built from plain dicts, so it works when the skill itself could not be built; with no
    ``catalog`` the shipped one is loaded, and if even that fails the answer is silent."""
    if request_type == "SessionEndedRequest":
        return {"version": "1.0", "response": {}}
    response: dict[str, Any] = {"shouldEndSession": end_session}
    try:
        from skill.catalog.loader import default_catalog  # noqa: PLC0415
        from skill.speech import Speech  # noqa: PLC0415

        content = catalog or default_catalog()
        speech = Speech().say(content.phrases("common.error")[0]).ssml()
        response["outputSpeech"] = {"type": "SSML", "ssml": speech}
        if not end_session:
            reprompt = Speech().say(content.phrases("common.error_reprompt")[0]).ssml()
            response["reprompt"] = {"outputSpeech": {"type": "SSML", "ssml": reprompt}}
    except Exception:
        # The content itself is unreadable: end the session silently rather than fail.
        logger.exception("could not load the apology from the content")
        response = {"shouldEndSession": True}
    return {"version": "1.0", "response": response}
