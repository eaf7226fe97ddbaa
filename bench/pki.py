"""A test certificate authority on disk, so server processes can verify signed requests.

The load and start-up benchmarks run both webhooks with verification on. Amazon's chain cannot be
fetched here, so the parent makes a root → intermediate → signing leaf (the test suite's own
``tests.pki``) and writes it to a directory; each server process trusts that root and is handed
the chain for the certificate URL instead of fetching it; the load generator signs with the leaf.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT_FILE = "root.pem"
CHAIN_FILE = "chain.pem"
KEY_FILE = "leaf-key.pem"
# Passes the verifier's URL checks (https, s3.amazonaws.com, /echo.api/); never fetched.
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-bench.pem"


@dataclass(frozen=True)
class SigningPKI:
    root: x509.Certificate
    chain_pem: bytes
    leaf_key: rsa.RSAPrivateKey
    cert_url: str = CERT_URL

    @classmethod
    def create(cls, directory: Path) -> SigningPKI:
        from tests.pki import (  # noqa: PLC0415 - key generation only in the parent
            key_pem,
            make_intermediate,
            make_leaf,
            make_root,
            pem,
        )

        now = dt.datetime.now(dt.UTC)
        root = make_root("bench-root", now)
        intermediate = make_intermediate("bench-intermediate", root, now)
        leaf, key = make_leaf(
            intermediate,
            not_before=now - dt.timedelta(days=1),
            not_after=now + dt.timedelta(days=30),
            label="bench-leaf",
        )
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ROOT_FILE).write_bytes(pem(root.certificate))
        (directory / CHAIN_FILE).write_bytes(pem(leaf, intermediate.certificate))
        (directory / KEY_FILE).write_bytes(key_pem(key))
        return cls.load(directory)

    @classmethod
    def load(cls, directory: Path) -> SigningPKI:
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{directory / KEY_FILE} does not hold an RSA key")
        return cls(
            root=x509.load_pem_x509_certificate((directory / ROOT_FILE).read_bytes()),
            chain_pem=(directory / CHAIN_FILE).read_bytes(),
            leaf_key=key,
        )

    def fetch_chain(self, url: str) -> bytes:
        """Stands in for Amazon's bucket: the chain at the one URL the requests are signed for."""
        if url != self.cert_url:
            raise OSError(f"no chain at {url}")
        return self.chain_pem

    def headers(self, body: bytes) -> dict[str, str]:
        from tests.pki import sign  # noqa: PLC0415

        return {"SignatureCertChainUrl": self.cert_url, "Signature-256": sign(self.leaf_key, body)}
