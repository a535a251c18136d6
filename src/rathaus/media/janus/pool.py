"""A pool of Janus nodes: each meeting goes to the least-loaded healthy node."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field

from rathaus.errors import JanusUnavailable

from .client import JanusClient


@dataclass(frozen=True)
class JanusNode:
    """One Janus node as configured: a name for logs and metrics, its WebSocket URL, its secret."""

    name: str
    url: str
    api_secret: str | None = field(default=None, repr=False)


class JanusPool:
    """One :class:`JanusClient` per node, with a count of the meetings placed on each."""

    def __init__(self, nodes: Iterable[JanusNode], *, request_timeout: float = 10.0) -> None:
        self.nodes = list(nodes)
        if not self.nodes:
            raise ValueError("a Janus pool needs at least one node")
        self.clients: dict[str, JanusClient] = {
            n.name: JanusClient(n.url, n.api_secret, request_timeout=request_timeout)
            for n in self.nodes
        }
        self._load: dict[JanusClient, int] = dict.fromkeys(self.clients.values(), 0)

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

    def load(self, client: JanusClient) -> int:
        return self._load[client]

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients.values()))
