"""The Redis event bus: pub/sub, for several Rathaus processes on one PostgreSQL.

One pub/sub connection per process, however many subscribers: a topic is SUBSCRIBEd when its
first local handler appears and UNSUBSCRIBEd when its last one closes. One reader task dispatches
every event to the local handlers; one writer task sends SUBSCRIBE, UNSUBSCRIBE and PING, computed
from the topics' state when it runs, so the wire always ends where the latest decision is. PUBLISH
goes through a pool of other connections. Topics are prefixed (``rathaus:``), so that several
installations may share one Redis.

When the connection drops, the bus reconnects with capped backoff, subscribes every topic again,
and calls each handler that was active with ``None`` once its topic is active again: what was
published meanwhile is lost, and the consumer catches up from the database.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import deque
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection, ConnectionPool, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from rathaus.bus import DEFAULT_PREFIX, Handler, Subscription, deliver
from rathaus.errors import BusUnavailable

logger = logging.getLogger(__name__)

# What an unreachable or misbehaving Redis raises (redis-py wraps most OSErrors, not all).
_FAILURES = (RedisError, OSError)
_FIRST_RETRY = 0.05  # seconds before the first reconnection attempt; doubled up to max_backoff


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    CLOSED = "closed"


class _Topic:
    """One channel's local state: kept while it has handlers, or until UNSUBSCRIBE is sent."""

    def __init__(self) -> None:
        self.subscriptions: list[Subscription] = []
        self.on_wire = False  # SUBSCRIBE sent on the current connection (and not taken back)
        self.active = False  # ... and confirmed by Redis: its events reach this process
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.missed: list[Subscription] = []  # were active when the connection dropped


