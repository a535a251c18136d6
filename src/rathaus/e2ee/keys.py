"""Validation of what devices publish (raw public keys) and send (opaque key envelopes).

Pure functions without I/O; the wire models in ``rathaus.meetings.protocol`` use them. Error
messages never repeat the value they refuse, so that nothing a client sent ends up in a log.
"""

from __future__ import annotations

import base64
import re
from typing import Any

PUBLIC_KEY_BYTES = 32  # raw X25519 and Ed25519 public keys (RFC 7748, RFC 8032)
MAX_ENVELOPE_BYTES = 4096
MIN_ENVELOPE_BYTES = 16  # an AES-GCM tag at least
DEVICE_ID = r"^[A-Za-z0-9_-]{1,64}$"

_B64URL = re.compile(r"[A-Za-z0-9_-]*")  # with fullmatch: `$` would allow a final newline
# DER prefixes of PKCS#8 private keys for X25519 and Ed25519 (RFC 8410): what
# `exportKey("pkcs8")` would give, base64url-decoded.
_PKCS8_PREFIXES = (
    bytes.fromhex("302e020100300506032b656e04220420"),  # X25519
    bytes.fromhex("302e020100300506032b657004220420"),  # Ed25519
)
_P = 2**255 - 19
# X25519 public values of small order (and their non-canonical encodings): an agreement with
# one of them gives a predictable secret. The top bit is ignored, as RFC 7748 says.
_SMALL_ORDER = frozenset(
    {
        0,
        1,
        int.from_bytes(
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            "little",
        ),
        _P - 1,
        _P,
        _P + 1,
    }
)


class KeyRefused(ValueError):
    """A key or envelope that Rathaus does not accept (pydantic turns it into `bad_message`)."""


def b64url_decode(value: str, what: str) -> bytes:
    """Unpadded, canonical base64url (RFC 4648 §5, as in JWK): one encoding per byte string."""
    if _B64URL.fullmatch(value) is None or len(value) % 4 == 1:
        raise KeyRefused(f"{what} must be unpadded base64url")
    data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode() != value:
        raise KeyRefused(f"{what} is not canonical base64url")
    return data


def refuse_private_key(value: Any, what: str) -> None:
    """Refuse, with a message that says so, anything that looks like a private key."""
    if isinstance(value, dict) and "d" in value:
        raise KeyRefused(f"{what} is a private JWK ('d'); send only the raw public key")
    if isinstance(value, str) and "PRIVATE KEY" in value.upper():
        raise KeyRefused(f"{what} is a private key (PEM); send only the raw public key")


def public_key(value: str, what: str, *, x25519: bool) -> str:
    """A raw 32-byte public key in base64url; returns it unchanged."""
    data = b64url_decode(value, what)
    if any(data.startswith(prefix) for prefix in _PKCS8_PREFIXES):
        raise KeyRefused(f"{what} is a private key (PKCS#8); send only the raw public key")
    if len(data) != PUBLIC_KEY_BYTES:
        raise KeyRefused(f"{what} must be a raw {PUBLIC_KEY_BYTES}-byte public key")
    if x25519 and int.from_bytes(data, "little") & ~(1 << 255) in _SMALL_ORDER:
        raise KeyRefused(f"{what} is not a usable X25519 public key (small order)")
    return value


def envelope(value: str) -> str:
    """An opaque key envelope: base64url of 16 to 4096 bytes; returns it unchanged."""
    if len(value) > (MAX_ENVELOPE_BYTES * 4 + 2) // 3:
        raise KeyRefused(f"an envelope may have at most {MAX_ENVELOPE_BYTES} bytes")
    data = b64url_decode(value, "the envelope")
    if len(data) < MIN_ENVELOPE_BYTES:
        raise KeyRefused(f"an envelope has at least {MIN_ENVELOPE_BYTES} bytes")
    return value
