"""Room identifiers in links: ``/r/<slug>``."""

from __future__ import annotations

import re
import secrets
import unicodedata

SLUG_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")  # fullmatch: no final newline
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def is_valid_slug(value: str) -> bool:
    return SLUG_PATTERN.fullmatch(value) is not None


def slugify(name: str) -> str:
    """A readable link part for a room name: "Bezirksausschuss Süd" -> "bezirksausschuss-sued"."""
    text = unicodedata.normalize("NFKC", name).lower().translate(_GERMAN)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64].strip("-")
    return text or random_slug()


def random_slug() -> str:
    return secrets.token_hex(6)
