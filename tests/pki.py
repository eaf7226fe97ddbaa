"""A small certificate authority made in the test: root CA → intermediate → signing leaf.

The certificates carry the extensions a web-PKI verifier insists on (basic constraints, key
usage, extended key usage, subject and authority key identifiers), so the webhook's verifier
accepts the good chain for the same reasons it would accept Amazon's, and each bad chain differs
from the good one in exactly one way.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from dataclasses import dataclass, field
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ECHO_DOMAIN = "echo-api.amazon.com"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


def rsa_key(label: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """One key per label (2048 bits unless told) for the whole test run (key generation is the
    slow part)."""
    return _rsa_key(label, bits)


@cache
def _rsa_key(label: str, bits: int) -> rsa.RSAPrivateKey:
    del label  # only the cache key
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Restless Legs Coach tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Issuer:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey


def make_root(label: str, now: dt.datetime) -> Issuer:
    key = rsa_key(label)
    name = _name(f"{label} root CA")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issuer(certificate, key)


def make_intermediate(label: str, root: Issuer, now: dt.datetime) -> Issuer:
    day = dt.timedelta(days=1)
    return make_intermediate_with_dates(label, root, now - 1000 * day, now + 1000 * day)


def make_intermediate_with_dates(
    label: str, root: Issuer, not_before: dt.datetime, not_after: dt.datetime
) -> Issuer:
    key = rsa_key(label)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(f"{label} intermediate CA"))
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()),
            critical=False,
        )
        .sign(root.key, hashes.SHA256())
    )
    return Issuer(certificate, key)


def make_leaf(
    issuer: Issuer,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    dns_names: tuple[str, ...] = (ECHO_DOMAIN,),
    ip_addresses: tuple[str, ...] = (),
    label: str = "leaf",
    key_bits: int = 2048,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa_key(label, key_bits)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name((dns_names or ip_addresses)[0]))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
        .sign(issuer.key, hashes.SHA256())
    )
    return certificate, key


def pem(*certificates: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def sign(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """The ``Signature-256`` header Alexa would send: base64 RSA PKCS#1 v1.5 SHA-256."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class FakeS3:
    """Serves certificate chains by URL in place of Amazon's bucket, and counts the fetches."""

    chains: dict[str, bytes] = field(default_factory=dict)
    fallback: bytes | None = None  # served for any other URL
    fetches: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> bytes:
        self.fetches.append(url)
        chain = self.chains.get(url, self.fallback)
        if chain is None:
            raise OSError(f"404 for {url}")
        return chain


@dataclass
class MovableClock:
    """The verifier's clock, set by the test."""

    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass(frozen=True)
class AlexaPKI:
    """A trusted root, its intermediate and a good signing leaf, plus leaves and chains that are
    each wrong in one way. Every chain is served at its own URL under /echo.api/."""

    root: Issuer
    intermediate: Issuer
    leaf: x509.Certificate
    leaf_key: rsa.RSAPrivateKey
    chains: dict[str, bytes]

    @classmethod
    def build(cls, now: dt.datetime) -> AlexaPKI:
        root = make_root("alexa-test", now)
        intermediate = make_intermediate("alexa-test-intermediate", root, now)
        day = dt.timedelta(days=1)

        def leaf(**kwargs: object) -> x509.Certificate:
            dates = {"not_before": now - 30 * day, "not_after": now + 30 * day}
            return make_leaf(intermediate, **{**dates, **kwargs})[0]  # type: ignore[arg-type]

        good = leaf()
        stranger_root = make_root("stranger", now)
        stranger_intermediate = make_intermediate("stranger-intermediate", stranger_root, now)
        stranger_leaf, _ = make_leaf(
            stranger_intermediate, not_before=now - 30 * day, not_after=now + 30 * day
        )
        expired_intermediate = make_intermediate_with_dates(
            "alexa-test-intermediate", root, now - 400 * day, now - day
        )
        stale_leaf, _ = make_leaf(
            expired_intermediate, not_before=now - 30 * day, not_after=now + 30 * day
        )
        chains = {
            CERT_URL: pem(good, intermediate.certificate),
            url("expired"): pem(
                leaf(not_before=now - 60 * day, not_after=now - day), intermediate.certificate
            ),
            url("not-yet-valid"): pem(
                leaf(not_before=now + day, not_after=now + 60 * day), intermediate.certificate
            ),
            url("wrong-name"): pem(
                leaf(dns_names=("echo-api.amazon.com.example.net",)), intermediate.certificate
            ),
            url("wildcard"): pem(leaf(dns_names=("*.amazon.com",)), intermediate.certificate),
            url("weak-key"): pem(leaf(label="weak-leaf", key_bits=1024), intermediate.certificate),
            url("untrusted-root"): pem(stranger_leaf, stranger_intermediate.certificate),
            url("no-intermediate"): pem(good),
            url("expired-intermediate"): pem(stale_leaf, expired_intermediate.certificate),
            url("not-pem"): b"<html>Access Denied</html>",
        }
        return cls(root, intermediate, good, rsa_key("leaf"), chains)


def url(name: str) -> str:
    return f"https://s3.amazonaws.com/echo.api/{name}.pem"