class RedisBus:
    """The bus on Redis pub/sub (``redis://``, ``rediss://`` or ``unix://`` URL)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = 5.0,
        ping_interval: float = 5.0,
        max_backoff: float = 5.0,
        subscribe_timeout: float = 10.0,
    ) -> None:
        options: dict[str, Any] = dict(parse_url(url))  # ValueError for a bad URL
        options.update(
            protocol=2,  # pub/sub replies as plain arrays (RESP3 would send push frames)
            decode_responses=False,  # payloads are bytes
            # One immediate retry: a pooled connection may be stale after Redis restarted;
            # more would only delay BusUnavailable while Redis is down.
            retry=Retry(NoBackoff(), 1),
            socket_connect_timeout=socket_timeout,
            socket_timeout=socket_timeout,
        )
        self._pool = ConnectionPool(**options)
        self._publisher = Redis.from_pool(self._pool)  # closing it closes the pool
        # The pub/sub connection without a write timeout: redis-py applies it with
        # asyncio.wait_for, which on Python 3.11 may swallow a cancellation (the writer task
        # would outlive close()). A dead peer is found by the reader's PING instead.
        self._pubsub_pool = ConnectionPool(**{**options, "socket_timeout": None})
        self._socket_timeout = socket_timeout
        self._prefix = prefix.encode()
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff
        self._subscribe_timeout = subscribe_timeout
        self._state = _State.NEW
        self._topics: dict[bytes, _Topic] = {}
        # Per channel, what each expected (un)subscribe confirmation answers, in wire order:
        # the topic a SUBSCRIBE was for, None for an UNSUBSCRIBE.
        self._acks: dict[bytes, deque[_Topic | None]] = {}
        self._dirty = asyncio.Event()  # the writer has something to send
        self._ping_due = False
        self._task: asyncio.Task[None] | None = None

    # --- the interface ---------------------------------------------------------------------

    async def start(self) -> None:
        """Connect both ways once, so that a wrong URL or password fails at start-up."""
        if self._state is not _State.NEW:
            self._check_running()
            return
        connection = self._pubsub_pool.make_connection()
        try:
            await self._connect(connection)
            await self._publisher.ping()
        except _FAILURES as exc:
            await connection.disconnect(nowait=True)
            await self._pool.disconnect()
            raise BusUnavailable(f"cannot connect to the event bus (Redis): {exc}") from exc
        self._state = _State.RUNNING
        self._task = asyncio.create_task(self._run(connection), name="rathaus event bus")

    async def close(self) -> None:
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])  # it disconnects the pub/sub connection
        topics, self._topics = self._topics, {}
        self._acks.clear()
        for topic in topics.values():
            if not topic.ready.done():
                topic.ready.set_exception(BusUnavailable("the event bus is closed"))
                topic.ready.exception()  # retrieved: no "never retrieved" log if none waits
            for subscription in topic.subscriptions:
                subscription.close()
        await self._publisher.aclose()

    async def publish(self, topic: str, payload: bytes) -> None:
        """Through the pool: calls that complete one after the other arrive in that order."""
        self._check_running()
        try:
            await self._publisher.publish(self._prefix + topic.encode(), payload)
        except _FAILURES as exc:
            raise BusUnavailable(f"cannot publish on the event bus (Redis): {exc}") from exc

    async def subscribe(self, topic: str, handler: Handler) -> Subscription:
        """Waits for Redis to confirm (while Redis is down: until it is back); BusUnavailable
        after ``subscribe_timeout`` seconds, or when the bus is closed meanwhile."""
        self._check_running()
        channel = self._prefix + topic.encode()
        entry = self._topics.get(channel)
        if entry is None:
            entry = self._topics[channel] = _Topic()
        subscription = Subscription(topic, handler, self._unsubscribe)
        entry.subscriptions.append(subscription)
        if entry.active:  # already confirmed: events reach the new handler from now on
            return subscription
        self._dirty.set()
        try:
            async with asyncio.timeout(self._subscribe_timeout):
                # shielded: one caller's cancellation must not cancel the others' wait
                await asyncio.shield(entry.ready)
        except TimeoutError:
            subscription.close()
            raise BusUnavailable("Redis did not confirm a subscription in time") from None
        except BaseException:
            subscription.close()
            raise
        return subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        entry = self._topics.get(self._prefix + subscription.topic.encode())
        if entry is None or subscription not in entry.subscriptions:
            return
        entry.subscriptions.remove(subscription)
        if not entry.subscriptions:
            self._dirty.set()  # the writer sends UNSUBSCRIBE, unless a handler came back

    def _check_running(self) -> None:
        if self._state is _State.NEW:
            raise BusUnavailable("the event bus has not been started")
        if self._state is _State.CLOSED:
            raise BusUnavailable("the event bus is closed")

    # --- the pub/sub connection ------------------------------------------------------------

    async def _run(self, connection: AbstractConnection) -> None:
        """Serve the connection until it fails, then reconnect with capped backoff; forever."""
        loop = asyncio.get_running_loop()
        delay = _FIRST_RETRY
        lost = False
        while True:
            served_since: float | None = None
            try:
                await self._connect(connection)  # no-op the first time: start() connected it
                served_since = loop.time()
                if lost:
                    logger.info("the event bus is connected to Redis again")
                    lost = False
                await self._session(connection)
            except _FAILURES as exc:
                if not lost:
                    logger.warning("the event bus lost Redis (%s); reconnecting", exc)
                lost = True
            except Exception:
                logger.exception("the event bus's Redis connection failed; reconnecting")
                lost = True
            finally:
                self._lost()
                await connection.disconnect(nowait=True)
            if served_since is not None and loop.time() - served_since > self._max_backoff:
                delay = _FIRST_RETRY  # it worked for a while: start the backoff afresh
            await asyncio.sleep(delay)
            delay = min(2 * delay, self._max_backoff)
            connection = self._pubsub_pool.make_connection()

    async def _connect(self, connection: AbstractConnection) -> None:
        # bounded here: without a socket timeout, redis-py's handshake could wait for ever
        async with asyncio.timeout(self._socket_timeout):
            await connection.connect()

    async def _session(self, connection: AbstractConnection) -> None:
        """Read and write on one connection until either fails (they never return)."""
        self._dirty.set()  # (re)subscribe every topic that has handlers
        reader = asyncio.create_task(self._read(connection))
        writer = asyncio.create_task(self._write(connection))
        try:
            done, _ = await asyncio.wait((reader, writer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, writer):
                task.cancel()
            await asyncio.wait((reader, writer))
        for task in done:
            task.result()  # raises what ended the session

    async def _read(self, connection: AbstractConnection) -> None:
        ping_unanswered = False
        while True:
            reply = await connection.read_response(
                timeout=self._ping_interval, disconnect_on_error=False
            )
            if reply is None:  # silence: is Redis still there? (a dead peer may never say)
                if ping_unanswered:
                    raise RedisTimeoutError("Redis did not answer a PING in time")
                ping_unanswered = True
                self._ping_due = True
                self._dirty.set()
                continue
            ping_unanswered = False
            self._handle(reply)

    def _handle(self, reply: Any) -> None:
        # ["message", channel, payload], ["subscribe" | "unsubscribe", channel, count]; a PONG
        # is b"PONG" (no channel subscribed) or ["pong", ""].
        if not isinstance(reply, list) or len(reply) != 3:
            return
        kind, channel, data = reply
        if kind == b"message":
            topic = self._topics.get(channel)
            if topic is not None and topic.active:
                deliver(topic.subscriptions, data)
        elif kind in (b"subscribe", b"unsubscribe"):
            waiting = self._acks.get(channel)
            answered = waiting.popleft() if waiting else None
            if waiting is not None and not waiting:
                del self._acks[channel]
            if answered is not None:
                self._activate(answered)

    def _activate(self, topic: _Topic) -> None:
        topic.active = True
        if not topic.ready.done():
            topic.ready.set_result(None)
        missed, topic.missed = topic.missed, []
        deliver(missed, None)  # active again: now they may catch up without a gap

    async def _write(self, connection: AbstractConnection) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            for command in self._plan():
                if not connection.is_connected:  # redis-py would quietly open a new one
                    raise RedisConnectionError("the pub/sub connection closed")
                await connection.send_command(*command, check_health=False)

    def _plan(self) -> list[tuple[bytes | str, ...]]:
        """What to send now that the topics changed; marks it as sent."""
        subscribe: list[bytes] = []
        unsubscribe: list[bytes] = []
        for channel, topic in list(self._topics.items()):
            if topic.subscriptions and not topic.on_wire:
                topic.on_wire = True
                self._acks.setdefault(channel, deque()).append(topic)
                subscribe.append(channel)
            elif not topic.subscriptions:
                del self._topics[channel]  # a later subscriber starts a new topic
                if topic.on_wire:
                    self._acks.setdefault(channel, deque()).append(None)
                    unsubscribe.append(channel)
        commands: list[tuple[bytes | str, ...]] = []
        if unsubscribe:
            commands.append(("UNSUBSCRIBE", *unsubscribe))
        if subscribe:
            commands.append(("SUBSCRIBE", *subscribe))
        if self._ping_due:
            self._ping_due = False
            commands.append(("PING",))
        return commands

    def _lost(self) -> None:
        """The connection is gone, and with it every subscription on the Redis side."""
        self._acks.clear()
        self._ping_due = False
        for channel, topic in list(self._topics.items()):
            if not topic.subscriptions:
                del self._topics[channel]
                continue
            if topic.active:
                topic.missed.extend(topic.subscriptions)
                topic.ready = asyncio.get_running_loop().create_future()
            topic.active = topic.on_wire = False
