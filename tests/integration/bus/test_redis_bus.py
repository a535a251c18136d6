"""The Redis bus against a real redis-server: two RedisBus instances stand for two processes."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from rathaus.bus.redis import RedisBus
from rathaus.errors import BusUnavailable
from tests.support.redis import (
    RedisServer,
    RedisUnavailable,
    command,
    free_port,
    start_redis,
)
from tests.support.waits import quiet_for

_prefixes = itertools.count(1)


class Inbox:
    """A handler that keeps what it gets and lets a test wait for it."""

    def __init__(self) -> None:
        self.got: list[bytes | None] = []
        self._changed = asyncio.Event()

    def __call__(self, payload: bytes | None) -> None:
        self.got.append(payload)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 2.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.got) < count:
                self._changed.clear()
                await self._changed.wait()


async def numsub(url: str, channel: str) -> int:
    """How many connections Redis says are subscribed to ``channel``."""
    client = Redis.from_url(url, protocol=2)
    try:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)
    finally:
        await client.aclose()


async def numsub_becomes(url: str, channel: str, expected: int) -> None:
    for _ in range(200):
        if await numsub(url, channel) == expected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{channel} never had {expected} subscribers")


def fast_bus(url: str, prefix: str) -> RedisBus:
    """Short timeouts and backoff, so that the fault tests take well under a second or two."""
    return RedisBus(url, prefix=prefix, max_backoff=0.1, ping_interval=1.0, subscribe_timeout=2.0)


@pytest.fixture
def prefix() -> str:
    # Tests share the session's redis-server: each its own namespace, as installations would.
    return f"test{next(_prefixes)}:"


@pytest.fixture
async def buses(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisBus, RedisBus]]:
    a, b = fast_bus(redis_url, prefix), fast_bus(redis_url, prefix)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, to kill and start again."""
    try:
        server = start_redis()
    except RedisUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.destroy()


async def test_events_reach_the_other_process_in_order_once_per_handler(
    buses: tuple[RedisBus, RedisBus], redis_url: str, prefix: str
) -> None:
    a, b = buses
    first, second, other_topic = Inbox(), Inbox(), Inbox()

    def broken(payload: bytes | None) -> None:
        raise RuntimeError("a broken consumer")

    # two local handlers (subscribing at the same time) and a broken one: one SUBSCRIBE
    await asyncio.gather(b.subscribe("room:1", first), b.subscribe("room:1", second))
    await b.subscribe("room:1", broken)
    await b.subscribe("room:2", other_topic)
    assert await numsub(redis_url, prefix + "room:1") == 1
    sent = [b"event %d" % n for n in range(50)]
    for payload in sent:
        await a.publish("room:1", payload)
    await a.publish("room:1", b"end")  # after it, nothing earlier can still come
    await first.wait_for(51)
    await second.wait_for(51)
    assert first.got == second.got == [*sent, b"end"]
    assert other_topic.got == []


async def test_unsubscribing_the_last_handler_unsubscribes_from_redis(
    buses: tuple[RedisBus, RedisBus], redis_url: str, prefix: str
) -> None:
    a, b = buses
    kept, dropped = Inbox(), Inbox()
    keep = await b.subscribe("t", kept)
    drop = await b.subscribe("t", dropped)
    drop.close()
    drop.close()  # idempotent
    await a.publish("t", b"1")
    await kept.wait_for(1)
    assert dropped.got == []
    assert await numsub(redis_url, prefix + "t") == 1  # one handler left: still subscribed
    keep.close()
    await numsub_becomes(redis_url, prefix + "t", 0)  # UNSUBSCRIBE is sent after close()
    again = Inbox()
    await b.subscribe("t", again)
    assert await numsub(redis_url, prefix + "t") == 1
    await a.publish("t", b"2")
    await again.wait_for(1)
    assert (kept.got, again.got) == ([b"1"], [b"2"])


async def test_an_event_published_right_after_subscribe_returns_arrives(
    buses: tuple[RedisBus, RedisBus], redis_url: str, prefix: str
) -> None:
    _, b = buses
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    # A blocking socket: its PUBLISH reaches Redis before the event loop runs again, so only a
    # subscription Redis has already confirmed can receive it.
    with socket.create_connection(("127.0.0.1", port), 2) as publisher:
        for n in range(20):
            inbox = Inbox()
            await b.subscribe(f"fresh:{n}", inbox)
            receivers = command(publisher, b"PUBLISH", f"{prefix}fresh:{n}".encode(), b"hello")
            assert receivers == b":1"
            await inbox.wait_for(1)
            assert inbox.got == [b"hello"]


async def test_after_redis_restarts_handlers_hear_of_the_gap_then_get_events_again(
    own_redis: RedisServer,
) -> None:
    a, b = fast_bus(own_redis.url, "r:"), fast_bus(own_redis.url, "r:")
    await a.start()
    await b.start()
    try:
        first, second = Inbox(), Inbox()
        await b.subscribe("t", first)
        await b.subscribe("t", second)
        await a.publish("t", b"before")
        await first.wait_for(1)

        own_redis.kill()
        with pytest.raises(BusUnavailable):
            await a.publish("t", b"lost")
        await asyncio.to_thread(own_redis.start)

        await first.wait_for(2)  # None: resubscribed, and events may have been lost
        await second.wait_for(2)
        assert await numsub(own_redis.url, "r:t") == 1
        await a.publish("t", b"after")
        await first.wait_for(3)
        await second.wait_for(3)
        assert first.got == second.got == [b"before", None, b"after"]
    finally:
        await a.close()
        await b.close()


async def test_while_redis_is_down_subscribing_waits_and_close_fails_it(
    own_redis: RedisServer,
) -> None:
    bus = fast_bus(own_redis.url, "d:")
    await bus.start()
    try:
        own_redis.kill()
        waiting = asyncio.create_task(bus.subscribe("t", Inbox()))
        await quiet_for(0.2)
        assert not waiting.done()  # not active: it must not return yet
    finally:
        await bus.close()
    with pytest.raises(BusUnavailable, match="closed"):
        await waiting
    with pytest.raises(BusUnavailable, match="closed"):
        await bus.publish("t", b"x")


async def test_start_fails_clearly_without_redis() -> None:
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", max_backoff=0.1)
    with pytest.raises(BusUnavailable, match="cannot connect to the event bus"):
        await bus.start()
    await bus.close()
