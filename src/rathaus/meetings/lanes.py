"""Work lanes: the messages about one peer connection are handled in order, while different peer
connections (a publication, each subscription) make progress side by side.

A late joiner's subscriptions to ten feeds thus wait for Janus ten times at once rather than one
after the other, and a trickle candidate still always follows the SDP it belongs to.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lanes(Generic[T]):
    def __init__(
        self, handle: Callable[[T], Awaitable[None]], *, max_lanes: int, depth: int
    ) -> None:
        self._handle = handle
        self._max_lanes = max_lanes
        self._depth = depth
        self._lanes: dict[str, collections.deque[T]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def submit(self, lane: str, item: T) -> bool:
        """Queue ``item`` behind the others of its lane; False when lanes or lane are full."""
        if self._closed:
            return False
        queue = self._lanes.get(lane)
        if queue is None:
            if len(self._lanes) >= self._max_lanes:
                return False
            queue = self._lanes[lane] = collections.deque([item])
            self._tasks[lane] = asyncio.get_running_loop().create_task(self._run(lane, queue))
            return True
        if len(queue) >= self._depth:
            return False
        queue.append(item)
        return True

    async def _run(self, lane: str, queue: collections.deque[T]) -> None:
        try:
            while queue:
                await self._handle(queue[0])  # stays queued while handled: submit appends here
                queue.popleft()
        finally:
            del self._lanes[lane]
            del self._tasks[lane]

    async def close(self, grace: float = 5.0) -> None:
        """Drop what is queued; let what is running finish (a `leave` or `end` must not stop
        halfway because its own socket closed), cancelling it after ``grace`` seconds."""
        self._closed = True
        for queue in self._lanes.values():
            while len(queue) > 1:
                queue.pop()
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
