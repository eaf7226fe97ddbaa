"""Checks that a request really comes from Alexa, as Amazon requires of skills hosted as a web
service ("Host a Custom Skill as a Web Service" → "Verify that the request was sent by Alexa").

1. ``SignatureCertChainUrl`` is https on s3.amazonaws.com (port 443 if given), and its path,
   once normalised, starts with ``/echo.api/``.
2. The PEM chain at that URL (fetched over https) validates to a trusted root at the current
   time, and the signing certificate's subject alternative names contain ``echo-api.amazon.com``
   itself. This is done once per URL: the validated chain is cached until a certificate in it
   expires.
3. ``Signature-256`` is a base64 RSA PKCS#1 v1.5 SHA-256 signature of the raw body bytes by that
   certificate's key, an RSA key of at least 2048 bits.
4. ``request.timestamp`` is within 150 seconds of now.
5. ``context.System.application.applicationId`` is this skill's id.

``ask-sdk-webservice-support`` would do this, but it cannot be imported where OpenSSL is 3.0.10 or
newer (its oscrypto dependency fails to parse the version), so the checks are written here on
``cryptography``'s X.509 path validation, which does the chain building, validity dates and name
matching. Trust roots, the chain fetcher and the clock are parameters so tests can bring their own.

Anyone can send a request naming a certificate URL, so fetching is guarded: a signature that
cannot be an RSA signature of 2048 bits or more is refused before any fetch; concurrent requests
for one URL share one fetch; only a few fetches run at once; a URL whose chain failed is not
fetched again for a minute; and a URL is logged cut short.

A flood of fresh URLs must neither cost a fetch each nor crowd out Alexa, even right after a
restart, when not even Alexa's own URL is cached. So a URL needing a fetch goes by one of three
lanes (:class:`_Lanes`):

- **known**: a URL whose chain validated before in this process (kept after the chain leaves the
  cache): always fetched, waiting for a free fetch slot rather than being refused;
- **Amazon's naming** (``echo-api-cert.pem``, ``echo-api-cert-12.pem``, ``…-ats.pem``): what
  Alexa's first request after a restart names. A bounded set of names, so even a flood that
  copies the naming can cost at most a fetch per name per failure period; these wait for a token
  of a generous bucket and for a slot, rather than being refused;
- **any other URL** under ``/echo.api/``: a small token bucket (a few fetches a minute); once it
  is empty such URLs are refused at once, without a fetch and without taking a slot.

A genuine request is therefore never refused because a flood took the fetch slots: flood URLs
that are not in Amazon's naming run out of tokens within a few requests, and never wait.

Replays: a signed request can be sent again by anyone who saw it. Its timestamp keeps it usable
for 150 seconds either side, so each request id is remembered for that window (300 seconds of the
verifier's clock) and a second request with the same id is refused. Memory is bounded: at most
``MAX_REMEMBERED_REQUESTS`` ids (some 20 MB), far more than a skill receives in five minutes.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import posixpath
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
from cachetools import LRUCache, TTLCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from skill.logsafe import clip

logger = logging.getLogger(__name__)

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PATH_PREFIX = "/echo.api/"
CERT_URL_PORT = 443
ECHO_DOMAIN = "echo-api.amazon.com"
TIMESTAMP_TOLERANCE = dt.timedelta(seconds=150)
FETCH_TIMEOUT_SECONDS = 5.0
MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is about 5 KiB; anything far larger is not it
MAX_CACHED_CHAINS = 16  # Amazon rotates between a handful of URLs
MIN_RSA_KEY_BITS = 2048
# An RSA signature is as long as the key's modulus: 256 bytes for 2048 bits, up to 8192 bits.
SIGNATURE_BYTES = range(MIN_RSA_KEY_BITS // 8, 8192 // 8 + 1)
MAX_CONCURRENT_FETCHES = 4
FAILED_URL_SECONDS = 60.0
MAX_FAILED_URLS = 1024
MAX_LOGGED_URL = 100
# Fetch lanes (see the module docstring): tokens and refill per minute, and how long a request
# in Amazon's naming waits for a token or a fetch slot before it is refused.
OTHER_URL_FETCHES = 4
AMAZON_NAMED_FETCHES = 20
FETCH_WAIT_SECONDS = 3.0
MAX_KNOWN_URLS = 64
AMAZON_CERT_NAME = re.compile(r"/echo\.api/echo-api-cert(?:-[0-9]{1,3})?(?:-ats)?\.pem")
# Request ids are remembered while their timestamp could still pass (150 s either side of now).
REPLAY_WINDOW = 2 * TIMESTAMP_TOLERANCE
MAX_REMEMBERED_REQUESTS = 100_000

ChainFetcher = Callable[[str], bytes]
Clock = Callable[[], dt.datetime]

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


class VerificationFailedError(Exception):
    """The request failed a check; ``reason`` is short and safe to send back and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---- 1. the certificate chain URL ------------------------------------------------------------


