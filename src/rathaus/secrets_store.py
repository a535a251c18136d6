"""The installation's secret key, generated at first start and kept in the data directory,
and values signed with it (so a browser can hold them without being able to forge them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "secret_key"


def load_or_create_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    try:
        return base64.b64decode(path.read_bytes(), validate=True)
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key))
    return key


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        # One derived key per purpose: a value signed for one use is worthless for another.
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def sign(self, value: str) -> str:
        data = base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")
        mac = hmac.new(self._key, data.encode(), hashlib.sha256).digest()
        return f"{data}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"

    def unsign(self, token: str) -> str | None:
        data, _, mac = token.partition(".")
        expected = hmac.new(self._key, data.encode(), hashlib.sha256).digest()
        try:
            given = base64.urlsafe_b64decode(mac + "=" * (-len(mac) % 4))
            if not hmac.compare_digest(given, expected):
                return None
            return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
