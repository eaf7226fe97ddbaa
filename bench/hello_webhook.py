"""The baseline's webhook: a tiny Flask app with the coach webhook's path and nothing more.

``POST /alexa``: raw body bytes → (when a verifier is given, the same ``AlexaRequestVerifier`` the
coach uses: signature over the raw bytes, then timestamp and skill id) → ask-sdk's serializer →
the hello-world skill → JSON. Served by the same WSGI server (waitress) with the same thread
count, so a load test compares the skills, not the plumbing.
"""

from __future__ import annotations

import json
from typing import Any

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, jsonify, request

from bench.hello_skill import build_skill

MAX_BODY_BYTES = 128 * 1024


def create_app(verifier: Any = None) -> Flask:
    """``verifier``: a ``webhook.verify.AlexaRequestVerifier``, or None to skip verification."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    skill = build_skill()
    serializer = DefaultSerializer()
    refused: type[Exception] = Exception
    if verifier is not None:
        # Imported only with a verifier, as the coach's webhook has: unverified, the hello world
        # does not load cryptography at all.
        from webhook.verify import VerificationFailedError  # noqa: PLC0415

        refused = VerificationFailedError

    @app.post("/alexa")
    def alexa() -> Response | tuple[Response, int]:
        body = request.get_data(cache=False)
        if verifier is not None:
            try:
                verifier.verify_signature(request.headers, body)
                verifier.verify_envelope(json.loads(body))
            except refused as exc:
                return jsonify(error=getattr(exc, "reason", str(exc))), 400
        envelope = serializer.deserialize(body.decode("utf-8"), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        return jsonify(serializer.serialize(response))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app
