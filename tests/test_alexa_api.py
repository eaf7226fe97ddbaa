"""The skill's Alexa API client (the SDK's ``DefaultApiClient`` with a timeout) against a real TLS
server on loopback (tests/fake_alexa_api.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ask_sdk_core.exceptions import ApiClientException
from ask_sdk_model.services import ApiClientRequest

from skill.alexa_api import TimeoutApiClient
from tests.fake_alexa_api import ZONE_PATH, FakeAlexaApi, TlsFiles, make_tls_files

TIMEOUT = 0.3
ZONE = ZONE_PATH.format(device_id="amzn1.ask.device.one")
TOKEN = [("Authorization", "Bearer token-for-this-test"), ("Accept", "application/json")]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(Path(tmp_path_factory.mktemp("tls")))


@pytest.fixture(autouse=True)
def trust_test_ca(tls: TlsFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    """requests trusts the bundle named here instead of certifi's, as an operator would set it."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls.ca))
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def api(tls: TlsFiles) -> Iterator[FakeAlexaApi]:
    with FakeAlexaApi(tls) as running:
        yield running


def request(url: str, method: str = "GET") -> ApiClientRequest:
    return ApiClientRequest(url=url, method=method, headers=list(TOKEN), body=None)


def test_the_zone_is_read_with_the_bearer_token(api: FakeAlexaApi):
    answer = TimeoutApiClient(TIMEOUT).invoke(request(api.endpoint + ZONE))
    assert answer.status_code == 200 and answer.body == '"Asia/Tokyo"'
    [seen] = api.seen
    assert seen.path == ZONE and seen.authorization == "Bearer token-for-this-test"


@pytest.mark.parametrize("status", [403, 500])
def test_error_statuses_are_answers_not_exceptions(api: FakeAlexaApi, status: int):
    api.status = status
    answer = TimeoutApiClient(TIMEOUT).invoke(request(api.endpoint + ZONE))
    assert answer.status_code == status and "FORBIDDEN" in answer.body


def test_a_slow_answer_times_out(tls: TlsFiles):
    with FakeAlexaApi(tls, delay=5.0) as slow:  # far longer than the timeout
        started = time.monotonic()
        with pytest.raises(ApiClientException, match=r"Error executing the request: .*timed out"):
            TimeoutApiClient(TIMEOUT).invoke(request(slow.endpoint + ZONE))
        assert time.monotonic() - started < 3.0


def test_an_untrusted_certificate_is_refused_before_anything_is_sent(api, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # certifi's roots only
    with pytest.raises(ApiClientException, match=r"Error executing the request: .*SSL"):
        TimeoutApiClient(TIMEOUT).invoke(request(api.endpoint + ZONE))
    assert api.seen == []


def test_only_https_is_allowed(api: FakeAlexaApi):
    with pytest.raises(ApiClientException, match="non-HTTPS endpoints are not allowed"):
        TimeoutApiClient(TIMEOUT).invoke(request(api.endpoint.replace("https", "http") + ZONE))
    assert api.seen == []


def test_the_timeout_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        TimeoutApiClient(0)
