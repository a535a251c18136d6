"""Device identities as a browser makes them: X25519 and Ed25519 key pairs, of which only the
raw public keys are published (base64url, unpadded)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TestDevice:
    __test__ = False  # not a pytest class

    id: str
    agreement: X25519PrivateKey
    signing: Ed25519PrivateKey

    @classmethod
    def new(cls) -> TestDevice:
        return cls(
            secrets.token_urlsafe(12), X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        )

    def public(self, e2ee: bool = True) -> dict[str, Any]:
        raw = (Encoding.Raw, PublicFormat.Raw)
        return {
            "id": self.id,
            "x25519": b64url(self.agreement.public_key().public_bytes(*raw)),
            "ed25519": b64url(self.signing.public_key().public_bytes(*raw)),
            "e2ee": e2ee,
        }

    def private_values(self) -> list[str]:
        """Every encoding of the private keys a browser could leak, for tests that look for them."""
        values = []
        for key in (self.agreement, self.signing):
            raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
            pkcs8 = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
            values += [b64url(raw), b64url(pkcs8), raw.hex()]
        return values
