"""The event bus: small opaque events (bytes) on named topics, to every process's subscribers.

Chat messages are stored in the database first; the bus only tells the WebSockets of every
Rathaus process that something happened. Two implementations: :class:`~rathaus.bus.memory.MemoryBus`
(one process, the embedded default) and :class:`~rathaus.bus.redis.RedisBus` (Redis pub/sub,
several processes on one PostgreSQL). :func:`create_bus` picks one from ``[bus] url``.

Handlers are plain functions run on the event loop, in publish order per topic; an exception in
one is logged and stops neither the other handlers nor the bus. A handler called with ``None``
must catch up from the database: events may have been lost (Redis reconnected).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Protocol
from urllib.parse import urlsplit

from rathaus.errors import ConfigError

__all__ = ["Bus", "Handler", "Subscription", "create_bus", "deliver"]

logger = logging.getLogger(__name__)

# An event's payload, or None: "events may have been lost, catch up from the database".
Handler = Callable[[bytes | None], None]

REDIS_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_PREFIX = "rathaus:"


class Subscription:
    """One handler on one topic. ``close()`` is idempotent; after it the handler is never
    called again (not even by an event already being delivered)."""

    def __init__(self, topic: str, handler: Handler, on_close: Callable[[Subscription], None]):
        self.topic = topic
        self.handler = handler
        self._on_close = on_close
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._on_close(self)

    def deliver(self, payload: bytes | None) -> None:
        if self.closed:
            return
        try:
            self.handler(payload)
        except Exception:
            # Never the payload (chat contents): only which handler failed, and why.
            name = getattr(self.handler, "__qualname__", type(self.handler).__name__)
            logger.exception("event bus handler %s failed", name)


def deliver(subscriptions: Iterable[Subscription], payload: bytes | None) -> None:
    """Call each handler in turn; a copy, so a handler may close subscriptions meanwhile."""
    for subscription in tuple(subscriptions):
        subscription.deliver(payload)


class Bus(Protocol):
    async def start(self) -> None:
        """Connect (Redis); raises BusUnavailable when that fails."""

    async def close(self) -> None:
        """Stop delivering, close connections; waiting ``subscribe`` calls raise BusUnavailable."""

    async def publish(self, topic: str, payload: bytes) -> None:
        """Send ``payload`` to every handler of ``topic`` in every process; raises
        BusUnavailable when that is impossible (Redis down, bus closed)."""

    async def subscribe(self, topic: str, handler: Handler) -> Subscription:
        """Returns once the subscription is active: any event published after that reaches
        ``handler``. So subscribe, then read the database, then rely on live events."""


def create_bus(url: str, *, prefix: str = DEFAULT_PREFIX) -> Bus:
    """``""``: in-process; ``redis://``, ``rediss://``, ``unix://``: Redis pub/sub, its topics
    prefixed with ``prefix`` (several installations may share one Redis)."""
    # Imported here: both modules import this one, and a single process never loads redis-py.
    if not url:
        from rathaus.bus.memory import MemoryBus

        return MemoryBus()
    # Never the URL itself in the message: it may hold a password.
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme not in REDIS_SCHEMES:
        raise ConfigError(
            "the event bus URL ([bus] url) must be empty (one process) or start with "
            "redis://, rediss:// or unix://"
        )
    from rathaus.bus.redis import RedisBus

    try:
        return RedisBus(url, prefix=prefix)
    except ValueError as exc:  # redis-py's URL parser: a bad port, db or option
        raise ConfigError(f"the event bus URL ([bus] url) is not a valid Redis URL: {exc}") from exc
