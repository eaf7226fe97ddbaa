"""The skill's Alexa API client against the SDK's own ``DefaultApiClient``: both send the same
requests to a real TLS server (tests/fake_alexa_api.py) and must give the same answers and the
same failures."""

from __future__ import annotations

import functools
import socket
import ssl
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.api_client import DefaultApiClient
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClient, ApiClientRequest, ApiClientResponse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skill.alexa_api import TimeoutApiClient
from tests.fake_alexa_api import ZONE_PATH, FakeAlexaApi, SeenRequest, TlsFiles, make_tls_files
from tests.hardening.scale import fuzz_settings

TIMEOUT = 0.3
ZONE = ZONE_PATH.format(device_id="amzn1.ask.device.one")
TOKEN = [("Authorization", "Bearer token-for-this-test"), ("Accept", "application/json")]


class SdkClientWithTimeout(DefaultApiClient):
    """The SDK's client, given the same timeout so a slow answer ends the test."""

    def _resolve_method(self, request: ApiClientRequest) -> Callable[..., Any]:
        return functools.partial(super()._resolve_method(request), timeout=TIMEOUT)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture
def clients(tls: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> dict[str, ApiClient]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))  # for the SDK's client
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    ours = TimeoutApiClient(TIMEOUT, ssl_context=ssl.create_default_context(cafile=tls.ca))
    return {"sdk": SdkClientWithTimeout(), "ours": ours}


@pytest.fixture
def api(tls: TlsFiles) -> Iterator[FakeAlexaApi]:
    with FakeAlexaApi(tls) as running:
        yield running


def request(url: str, method: str = "GET", headers=TOKEN, body: Any = None) -> ApiClientRequest:
    return ApiClientRequest(url=url, method=method, headers=list(headers), body=body)


def both(clients: dict[str, ApiClient], make: Callable[[], ApiClientRequest]) -> dict[str, Any]:
    """Each client's answer, or the exception it raised."""
    outcomes: dict[str, Any] = {}
    for name, client in clients.items():
        try:
            outcomes[name] = client.invoke(make())
        except Exception as exc:  # compared below
            outcomes[name] = exc
    return outcomes


def as_tuple(response: ApiClientResponse) -> tuple[int, list[tuple[str, str]], str]:
    return response.status_code, response.headers, response.body


def assert_same_answer(outcomes: dict[str, Any]) -> ApiClientResponse:
    sdk, ours = outcomes["sdk"], outcomes["ours"]
    assert isinstance(sdk, ApiClientResponse), sdk
    assert isinstance(ours, ApiClientResponse), ours
    assert as_tuple(ours) == as_tuple(sdk)
    return ours


def assert_same_outcome(outcomes: dict[str, Any]) -> None:
    if isinstance(outcomes["sdk"], Exception):
        assert_same_failure(outcomes)
    else:
        assert_same_answer(outcomes)


def assert_same_failure(outcomes: dict[str, Any]) -> None:
    for outcome in outcomes.values():
        assert isinstance(outcome, ApiClientException), outcome
        assert str(outcome).startswith("Error executing the request: ")


def essentials(seen: SeenRequest) -> tuple[str, str, bytes, dict[str, str]]:
    """What a server acts on; User-Agent and the like are each library's own."""
    mine = {k.lower(): v for k, v in seen.headers if k.lower().startswith("x-")}
    mine.update({k.lower(): v for k, v in seen.headers if k.lower() in {"authorization"}})
    return seen.method, seen.path, seen.body, mine


def test_the_zone_answer_is_the_same(clients, api: FakeAlexaApi):
    answer = assert_same_answer(both(clients, lambda: request(api.endpoint + ZONE)))
    assert answer.status_code == 200 and answer.body == '"Asia/Tokyo"'
    assert ("Date", "Tue") in answer.headers  # split on its comma, as the SDK does
    assert essentials(api.seen[0]) == essentials(api.seen[1])
    assert api.seen[1].authorization == "Bearer token-for-this-test"


@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 503])
def test_error_statuses_are_answers_not_exceptions(clients, api: FakeAlexaApi, status: int):
    api.status = status
    answer = assert_same_answer(both(clients, lambda: request(api.endpoint + ZONE)))
    assert answer.status_code == status and "FORBIDDEN" in answer.body


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '"Europe/Zürich"'.encode()),
        ("text/plain", "Zürich".encode("latin-1")),
        ("text/plain; charset=utf-8", "Zürich".encode()),
        ('application/json; charset="iso-8859-1"', "Zürich".encode("latin-1")),
        ("application/json", b"\xff not utf-8"),
        ("application/json; charset=no-such-codec", "Zürich".encode()),
        ("application/octet-stream", b"plain ascii"),
    ],
)
def test_bodies_are_decoded_alike(clients, api: FakeAlexaApi, content_type: str, body: bytes):
    api.content_type, api.body = content_type, body
    assert_same_answer(both(clients, lambda: request(api.endpoint + ZONE)))