def check_cert_url(url: str) -> None:
    """Raise VerificationFailedError unless ``url`` has the form Amazon documents."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise VerificationFailedError("certificate URL is not a valid URL") from None
    if parts.scheme.lower() != "https":
        raise VerificationFailedError("certificate URL must use https")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationFailedError(f"certificate URL host must be {CERT_URL_HOST}")
    if "@" in parts.netloc:  # "https://evil.example@s3.amazonaws.com/…"
        raise VerificationFailedError("certificate URL must not carry user info")
    if port is not None and port != CERT_URL_PORT:
        raise VerificationFailedError(f"certificate URL port must be {CERT_URL_PORT}")
    # Decode before normalising, so "%2e%2e" cannot climb out of /echo.api/ unnoticed.
    path = posixpath.normpath(unquote(parts.path)) if parts.path else ""
    if not path.startswith(CERT_URL_PATH_PREFIX):
        raise VerificationFailedError(
            f"certificate URL path must start with {CERT_URL_PATH_PREFIX}"
        )


# ---- 2. fetching and trusting the chain ------------------------------------------------------


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off https or off Amazon's bucket: treat it as a failed fetch."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> None:
        raise urllib.error.HTTPError(req.full_url, code, "redirect refused", headers, fp)


class HttpsChainFetcher:
    """Fetches a PEM chain over https only, with a short timeout and a size cap.

    The standard library is enough for one small GET; it keeps the webhook free of an HTTP client
    dependency. ``ssl_context`` defaults to one trusting certifi's roots.
    """

    def __init__(
        self,
        *,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        max_bytes: int = MAX_CHAIN_BYTES,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        context = ssl_context or ssl.create_default_context(cafile=certifi.where())
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _RefuseRedirects()
        )

    def __call__(self, url: str) -> bytes:
        if urlsplit(url).scheme.lower() != "https":
            raise VerificationFailedError("certificate chain can only be fetched over https")
        try:
            with self._opener.open(url, timeout=self.timeout) as response:
                data = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as error:
            error.close()  # it holds the connection open until closed
            raise
        if len(data) > self.max_bytes:
            raise VerificationFailedError("certificate chain is too large")
        return data


def load_certificates(pem_data: bytes) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle that this version of cryptography can load (used once,
    at start-up, for the trust store: it changes the process-wide warning filters briefly).

    certifi still ships a few old roots with serial number 0, which cryptography loads with a
    deprecation warning today and will refuse in a future release: keep them while they load,
    skip them quietly once they do not, rather than let one old root break start-up.
    """
    certificates = []
    for block in _PEM_BLOCK.findall(pem_data):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            try:
                certificates.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                logger.debug("skipping a certificate that cannot be parsed")
    return certificates


def certifi_roots() -> tuple[x509.Certificate, ...]:
    """The public web roots from certifi's bundle (about 7 ms to read; a verifier reads them
    once, when it is made)."""
    return tuple(load_certificates(Path(certifi.where()).read_bytes()))


