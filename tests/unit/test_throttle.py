"""Lockouts, and how the log names what was locked: by a keyed pseudonym, never by the key
itself nor by a plain hash of it that anyone could recompute from a guess."""

import hashlib
import logging

import pytest

from rathaus.accounts.throttle import Throttle
from rathaus.secrets_store import Pseudonyms

KEY = "address:203.0.113.9"


def lock(throttle: Throttle, caplog: pytest.LogCaptureFixture) -> str:
    """Lock KEY; the log line that says so."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rathaus.accounts.throttle"):
        for t in range(3):
            throttle.failed(KEY, now=float(t))
    assert throttle.locked(KEY, now=3.0)
    (record,) = caplog.records
    return record.getMessage()


def throttle(pseudonyms: Pseudonyms | None) -> Throttle:
    return Throttle("sign-in", max_failures=3, window=60, lockout=60, pseudonyms=pseudonyms)


def test_the_log_names_a_key_by_the_installations_pseudonym(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = Pseudonyms(b"k" * 32), Pseudonyms(b"l" * 32)
    line = lock(throttle(ours), caplog)
    assert line.endswith(f"(key {ours(KEY)})")
    assert "203.0.113.9" not in line
    assert hashlib.sha256(KEY.encode()).hexdigest()[:10] not in line  # the old, unkeyed one
    # The same installation always gives the same pseudonym; another installation another.
    assert Pseudonyms(b"k" * 32)(KEY) == ours(KEY) != theirs(KEY)
    assert lock(throttle(theirs), caplog).endswith(f"(key {theirs(KEY)})")


def test_without_the_installations_key_the_pseudonym_is_still_keyed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = lock(throttle(None), caplog), lock(throttle(None), caplog)
    assert hashlib.sha256(KEY.encode()).hexdigest()[:10] not in first
    assert first != second  # a random key each
