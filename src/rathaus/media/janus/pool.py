"""A pool of Janus nodes: each meeting goes to the least-loaded healthy node."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from rathaus.errors import JANUS_FAILURES, JanusUnavailable

from . import videoroom
from .client import KEEPALIVE_INTERVAL, JanusClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JanusNode:
    """One Janus node as configured: a name for logs and metrics, its WebSocket URL, its secret."""

    name: str
    url: str
    api_secret: str | None = field(default=None, repr=False)


class JanusPool:
    """One :class:`JanusClient` per node, with a count of the meetings placed on each."""

    def __init__(
        self,
        nodes: Iterable[JanusNode],
        *,
        request_timeout: float = 10.0,
        keepalive_interval: float = KEEPALIVE_INTERVAL,
    ) -> None:
        self.nodes = list(nodes)
        if not self.nodes:
            raise ValueError("a Janus pool needs at least one node")
        self.clients: dict[str, JanusClient] = {
            n.name: JanusClient(
                n.url,
                n.api_secret,
                request_timeout=request_timeout,
                keepalive_interval=keepalive_interval,
            )
            for n in self.nodes
        }
        self._load: dict[JanusClient, int] = dict.fromkeys(self.clients.values(), 0)
        # VideoRoom rooms of meetings that lost their node: removed when it is back.
        self._orphans: dict[JanusClient, set[int]] = {}
        self._sweeps: set[asyncio.Task[None]] = set()
        for client in self.clients.values():
            client.add_listener(on_up=lambda c=client: self._sweep_soon(c))  # type: ignore[misc]

    async def start(self, *, wait: bool = True) -> None:
        """Connect every node. With ``wait``, wait until each has connected or timed out; a node
        that is down keeps reconnecting in the background. Raises JanusUnavailable when no node
        is up."""
        await asyncio.gather(*(c.connect(wait=False) for c in self.clients.values()))
        if wait:
            results = await asyncio.gather(
                *(c.connect(wait=True) for c in self.clients.values()), return_exceptions=True
            )
            for r in results:
                if isinstance(r, BaseException) and not isinstance(r, JanusUnavailable):
                    raise r
            if not any(c.connected for c in self.clients.values()):
                raise JanusUnavailable("no Janus node is reachable")

    def pick(self) -> JanusClient:
        """The connected node with the fewest active meetings (first configured wins ties)."""
        healthy = [c for c in self.clients.values() if c.connected]
        if not healthy:
            raise JanusUnavailable("no Janus node is reachable")
        return min(healthy, key=lambda c: self._load[c])

    def acquire(self, client: JanusClient) -> None:
        """Count one more meeting on ``client``."""
        self._load[client] += 1

    def release(self, client: JanusClient) -> None:
        """Count one meeting less on ``client``."""
        self._load[client] = max(0, self._load[client] - 1)

    def orphan(self, client: JanusClient, room: int) -> None:
        """A room left behind on ``client``'s node by a meeting that lost the connection."""
        self._orphans.setdefault(client, set()).add(room)
        if client.connected:  # still up (a request failed, not the node): sweep now
            self._sweep_soon(client)

    def _sweep_soon(self, client: JanusClient) -> None:
        if self._orphans.get(client):
            task = asyncio.get_running_loop().create_task(self._sweep(client))
            self._sweeps.add(task)
            task.add_done_callback(self._sweeps.discard)

    async def _sweep(self, client: JanusClient) -> None:
        rooms = self._orphans.pop(client, set())
        try:
            session = await client.create_session()
        except JANUS_FAILURES:
            self._orphans.setdefault(client, set()).update(rooms)  # next time it is up
            return
        left = set(rooms)
        try:
            handle = await session.attach(videoroom.PLUGIN)
            for room in rooms:
                await videoroom.destroy_room(handle, room)  # one gone already is fine
                left.discard(room)
        except JANUS_FAILURES:
            log.warning("could not remove %d orphaned rooms from a Janus node yet", len(left))
            self._orphans.setdefault(client, set()).update(left)  # again when it is back
        finally:
            with contextlib.suppress(*JANUS_FAILURES):
                await session.destroy()

    def load(self, client: JanusClient) -> int:
        return self._load[client]

    async def close(self) -> None:
        for task in list(self._sweeps):
            task.cancel()
        await asyncio.gather(*self._sweeps, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self.clients.values()))
