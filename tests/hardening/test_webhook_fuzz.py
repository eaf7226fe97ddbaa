"""Random and malformed requests at the webhook never get a 5xx, and never break it.

Bodies are arbitrary bytes, arbitrary JSON, valid envelopes of every request type, and valid
envelopes damaged anywhere; headers, methods, paths and content types vary too. Whatever arrives,
the answer is a JSON response below 500, the server logs no unexpected error, and a good request
right after still gets a proper answer. With verification on, anything not signed by the trusted
chain is refused with a 400.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skill.settings import Settings
from tests.hardening.alexa_rules import violations
from tests.hardening.scale import fuzz_settings
from tests.hardening.strategies import envelopes, graft, json_values
from tests.helpers.webhook_client import webhook_client
from tests.pki import CERT_URL, AlexaPKI, sign
from tests.support import SKILL_ID, envelope, launch_request

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)


class ErrorRecorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def errors():
    recorder = ErrorRecorder()
    logging.getLogger().addHandler(recorder)
    yield recorder
    logging.getLogger().removeHandler(recorder)


def make_app(verify: bool, pki: AlexaPKI | None = None) -> Any:
    settings = Settings(
        store_url="memory://", verify=verify, skill_id=SKILL_ID, default_timezone="UTC"
    )
    config: dict[str, Any] = {}
    if pki is not None:
        config |= {
            "TRUST_ROOTS": [pki.root.certificate],
            "FETCH_CHAIN": lambda url: pki.chains[CERT_URL],
            "CLOCK": lambda: NOW,
        }
    return webhook_client(settings, **config)


@pytest.fixture(scope="module")
def open_client():
    return make_app(verify=False)


@pytest.fixture(scope="module")
def pki():
    return AlexaPKI.build(NOW)


@pytest.fixture(scope="module")
def verifying_client(pki):
    return make_app(verify=True, pki=pki)


def timely(body: dict[str, Any]) -> dict[str, Any]:
    """The envelope with a timestamp the verifier accepts (when it has one to replace)."""
    request = body.get("request")
    if isinstance(request, dict) and isinstance(request.get("timestamp"), str):
        request["timestamp"] = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


bad_bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda value: json.dumps(value).encode()),
    envelopes().flatmap(graft).map(lambda damaged: json.dumps(damaged).encode()),
    st.just(b'{"version": "1.0", "request": ' * 2000),  # deep nesting
    st.just(b"\xff\xfe{}"),
)
content_types = st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "", "multipart/x"]
)


def assert_below_500(response: Any) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    assert isinstance(response.get_json(), dict)


def assert_sound(response: Any, body: bytes, errors: ErrorRecorder) -> None:
    """Below 500, within Alexa's rules, and nothing went wrong inside."""
    assert_below_500(response)
    answer = response.get_json()
    if response.status_code == 200 and "response" in answer:
        try:
            request_type = json.loads(body)["request"]["type"]
        except (ValueError, KeyError, TypeError):
            request_type = "?"
        problems = violations(str(request_type), answer)
        assert not problems, problems
    assert not errors.messages, errors.messages


def assert_still_answers(client: Any, **headers: str) -> None:
    body = json.dumps(envelope(launch_request(NOW), new_session=True)).encode()
    response = client.post("/alexa", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["response"]["outputSpeech"]["ssml"].startswith("<speak>")


@fuzz_settings(quick=200, stress=4000)
@given(body=envelopes())
def test_every_kind_of_valid_envelope_is_answered_within_alexas_rules(open_client, errors, body):
    errors.messages.clear()
    raw = json.dumps(body).encode()
    response = open_client.post("/alexa", data=raw, content_type="application/json")
    assert_sound(response, raw, errors)


@fuzz_settings(quick=250, stress=4000)
@given(body=bad_bodies, content_type=content_types)
def test_any_body_gets_a_json_answer_below_500(open_client, body, content_type):
    # A damaged envelope may reach the skill and fail there (an IntentRequest without its
    # session, say): the webhook still answers, with an apology, never a 5xx.
    response = open_client.post("/alexa", data=body, content_type=content_type)
    assert_below_500(response)


@fuzz_settings(quick=60, stress=1000)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST"]),
    path=st.sampled_from(["/", "/alexa/", "/healthz", "/alexa?x=1", "/%00", "/../etc", "/x" * 50]),
)
def test_any_method_and_path_gets_an_answer_below_500(open_client, errors, method, path):
    errors.messages.clear()
    response = open_client.open(path, method=method, data=b"{}")
    assert response.status_code < 500
    assert not errors.messages, errors.messages


@fuzz_settings(quick=120, stress=2000)
@given(
    body=envelopes().map(timely),
    signature=st.sampled_from(["valid", "garbage", "other-body", "missing", "empty"]),
    cert_url=st.sampled_from(
        [
            CERT_URL,
            "https://s3.amazonaws.com/echo.api/../evil.pem",
            "http://s3.amazonaws.com/echo.api/x.pem",
            "https://evil.example.com/echo.api/x.pem",
            "",
            "not a url \x00",
        ]
    ),
)
def test_only_correctly_signed_requests_pass_verification(
    verifying_client, pki, errors, body, signature, cert_url
):
    errors.messages.clear()
    raw = json.dumps(body).encode()
    headers = {"SignatureCertChainUrl": cert_url}
    if signature == "valid":
        headers["Signature-256"] = sign(pki.leaf_key, raw)
    elif signature == "other-body":
        headers["Signature-256"] = sign(pki.leaf_key, raw + b" ")
    elif signature == "garbage":
        headers["Signature-256"] = "bm90IGEgc2lnbmF0dXJl"
    elif signature == "empty":
        headers["Signature-256"] = ""
    response = verifying_client.post(
        "/alexa", data=raw, content_type="application/json", headers=headers
    )
    assert_sound(response, raw, errors)
    if signature != "valid" or cert_url != CERT_URL:
        assert response.status_code == 400


def test_after_a_storm_of_bad_requests_a_good_one_is_answered(open_client, verifying_client, pki):
    for junk in (b"", b"{", b"[]", b"\x00" * 100, json.dumps({"request": {}}).encode()):
        open_client.post("/alexa", data=junk, content_type="application/json")
        verifying_client.post("/alexa", data=junk, content_type="application/json")
    assert_still_answers(open_client)
    body = json.dumps(envelope(launch_request(NOW), new_session=True)).encode()
    response = verifying_client.post(
        "/alexa",
        data=body,
        content_type="application/json",
        headers={"SignatureCertChainUrl": CERT_URL, "Signature-256": sign(pki.leaf_key, body)},
    )
    assert response.status_code == 200
