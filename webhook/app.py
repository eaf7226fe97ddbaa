"""The Flask app: ``POST /alexa`` serves the skill, ``GET /healthz`` says whether it can.

A request to ``/alexa`` travels: raw body bytes (size-capped) → Alexa's signature checks on those
bytes → JSON → envelope shape and timestamp/skill-id checks → one deserialisation with ask-sdk's
serializer → the skill → the serialised response. Every failure becomes a short JSON reason with
the right status; nothing ever answers with an HTML error page or a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import flask
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import Context, Request, RequestEnvelope, ResponseEnvelope
from ask_sdk_model.interfaces.system import SystemState
from ask_sdk_model.user import User
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from skill.builder import build_skill
from skill.catalog.loader import default_catalog
from skill.catalog.model import Catalog
from skill.envelope import EnvelopeError, apology, check_envelope, readable_envelope
from skill.logsafe import hashed
from skill.settings import PREFIX, Settings, SettingsError
from skill.stores import REVISION_KEY, SaveConflictError

if TYPE_CHECKING:
    from webhook.verify import AlexaRequestVerifier, VerificationFailedError

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024  # real envelopes are a few KiB; this leaves room and stops abuse
EXTENSION = "rls_coach"
SERIALIZER = DefaultSerializer()
# Request types ask-sdk can deserialise. Alexa adds new ones from time to time; the serializer
# raises on a type it does not know, so those are answered with an empty response instead.
KNOWN_REQUEST_TYPES = frozenset(Request.discriminator_value_class_map)
EMPTY_RESPONSE: dict[str, Any] = {"version": "1.0", "response": {}}
_UNSAFE_IN_LOG = re.compile(r"[^A-Za-z0-9._:/-]")
_MAX_LOGGED_NAME = 100
HEALTH_PROBE_USER = "amzn1.ask.account.rls-coach-health-probe"
HEALTH_OK_SECONDS = 5.0

DEFAULTS: dict[str, Any] = {
    # Werkzeug enforces this before reading: a larger Content-Length is refused outright, and a
    # stream without one is read only up to the cap.
    "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
}

HTTP_REASONS = {
    404: "not found: the skill answers POST /alexa, and GET /healthz reports its health",
    405: "method not allowed",
}


class NotAnEnvelopeError(BadRequest):
    """The body is not a JSON Alexa request envelope; the description says what is wrong."""


class AlexaRequest(flask.Request):
    """Flask's request, carrying what its one log line will say about it.

    The route and the error handlers set these as plain attributes, and the line reads them once
    at the end. (They were kept on ``g``: with the clock, some fifteen lookups through Flask's
    context proxies per request, and the log line took ~10 µs of a turn even when INFO was off.)
    The request type, intent and user id are kept as the envelope gave them and made safe for
    the log (or hashed) only when a line is written.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started = time.perf_counter()
        self.alexa_type: Any = None
        self.alexa_intent: Any = None
        self.alexa_user: str | None = None
        self.outcome: str | None = None  # why it was refused or apologised for


