"""The floor's and the peer's webhook: a tiny Flask app with the coach webhook's path.

``POST /alexa``: raw body bytes → ask-sdk's serializer → the skill → JSON. Served by the same WSGI
server (waitress) with the same thread count as the coach, so a load test compares the skills,
not the plumbing. Request verification is off here as it is for the coach in the benchmark
(docs/benchmarks.md says why).
"""

from __future__ import annotations

from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope
from flask import Flask, Response, jsonify, request

MAX_BODY_BYTES = 128 * 1024


def create_app(skill: CustomSkill) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    serializer = DefaultSerializer()

    @app.post("/alexa")
    def alexa() -> Response:
        body = request.get_data(cache=False)
        envelope = serializer.deserialize(body.decode("utf-8"), RequestEnvelope)
        response = skill.invoke(request_envelope=envelope, context=None)
        return jsonify(serializer.serialize(response))

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify(status="ok")

    return app
