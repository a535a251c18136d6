"""Raised hands: who asks to speak, in the order they asked.

Plain state without I/O: the meeting tells everyone when it changes. A browser's button and,
later, a phone's ``*1`` both end up here (through :meth:`Meeting.raise_hand`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rathaus.meetings.server_messages import RaisedHand


class HandQueue:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._raised: dict[str, float] = {}  # participant id → when; dicts keep the order

    def raise_(self, participant_id: str) -> bool:
        """Whether anything changed: a hand raised again keeps its place in the queue."""
        if participant_id in self._raised:
            return False
        self._raised[participant_id] = self._clock()
        return True

    def lower(self, participant_id: str) -> bool:
        """Whether the hand was up; those behind it move up one place."""
        return self._raised.pop(participant_id, None) is not None

    def is_raised(self, participant_id: str) -> bool:
        return participant_id in self._raised

    def listed(self) -> list[RaisedHand]:
        return [
            RaisedHand(participant=pid, position=n, raised_at=at)
            for n, (pid, at) in enumerate(self._raised.items(), start=1)
        ]