def test_an_empty_body_is_an_empty_text(clients, api: FakeAlexaApi):
    api.status, api.body = 204, b""
    assert assert_same_answer(both(clients, lambda: request(api.endpoint + ZONE))).body == ""


@pytest.mark.parametrize(
    ("method", "headers", "body"),
    [
        ("POST", [("Content-type", "application/json")], {"zone": "Asia/Tokyo", "n": [1, 2]}),
        ("PUT", [("Content-type", "text/plain")], "Zürich, please"),
        ("PATCH", [("Content-type", "application/octet-stream")], b"\x00\x01raw"),
        ("DELETE", [], None),
        ("post", [("Content-type", "application/json")], ["lower-case method"]),
    ],
)
def test_methods_and_bodies_are_sent_alike(clients, api: FakeAlexaApi, method, headers, body):
    outcomes = both(clients, lambda: request(api.endpoint + ZONE, method, TOKEN + headers, body))
    assert_same_answer(outcomes)
    sdk, ours = api.seen
    assert essentials(ours) == essentials(sdk)
    content_type = [v for k, v in sdk.headers if k.lower() == "content-type"]
    assert [v for k, v in ours.headers if k.lower() == "content-type"] == content_type


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "FETCH", None])
def test_an_unknown_method_is_refused_alike(clients, api: FakeAlexaApi, method):
    outcomes = both(clients, lambda: request(api.endpoint + ZONE, method))
    assert_same_failure(outcomes)
    assert str(outcomes["ours"]) == str(outcomes["sdk"])
    assert api.seen == []


@pytest.mark.parametrize("scheme", ["http", "ftp", ""])
def test_only_https_is_allowed(clients, api: FakeAlexaApi, scheme: str):
    url = api.endpoint.replace("https", scheme, 1) + ZONE
    outcomes = both(clients, lambda: request(url))
    assert_same_failure(outcomes)
    assert (
        str(outcomes["ours"])
        == str(outcomes["sdk"])
        == ("Error executing the request: Requests against non-HTTPS endpoints are not allowed.")
    )
    assert api.seen == []


def test_a_slow_answer_times_out_alike(clients, tls: TlsFiles):
    with FakeAlexaApi(tls, delay=5.0) as slow:  # far longer than the timeout
        assert_same_failure(both(clients, lambda: request(slow.endpoint + ZONE)))
        assert len(slow.seen) == 2


def test_a_refused_connection_fails_alike(clients):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert_same_failure(both(clients, lambda: request(f"https://127.0.0.1:{port}{ZONE}")))


def test_an_untrusted_certificate_fails_alike(clients, api: FakeAlexaApi, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    clients["ours"] = TimeoutApiClient(TIMEOUT)  # the system's trust store only
    assert_same_failure(both(clients, lambda: request(api.endpoint + ZONE)))
    assert api.seen == []  # no request was sent over an unverified connection


def test_the_trust_store_can_be_named_in_the_environment(api: FakeAlexaApi, tls, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls.ca))
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    answer = TimeoutApiClient(TIMEOUT).invoke(request(api.endpoint + ZONE))
    assert answer.status_code == 200


def test_proxies_are_taken_from_the_environment_alike(clients, api: FakeAlexaApi, monkeypatch):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")  # a proxy that is not there
    assert_same_failure(both(clients, lambda: request(api.endpoint + ZONE)))
    assert api.seen == []
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert_same_answer(both(clients, lambda: request(api.endpoint + ZONE)))


def test_the_timeout_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        TimeoutApiClient(0)


HEADER_NAMES = st.sampled_from(["X-Trace", "x-trace", "X-Zone", "X-Empty"])
HEADER_VALUES = st.text(alphabet=string.ascii_letters + string.digits + " ,;=-/", max_size=16)
HEADERS = st.lists(st.tuples(HEADER_NAMES, HEADER_VALUES), max_size=6)


# The clients and the environment fixtures hold no state from one example to the next.
@settings(
    fuzz_settings(quick=25, stress=300),
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(sent=HEADERS, answered=HEADERS, text=st.text(max_size=20))
def test_headers_and_text_bodies_go_and_come_back_alike(clients, tls, sent, answered, text):
    with FakeAlexaApi(tls, extra_headers=answered) as api:
        extra = [("Content-type", "text/plain; charset=utf-8")]
        outcomes = both(clients, lambda: request(api.endpoint + ZONE, "POST", sent + extra, text))
        assert_same_outcome(outcomes)  # requests refuses some values (" x"): so must ours
        assert [essentials(seen) for seen in api.seen[1:]] == [
            essentials(seen) for seen in api.seen[:1]
        ]