@dataclass(frozen=True)
class Webhook:
    """What the routes need, built once by the factory and kept in ``app.extensions``."""

    skill: CustomSkill
    catalog: Catalog
    verifier: AlexaRequestVerifier | None
    apology: dict[str, Any]
    store_health: StoreHealth

    @staticmethod
    def current() -> Webhook:
        return current_app.extensions[EXTENSION]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The app factory: defaults, then the environment (``RLS_COACH_*`` via Settings), then
    ``config``. Keys (any case): ``SETTINGS``, ``SKILL``, ``CATALOG``, ``VERIFIER``, and the
    verifier's ``TRUST_ROOTS``, ``FETCH_CHAIN`` and ``CLOCK``; anything else is Flask config.

    Raises SettingsError when verification is on and no skill id is configured.
    """
    given = {str(key).upper(): value for key, value in (config or {}).items()}
    settings: Settings = given.get("SETTINGS") or Settings.from_env()
    verifier = given.get("VERIFIER")
    if settings.verify and verifier is None:
        if not settings.skill_id:
            raise SettingsError(
                f"{PREFIX}SKILL_ID is not set: with request verification on, the webhook must "
                "know which skill's requests to accept. Set it (or pass --skill-id), or pass "
                "--no-verify for local development."
            )
        # Imported only when verifying: cryptography costs a served process ~9 MiB.
        from webhook.verify import AlexaRequestVerifier  # noqa: PLC0415

        verifier = AlexaRequestVerifier(
            settings.skill_id,
            trust_roots=given.get("TRUST_ROOTS"),
            fetch_chain=given.get("FETCH_CHAIN"),
            clock=given.get("CLOCK"),
        )
    if not settings.verify:
        logger.warning(
            "Alexa request verification is OFF: anyone who can reach this server can talk to "
            "the skill. Use this only for local development."
        )
        verifier = None

    app = Flask(__name__)
    app.request_class = AlexaRequest
    app.config.from_mapping(DEFAULTS)
    app.config.from_mapping(given)
    app.config["SETTINGS"] = settings
    catalog = given.get("CATALOG") or default_catalog()
    skill = given.get("SKILL") or build_skill(catalog, settings=settings)
    webhook = app.extensions[EXTENSION] = Webhook(
        skill=skill,
        catalog=catalog,
        verifier=verifier,
        apology=apology(catalog),
        store_health=StoreHealth(skill.persistence_adapter),
    )
    # The routes get what they need as an argument rather than from current_app on each request.
    app.add_url_rule(
        "/alexa",
        "alexa",
        view_func=partial(alexa, webhook),
        methods=["POST"],
        provide_automatic_options=False,
    )
    app.add_url_rule(
        "/healthz",
        "healthz",
        view_func=partial(healthz, webhook),
        methods=["GET"],
        provide_automatic_options=False,
    )
    app.after_request(_log_request)
    if verifier is not None:
        from webhook.verify import VerificationFailedError  # noqa: PLC0415

        app.register_error_handler(VerificationFailedError, _rejected)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


# ---- routes ----------------------------------------------------------------------------------


def alexa(webhook: Webhook) -> Response:
    this: AlexaRequest = request._get_current_object()  # type: ignore[attr-defined]
    body = this.get_data(cache=False)
    if webhook.verifier is not None:
        # On the raw bytes, before anything reads them: the signature covers exactly these.
        webhook.verifier.verify_signature(this.headers, body)
    envelope = _parse_envelope(body)
    _describe(this, envelope)
    if webhook.verifier is not None:
        webhook.verifier.verify_envelope(envelope)
    if envelope["request"]["type"] not in KNOWN_REQUEST_TYPES:
        logger.info(
            "answering unknown request type %s with an empty response",
            loggable(envelope["request"]["type"]),
        )
        return jsonify(EMPTY_RESPONSE)
    try:
        request_envelope = readable_envelope(SERIALIZER, envelope)
    except EnvelopeError as exc:
        raise NotAnEnvelopeError(f"not an Alexa request envelope: {exc}") from None
    except SerializationException:
        # Its message can quote the body, so it is not logged.
        raise NotAnEnvelopeError(
            "not an Alexa request envelope: a field has the wrong shape"
        ) from None
    response: ResponseEnvelope = webhook.skill.invoke(
        request_envelope=request_envelope, context=None
    )
    return jsonify(SERIALIZER.serialize(response))


def healthz(webhook: Webhook) -> tuple[Response, int]:
    """Cheap: the process answers, the catalog is loaded, and the store can be read and written
    (a probe record, re-checked at most every few seconds; see :class:`StoreHealth`)."""
    problem = webhook.store_health.problem()
    body = {
        "status": "ok" if problem is None else "unavailable",
        "catalog": webhook.catalog.summary(),
        "store": "reachable" if problem is None else problem,
        "verification": "on" if webhook.verifier is not None else "off",
    }
    return jsonify(body), 200 if problem is None else 503


class StoreHealth:
    """Whether the store can be read and written, probed with a record of its own.

    A read alone says "ok" while every save fails (a full disk, a read-only file, a lock held by
    another process), so the probe reads the probe record and saves it again, as a turn does.
    Load balancers ask every few seconds: a good result is reused for ``HEALTH_OK_SECONDS``; a
    failure is probed afresh each time, so recovery shows at once; concurrent checks wait for the
    probe under way and share its result."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._checked_at = -float("inf")
        self._problem: str | None = None

    def problem(self) -> str | None:
        """None if the store is healthy, else what is wrong in a word or two (the server log
        has the details)."""
        if self.store is None:
            return None
        asked = time.monotonic()
        with self._lock:
            fresh = self._problem is None and asked - self._checked_at < HEALTH_OK_SECONDS
            if fresh or self._checked_at >= asked:  # good lately, or probed while this waited
                return self._problem
            self._problem = self._probe()
            self._checked_at = time.monotonic()
            return self._problem

    def _probe(self) -> str | None:
        probe = RequestEnvelope(
            context=Context(system=SystemState(user=User(user_id=HEALTH_PROBE_USER)))
        )
        try:
            record = self.store.get_attributes(probe)
        except Exception:
            logger.exception("health check: the store could not be read")
            return "unreachable"
        revision = record.get(REVISION_KEY, 0) if isinstance(record, dict) else 0
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            self.store.save_attributes(probe, {"probed_at": stamp, REVISION_KEY: revision})
        except SaveConflictError:
            pass  # another server probed at the same moment: the store took a write
        except Exception:
            logger.exception("health check: the store could not be written")
            return "not writable"
        return None


