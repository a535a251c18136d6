"""A token bucket: ``rate`` tokens per second, at most ``burst`` saved up."""

from __future__ import annotations

import time


class TokenBucket:
    def __init__(self, rate: float, burst: float, now: float | None = None) -> None:
        """Full at ``now`` (a caller with a clock of its own passes that clock's time)."""
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._last = time.monotonic() if now is None else now

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False