@dataclass(frozen=True)
class SigningChain:
    leaf: x509.Certificate
    intermediates: list[x509.Certificate]

    @property
    def expires_at(self) -> dt.datetime:
        """When the first certificate of the chain expires: a validated chain is trusted from
        the cache until then (not past the leaf's expiry, nor past an intermediate's)."""
        return min(c.not_valid_after_utc for c in (self.leaf, *self.intermediates))

    @property
    def valid_from(self) -> dt.datetime:
        return max(c.not_valid_before_utc for c in (self.leaf, *self.intermediates))


def _dns_names(certificate: x509.Certificate) -> list[str]:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return names.value.get_values_for_type(x509.DNSName)


# ---- fetch budgets ---------------------------------------------------------------------------


class _TokenBucket:
    """``rate`` tokens a minute, at most ``rate`` saved up; by the monotonic clock, so a test's
    movable clock cannot refill it."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._tokens = float(rate)
        self._at = time.monotonic()
        self._lock = threading.Lock()

    def take(self, wait: float = 0.0) -> bool:
        """Take a token, waiting up to ``wait`` seconds for one; whether one was taken."""
        ends = time.monotonic() + wait
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.rate, self._tokens + (now - self._at) * self.rate / 60)
                self._at = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return True
                refill_in = (1 - self._tokens) * 60 / self.rate
            if now + refill_in > ends:
                return False
            time.sleep(refill_in)


class _Lanes:
    """Which URLs may be fetched now (see the module docstring)."""

    def __init__(self) -> None:
        self.known: LRUCache[str, bool] = LRUCache(maxsize=MAX_KNOWN_URLS)
        self.amazon_named = _TokenBucket(AMAZON_NAMED_FETCHES)
        self.other = _TokenBucket(OTHER_URL_FETCHES)

    def admit(self, url: str) -> float | None:
        """How long the fetch may wait for a slot, or None if the URL may not be fetched now."""
        if url in self.known:
            return FETCH_WAIT_SECONDS
        if _amazon_named(url):
            return FETCH_WAIT_SECONDS if self.amazon_named.take(FETCH_WAIT_SECONDS) else None
        return 0.0 if self.other.take() else None


def _amazon_named(url: str) -> bool:
    path = urlsplit(url.strip()).path
    return AMAZON_CERT_NAME.fullmatch(posixpath.normpath(unquote(path))) is not None


# ---- the verifier ----------------------------------------------------------------------------


class AlexaRequestVerifier:
    """Amazon's five checks. Thread-safe: the only shared state is the chain cache."""

    def __init__(
        self,
        skill_id: str,
        *,
        trust_roots: Iterable[x509.Certificate] | None = None,
        fetch_chain: ChainFetcher | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not skill_id:
            raise ValueError("a skill id is required to verify requests")
        self.skill_id = skill_id
        roots = list(certifi_roots() if trust_roots is None else trust_roots)
        if not roots:
            raise ValueError("at least one trusted root certificate is required")
        self._store = Store(roots)
        self._fetch = fetch_chain or HttpsChainFetcher()
        self._clock = clock or utc_now
        self._cache: dict[str, SigningChain] = {}
        self._lock = threading.Lock()
        # One fetch per URL at a time: later requests for the URL wait for it (url → its fetch).
        self._fetching: dict[str, _Fetch] = {}
        self._fetch_slots = threading.BoundedSemaphore(MAX_CONCURRENT_FETCHES)
        # URL → why its chain failed, kept FAILED_URL_SECONDS by the verifier's own clock.
        self._failed: TTLCache[str, str] = TTLCache(
            maxsize=MAX_FAILED_URLS, ttl=FAILED_URL_SECONDS, timer=lambda: self.now().timestamp()
        )
        self._lanes = _Lanes()
        # Request ids seen within the replay window, by the verifier's clock.
        self._seen: TTLCache[str, bool] = TTLCache(
            maxsize=MAX_REMEMBERED_REQUESTS,
            ttl=REPLAY_WINDOW.total_seconds(),
            timer=lambda: self.now().timestamp(),
        )

    def now(self) -> dt.datetime:
        moment = self._clock()
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)

    # Steps 1–3 need only the headers and the raw bytes, so they run before the body is parsed.
    def verify_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        cert_url = (headers.get(CERT_URL_HEADER) or "").strip()
        signature = (headers.get(SIGNATURE_HEADER) or "").strip()
        if not cert_url:
            raise VerificationFailedError(f"missing {CERT_URL_HEADER} header")
        if not signature:
            raise VerificationFailedError(f"missing {SIGNATURE_HEADER} header")
        signature_bytes = _signature_bytes(signature)  # before any fetch: it costs nothing
        check_cert_url(cert_url)
        chain = self._chain_for(cert_url, self.now())
        self._check_signature(chain.leaf, signature_bytes, body)

    # Steps 4–5 read the parsed envelope.
    def verify_envelope(self, envelope: Mapping[str, Any]) -> None:
        self._check_timestamp(_dig(envelope, "request", "timestamp"))
        application_id = _dig(envelope, "context", "System", "application", "applicationId")
        if application_id != self.skill_id:
            raise VerificationFailedError("request is for a different skill")
        self._check_first_time(_dig(envelope, "request", "requestId"))

    def _check_first_time(self, request_id: Any) -> None:
        """Refuse a request id seen within the replay window; remember this one. Only signed
        requests get here, so only ids Alexa issued are remembered."""
        if not isinstance(request_id, str) or not request_id:
            raise VerificationFailedError("request has no requestId")
        with self._lock:
            if request_id in self._seen:
                raise VerificationFailedError("request was already received (a replay)")
            self._seen[request_id] = True

    def _chain_for(self, url: str, now: dt.datetime) -> SigningChain:
        """The validated chain for ``url``: from the cache while every certificate in it is
        current, otherwise fetched and validated once, however many requests ask at once."""
        with self._lock:
            cached = self._cache.get(url)
            if cached is not None and cached.valid_from <= now < cached.expires_at:
                return cached
            failed = self._failed.get(url)
            if failed is not None:
                raise VerificationFailedError(f"{failed} (not retried yet)")
            fetch = self._fetching.get(url)
            leading = fetch is None
            if fetch is None:
                fetch = self._fetching[url] = _Fetch()
        if not leading:
            # The fetcher's timeout bounds the leader's fetch; the margin covers the checks.
            fetch.done.wait(FETCH_TIMEOUT_SECONDS + 1.0)
            if fetch.chain is None:
                raise VerificationFailedError(
                    fetch.failure or "could not fetch the certificate chain"
                )
            return fetch.chain
        try:
            fetch.chain = self._fetch_and_check(url, now)
            self._remember(url, fetch.chain, now)
            return fetch.chain
        except VerificationFailedError as error:
            fetch.failure = error.reason
            raise
        finally:
            with self._lock:
                del self._fetching[url]
            fetch.done.set()

    def _fetch_and_check(self, url: str, now: dt.datetime) -> SigningChain:
        wait = self._lanes.admit(url)
        if wait is None:
            raise VerificationFailedError(
                "too many new certificate URLs; this one was not fetched (try again shortly)"
            )
        slots = self._fetch_slots
        if not (slots.acquire(timeout=wait) if wait else slots.acquire(blocking=False)):
            raise VerificationFailedError("too many certificate chains are being fetched")
        try:
            chain = self._download(url)
            self._check_chain(chain, now)
        except VerificationFailedError as error:
            # Only a chain that validated is cached; one that did not is refused for a while
            # without being fetched again, so a flood naming it costs one fetch.
            with self._lock:
                self._failed[url] = error.reason
            raise
        finally:
            self._fetch_slots.release()
        return chain

    def _download(self, url: str) -> SigningChain:
        try:
            pem_data = self._fetch(url)
        except VerificationFailedError:
            raise
        except Exception as exc:  # any network or HTTP failure means the same thing here
            logger.warning(
                "could not fetch the certificate chain from %s: %s",
                clip(url, MAX_LOGGED_URL),
                clip(exc, MAX_LOGGED_URL),
            )
            raise VerificationFailedError("could not fetch the certificate chain") from None
        try:
            certificates = x509.load_pem_x509_certificates(pem_data)
        except ValueError:
            raise VerificationFailedError("certificate chain is not a PEM bundle") from None
        return SigningChain(leaf=certificates[0], intermediates=certificates[1:])

    def _remember(self, url: str, chain: SigningChain, now: dt.datetime) -> None:
        with self._lock:
            for stale in [key for key, value in self._cache.items() if value.expires_at <= now]:
                del self._cache[stale]
            if len(self._cache) >= MAX_CACHED_CHAINS:
                del self._cache[min(self._cache, key=lambda key: self._cache[key].expires_at)]
            self._cache[url] = chain
            self._lanes.known[url] = True

    def _check_chain(self, chain: SigningChain, now: dt.datetime) -> None:
        leaf = chain.leaf
        # The path validation below checks these too; checking first gives a clearer reason.
        if now < leaf.not_valid_before_utc:
            raise VerificationFailedError("signing certificate is not valid yet")
        if now > leaf.not_valid_after_utc:
            raise VerificationFailedError("signing certificate has expired")
        # The validator would also accept a wildcard such as *.amazon.com; Amazon asks for the
        # name itself. DNS names compare case-insensitively.
        if ECHO_DOMAIN not in (name.lower() for name in _dns_names(leaf)):
            raise VerificationFailedError(f"signing certificate is not for {ECHO_DOMAIN}")
        public_key = leaf.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise VerificationFailedError("signing certificate does not hold an RSA key")
        if public_key.key_size < MIN_RSA_KEY_BITS:
            raise VerificationFailedError(
                f"signing certificate's RSA key is shorter than {MIN_RSA_KEY_BITS} bits"
            )
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .build_server_verifier(x509.DNSName(ECHO_DOMAIN))
        )
        try:
            verifier.verify(leaf, chain.intermediates)
        except VerificationError as exc:
            logger.warning("certificate chain rejected: %s", clip(exc, 200))
            raise VerificationFailedError("certificate chain is not trusted") from None

    @staticmethod
    def _check_signature(leaf: x509.Certificate, signature: bytes, body: bytes) -> None:
        public_key = leaf.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)  # _check_chain made sure
        try:
            public_key.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise VerificationFailedError("signature does not match the request body") from None

    def _check_timestamp(self, value: Any) -> None:
        if not isinstance(value, str):
            raise VerificationFailedError("request has no timestamp")
        try:
            stamp = dt.datetime.fromisoformat(value)
        except ValueError:
            raise VerificationFailedError("request timestamp is not an ISO 8601 time") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        age = self.now() - stamp
        if age > TIMESTAMP_TOLERANCE:
            raise VerificationFailedError("request timestamp is too old")
        if -age > TIMESTAMP_TOLERANCE:
            raise VerificationFailedError("request timestamp is in the future")


def _signature_bytes(signature: str) -> bytes:
    try:
        decoded = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationFailedError(f"{SIGNATURE_HEADER} header is not base64") from None
    if len(decoded) not in SIGNATURE_BYTES:
        raise VerificationFailedError(
            f"{SIGNATURE_HEADER} header is not an RSA signature of {MIN_RSA_KEY_BITS} bits or more"
        )
    return decoded


@dataclass
class _Fetch:
    """One fetch of a chain that other requests for the same URL wait for."""

    done: threading.Event = field(default_factory=threading.Event)
    chain: SigningChain | None = None
    failure: str | None = None


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data
