"""The verifier validates a certificate chain once per URL, and trusts the cached chain only while
every certificate in it is within its dates."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.pki import (
    FakeS3,
    MovableClock,
    make_intermediate,
    make_intermediate_with_dates,
    make_leaf,
    make_root,
    pem,
    sign,
    url,
)
from tests.support import SKILL_ID
from webhook.verify import AlexaRequestVerifier, VerificationFailedError

NOW = dt.datetime(2026, 11, 17, 13, 15, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
BODY = b'{"request": {}}'


@pytest.fixture(scope="module")
def root():
    return make_root("cache-test", NOW)


def verifier_for(root, chain: bytes, clock: MovableClock) -> tuple[AlexaRequestVerifier, FakeS3]:
    s3 = FakeS3(fallback=chain)
    return AlexaRequestVerifier(
        SKILL_ID, trust_roots=[root.certificate], fetch_chain=s3, clock=clock
    ), s3


def headers(key) -> dict[str, str]:
    return {"SignatureCertChainUrl": url("cache"), "Signature-256": sign(key, BODY)}


def test_an_intermediate_that_expires_first_ends_the_caching(root):
    intermediate = make_intermediate_with_dates("cache-int", root, NOW - 100 * DAY, NOW + 10 * DAY)
    leaf, key = make_leaf(intermediate, not_before=NOW - DAY, not_after=NOW + 30 * DAY)
    clock = MovableClock(NOW)
    verifier, s3 = verifier_for(root, pem(leaf, intermediate.certificate), clock)

    verifier.verify_signature(headers(key), BODY)
    clock.now = NOW + 5 * DAY
    verifier.verify_signature(headers(key), BODY)
    assert len(s3.fetches) == 1  # validated once, then used from the cache

    clock.now = NOW + 11 * DAY  # the leaf is still current; its issuer is not
    with pytest.raises(VerificationFailedError, match="not trusted"):
        verifier.verify_signature(headers(key), BODY)
    assert len(s3.fetches) == 2


def test_a_clock_set_back_before_the_chain_is_valid_does_not_use_the_cache(root):
    intermediate = make_intermediate("cache-int-2", root, NOW)
    leaf, key = make_leaf(intermediate, not_before=NOW - DAY, not_after=NOW + 30 * DAY)
    clock = MovableClock(NOW)
    verifier, s3 = verifier_for(root, pem(leaf, intermediate.certificate), clock)
    verifier.verify_signature(headers(key), BODY)
    clock.now = NOW - 2 * DAY
    with pytest.raises(VerificationFailedError, match="not valid yet"):
        verifier.verify_signature(headers(key), BODY)
    assert len(s3.fetches) == 2