# ---- the envelope ----------------------------------------------------------------------------


def _parse_envelope(body: bytes) -> dict[str, Any]:
    """The body as JSON, once it has every field the checks and the skill read."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotAnEnvelopeError("request body is not UTF-8 text") from None
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep to be an envelope
        raise NotAnEnvelopeError("request body is not JSON") from None
    try:
        return check_envelope(envelope)
    except EnvelopeError as exc:
        raise NotAnEnvelopeError(f"not an Alexa request envelope: {exc}") from None


# ---- errors ----------------------------------------------------------------------------------


def _rejected(error: VerificationFailedError) -> tuple[Response, int]:
    request.outcome = error.reason
    return jsonify(error=f"request verification failed: {error.reason}"), 400


def _http_error(error: HTTPException) -> Response:
    code = error.code or 500
    if isinstance(error, NotAnEnvelopeError):
        reason = error.description or "not an Alexa request envelope"
    elif code == 413:
        cap_kib = current_app.config["MAX_CONTENT_LENGTH"] // 1024
        reason = f"request body is larger than {cap_kib} KiB"
    else:
        reason = HTTP_REASONS.get(code, error.description or error.name)
    request.outcome = reason
    response = error.get_response()  # keeps headers such as Allow on a 405
    response.set_data(json.dumps({"error": reason}))
    response.content_type = "application/json"
    return response


def _unexpected_error(error: Exception) -> tuple[Response, int]:
    """Anything the skill's own exception handler did not catch: the stack trace goes to the
    server log, and the user hears an apology in a valid Alexa response."""
    logger.error("unexpected error while answering %s", request.path, exc_info=error)
    request.outcome = f"unexpected {type(error).__name__}, apologised"
    return jsonify(Webhook.current().apology), 200


# ---- one log line per request ----------------------------------------------------------------


def _describe(this: AlexaRequest, envelope: dict[str, Any]) -> None:
    """Remember what the log line says about the request: its type, intent and user."""
    alexa_request = envelope["request"]
    this.alexa_type = alexa_request["type"]
    intent = alexa_request.get("intent")
    this.alexa_intent = intent.get("name") if isinstance(intent, dict) else None
    this.alexa_user = envelope["context"]["System"]["user"]["userId"]


def loggable(value: Any) -> str | None:
    """A request-supplied name made safe for a one-line log: no newlines or quotes to forge
    extra lines or fields with, and no unbounded length."""
    if value is None:
        return None
    return _UNSAFE_IN_LOG.sub("?", str(value))[:_MAX_LOGGED_NAME]


def hash_user_id(user_id: str) -> str:
    """A short, stable stand-in for the user id (see skill.logsafe.hashed)."""
    return hashed(user_id)


def _log_request(response: Response) -> Response:
    """Write the request's log line. It runs outside the error handlers, so it must never raise:
    whatever a client sent, the answer already made is the answer given."""
    try:
        _write_request_line(response)
    except Exception:
        logger.warning("could not write the log line of a request", exc_info=True)
    return response


def _write_request_line(response: Response) -> None:
    this: AlexaRequest = request._get_current_object()  # type: ignore[attr-defined]
    status = response.status_code
    # Health probes arrive every few seconds; at INFO they would drown the requests that matter.
    level = logging.DEBUG if status == 200 and this.path == "/healthz" else logging.INFO
    if not logger.isEnabledFor(level):
        return
    latency_ms = (time.perf_counter() - this.started) * 1000
    reason = this.outcome
    logger.log(
        level,
        "%s %s status=%d type=%s intent=%s user=%s latency_ms=%.1f%s",
        loggable(this.method),
        loggable(this.path),
        status,
        loggable(this.alexa_type) or "-",
        loggable(this.alexa_intent) or "-",
        hash_user_id(this.alexa_user) if this.alexa_user else "-",
        latency_ms,
        f' reason="{reason}"' if reason else "",
    )
