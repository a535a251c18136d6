"""Temporary lockout after repeated failed attempts (sign-in, room passwords).

Kept in memory: failures per key (a user name, a room, an address) within a window; a key with
too many failures is locked for a while. Keys are used here only: the log names a locked key by
its pseudonym, a keyed hash (``secrets_store.Pseudonyms``), never by itself.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from rathaus.secrets_store import Pseudonyms

log = logging.getLogger(__name__)


class Throttle:
    def __init__(
        self,
        what: str,
        *,
        max_failures: int,
        window: float,
        lockout: float,
        max_keys: int = 100_000,
        pseudonyms: Callable[[str], str] | None = None,
    ) -> None:
        self._what = what
        # The installation's (app.py); without one, a random key: never a plain hash, which
        # anyone could reverse by hashing the addresses or names they suspect.
        self._pseudonym = pseudonyms or Pseudonyms.ephemeral()
        self._max = max_failures
        self._window = window
        self._lockout = lockout
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}

    def locked(self, *keys: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return any(self._locked_until.get(key, 0.0) > now for key in keys)

    def failed(self, *keys: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._failures) > self._max_keys:  # bounded memory under a spray of names
            self._failures.clear()
        for key in keys:
            failures = self._failures.setdefault(key, deque())
            failures.append(now)
            while failures and failures[0] <= now - self._window:
                failures.popleft()
            if len(failures) >= self._max and self._locked_until.get(key, 0.0) <= now:
                self._locked_until[key] = now + self._lockout
                failures.clear()
                log.warning(
                    "%s locked for %d s after %d failed attempts (key %s)",
                    self._what,
                    self._lockout,
                    self._max,
                    self._pseudonym(key),
                )

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
