"""A flood of unsigned requests, each naming a certificate URL, through the real webhook: the
server must not fetch for each one, must not fill its log, and must keep answering Alexa."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from skill.builder import build_skill
from skill.settings import Settings
from tests.hardening.scale import scaled
from tests.pki import CERT_URL, AlexaPKI, MovableClock, sign
from tests.support import SKILL_ID, envelope, launch_request
from webhook.app import create_app

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
FLOOD = scaled(quick=300, stress=3000)
FETCH_SECONDS = 0.2  # a slow bucket: fetches overlap while the flood goes on
IN_FLIGHT_CAP = 4  # the verifier's MAX_CONCURRENT_FETCHES


@dataclass
class SlowS3:
    """Serves the good chain at CERT_URL and a 404 elsewhere, slowly, counting fetches."""

    chains: dict[str, bytes]
    fetches: list[str] = field(default_factory=list)
    most_at_once: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, url: str) -> bytes:
        with self._lock:
            self.fetches.append(url)
            self._in_flight += 1
            self.most_at_once = max(self.most_at_once, self._in_flight)
        time.sleep(FETCH_SECONDS)
        with self._lock:
            self._in_flight -= 1
        if url not in self.chains:
            raise OSError(f"404 Not Found for {url}")
        return self.chains[url]


@pytest.fixture(scope="module")
def pki() -> AlexaPKI:
    return AlexaPKI.build(NOW)


@pytest.fixture
def s3(pki) -> SlowS3:
    return SlowS3({CERT_URL: pki.chains[CERT_URL]})


@pytest.fixture
def app(pki, s3, catalog, store):
    settings = Settings(skill_id=SKILL_ID, store_url="memory://", default_timezone="UTC")
    return create_app(
        {
            "SETTINGS": settings,
            "SKILL": build_skill(catalog, store, settings),
            "CATALOG": catalog,
            "TRUST_ROOTS": [pki.root.certificate],
            "FETCH_CHAIN": s3,
            "CLOCK": MovableClock(NOW),
        }
    )


def body() -> bytes:
    return json.dumps(envelope(launch_request(NOW), new_session=True)).encode()


def post(app, data: bytes, cert_url: str, signature: str) -> int:
    headers = {"SignatureCertChainUrl": cert_url, "Signature-256": signature}
    return app.test_client().post("/alexa", data=data, headers=headers).status_code


def flood(app, signature: str, urls: list[str]) -> list[int]:
    data = body()
    with ThreadPoolExecutor(max_workers=32) as pool:
        return list(pool.map(lambda url: post(app, data, url, signature), urls))


def new_urls(count: int, padding: int = 0) -> list[str]:
    tail = "x" * padding
    return [
        f"https://s3.amazonaws.com/echo.api/{os.urandom(6).hex()}{tail}.pem" for _ in range(count)
    ]


def test_a_flood_with_a_token_signature_fetches_nothing(app, s3):
    statuses = flood(app, "AAAA", new_urls(FLOOD))
    assert set(statuses) == {400}
    assert s3.fetches == []


def test_a_flood_with_plausible_signatures_fetches_a_handful_and_alexa_stays_fast(
    app, pki, s3, caplog, report_line
):
    """Long random URLs, each new, with a signature of the right length: the fetches in flight
    are capped, a failed URL is not fetched again, and nothing logged carries a whole URL. A
    request that Alexa signed, with its chain fetched once, is answered quickly meanwhile."""
    data = body()
    assert post(app, data, CERT_URL, sign(pki.leaf_key, data)) == 200  # its chain is cached
    fake = base64.b64encode(os.urandom(256)).decode()
    urls = new_urls(FLOOD // 3, padding=2000)
    urls = urls * 3  # and each URL asked for three times
    signed_waits: list[float] = []

    def alexa() -> None:
        while len(signed_waits) < 20:
            started = time.monotonic()
            genuine = body()  # each request Alexa sends has its own id
            assert post(app, genuine, CERT_URL, sign(pki.leaf_key, genuine)) == 200
            signed_waits.append(time.monotonic() - started)

    with caplog.at_level(logging.INFO, logger="webhook"):
        meanwhile = threading.Thread(target=alexa)
        meanwhile.start()
        started = time.monotonic()
        statuses = flood(app, fake, urls)
        flood_seconds = time.monotonic() - started
        meanwhile.join(timeout=60)
    assert set(statuses) == {400}
    fetched_urls = [url for url in s3.fetches if url != CERT_URL]
    assert len(set(fetched_urls)) == len(fetched_urls)  # never the same URL twice
    assert s3.most_at_once <= IN_FLIGHT_CAP
    # At most IN_FLIGHT_CAP fetches per fetch time while the flood lasts: a handful.
    assert len(fetched_urls) <= IN_FLIGHT_CAP * (flood_seconds / FETCH_SECONDS + 1)
    longest_line = max(len(record.getMessage()) for record in caplog.records)
    assert longest_line < 500
    report_line(
        f"{len(urls)} unsigned requests over {FLOOD // 3} new URLs: {len(fetched_urls)} fetches; "
        f"signed requests meanwhile answered in at most {max(signed_waits) * 1000:.0f} ms; "
        f"longest log line {longest_line} characters"
    )
    assert max(signed_waits) < 1.0


# A name in Amazon's own naming, as Alexa's first request after a restart carries.
AMAZON_NAMED_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-12.pem"
OTHER_URL_BUDGET = 4  # the verifier's fetches a minute for URLs outside Amazon's naming


def test_right_after_a_restart_a_flood_of_new_urls_refuses_no_genuine_request(
    pki, catalog, store, report_line
):
    """Nothing cached yet. A flood of fresh URLs with plausible signatures fills the fetch slots;
    Alexa's requests arriving meanwhile are all answered, and the flood costs a few fetches."""
    s3 = SlowS3({AMAZON_NAMED_URL: pki.chains[CERT_URL]})
    settings = Settings(skill_id=SKILL_ID, store_url="memory://", default_timezone="UTC")
    app = create_app(
        {
            "SETTINGS": settings,
            "SKILL": build_skill(catalog, store, settings),
            "CATALOG": catalog,
            "TRUST_ROOTS": [pki.root.certificate],
            "FETCH_CHAIN": s3,
            "CLOCK": MovableClock(NOW),
        }
    )
    fake = base64.b64encode(os.urandom(256)).decode()
    urls = new_urls(FLOOD)
    with ThreadPoolExecutor(max_workers=32) as pool:
        flooding = pool.submit(flood, app, fake, urls)
        deadline = time.monotonic() + 10
        while s3.most_at_once < IN_FLIGHT_CAP and not flooding.done():
            assert time.monotonic() < deadline
            time.sleep(0.001)
        genuine: list[tuple[int, float]] = []
        for _ in range(scaled(quick=20, stress=200)):
            data = body()
            started = time.monotonic()
            status = post(app, data, AMAZON_NAMED_URL, sign(pki.leaf_key, data))
            genuine.append((status, time.monotonic() - started))
        statuses = flooding.result()
    refused = [status for status, _ in genuine if status != 200]
    flood_fetches = [url for url in s3.fetches if url != AMAZON_NAMED_URL]
    report_line(
        f"after a restart, {len(urls)} flood requests with new URLs: {len(flood_fetches)} "
        f"fetches; {len(genuine) - len(refused)} of {len(genuine)} genuine requests answered, "
        f"slowest {max(wait for _, wait in genuine) * 1000:.0f} ms"
    )
    assert refused == []
    assert set(statuses) == {400}
    assert len(flood_fetches) <= OTHER_URL_BUDGET + 1  # +1: a token may refill meanwhile
    assert s3.fetches.count(AMAZON_NAMED_URL) == 1
