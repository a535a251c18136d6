"""The installation's secret key, generated at first start and kept in the data directory,
values signed with it (so a browser can hold them without being able to forge them), and the
pseudonyms keyed with it under which the log mentions addresses and user names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from rathaus.datadir import PRIVATE_FILE, private_dir, private_file

KEY_FILE = "secret_key"


def load_or_create_key(data_dir: Path) -> bytes:
    """The key in ``<data_dir>/secret_key`` (made 0600 if it was not), made at first start."""
    path = data_dir / KEY_FILE
    private_file(path)
    try:
        return base64.b64decode(path.read_bytes(), validate=True)
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    private_dir(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key))
    return key


class Pseudonyms:
    """Short keyed hashes of what must not be logged (an address, a user name): one installation
    always gives the same value the same pseudonym, so that log lines can be correlated, and
    without its secret key nobody can find whose it is by hashing guesses."""

    def __init__(self, key: bytes) -> None:
        self._key = hmac.new(key, b"log-pseudonym", hashlib.sha256).digest()

    @classmethod
    def ephemeral(cls) -> Pseudonyms:
        """Pseudonyms under a random key of their own (stable only while the process runs)."""
        return cls(secrets.token_bytes(32))

    def __call__(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()[:12]


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        # One derived key per purpose: a value signed for one use is worthless for another.
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def sign(self, value: str) -> str:
        data = _b64(value.encode())
        return f"{data}.{self._mac(data)}"

    def unsign(self, token: str) -> str | None:
        """The value, if ``token`` is exactly what :meth:`sign` made of it: one spelling only
        (no padding, no other bits in the last character, nothing after the MAC)."""
        data, _, mac = token.partition(".")
        if _B64URL.fullmatch(data) is None:
            return None
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), self._mac(data).encode()):
            return None
        try:
            raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
            return raw.decode() if _b64(raw) == data else None
        except (ValueError, UnicodeDecodeError):
            return None

    def _mac(self, data: str) -> str:
        return _b64(hmac.new(self._key, data.encode(), hashlib.sha256).digest())


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(raw: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
