"""Reactions (``protocol.Reaction``), shown over the sender's tile to everyone. Each participant
has a small budget of them, so that nobody floods the meeting: beyond it a reaction is refused
with ``rate_limited`` (the sender learns it did not go out; nobody else hears of it)."""

from __future__ import annotations

import time
from collections.abc import Callable

from rathaus.errors import RateLimited
from rathaus.meetings.ratelimit import TokenBucket

# Five at once (applause), then one a second.
RATE, BURST = 1.0, 5.0


class ReactionBudget:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, participant_id: str) -> None:
        now = self._clock()
        bucket = self._buckets.setdefault(participant_id, TokenBucket(RATE, BURST, now))
        if not bucket.take(now):
            raise RateLimited("too many reactions; slow down")

    def forget(self, participant_id: str) -> None:
        self._buckets.pop(participant_id, None)
