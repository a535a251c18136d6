"""The in-process bus, the handler rules every bus shares, and choosing a bus from its URL."""

from __future__ import annotations

import logging

import pytest

from rathaus.bus import Subscription, create_bus
from rathaus.bus.memory import MemoryBus
from rathaus.bus.redis import RedisBus
from rathaus.config import load_settings
from rathaus.errors import BusUnavailable, ConfigError


async def test_each_handler_gets_the_events_of_its_topic_in_publish_order() -> None:
    bus = MemoryBus()
    await bus.start()
    first: list[bytes | None] = []
    second: list[bytes | None] = []
    other: list[bytes | None] = []
    await bus.subscribe("room:1", first.append)
    await bus.subscribe("room:1", second.append)
    await bus.subscribe("room:2", other.append)
    for n in range(5):
        await bus.publish("room:1", b"%d" % n)
    await bus.publish("room:3", b"nobody listens")
    assert first == second == [b"0", b"1", b"2", b"3", b"4"]
    assert other == []
    await bus.close()


async def test_a_closed_subscription_gets_nothing_and_closing_twice_is_fine() -> None:
    bus = MemoryBus()
    kept: list[bytes | None] = []
    closed: list[bytes | None] = []
    await bus.subscribe("t", kept.append)
    subscription = await bus.subscribe("t", closed.append)
    await bus.publish("t", b"a")
    subscription.close()
    subscription.close()
    await bus.publish("t", b"b")
    assert (kept, closed) == ([b"a", b"b"], [b"a"])


async def test_a_handler_may_close_a_later_one_during_delivery() -> None:
    bus = MemoryBus()
    later: list[Subscription] = []
    got: list[bytes | None] = []
    await bus.subscribe("t", lambda _: later[0].close())
    later.append(await bus.subscribe("t", got.append))
    await bus.publish("t", b"x")
    assert got == []  # closed before its turn: not called, though the event was under way


async def test_a_raising_handler_is_logged_without_the_payload_and_stops_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = MemoryBus()
    got: list[bytes | None] = []

    def broken(payload: bytes | None) -> None:
        raise RuntimeError("boom")

    await bus.subscribe("t", broken)
    await bus.subscribe("t", got.append)
    with caplog.at_level(logging.ERROR, logger="rathaus.bus"):
        await bus.publish("t", b"secret chat text")
        await bus.publish("t", b"more")
    assert got == [b"secret chat text", b"more"]
    assert len(caplog.records) == 2
    assert "broken" in caplog.records[0].getMessage()
    assert "secret chat text" not in caplog.text


async def test_a_closed_bus_refuses_and_calls_nobody() -> None:
    bus = MemoryBus()
    got: list[bytes | None] = []
    await bus.subscribe("t", got.append)
    await bus.close()
    with pytest.raises(BusUnavailable):
        await bus.publish("t", b"x")
    with pytest.raises(BusUnavailable):
        await bus.subscribe("t", got.append)
    assert got == []


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "rediss://redis.example:6380", "unix:///run/redis/redis.sock"],
)
async def test_redis_urls_make_a_redis_bus_without_connecting(url: str) -> None:
    bus = create_bus(url)
    assert isinstance(bus, RedisBus)
    with pytest.raises(BusUnavailable, match="not been started"):
        await bus.publish("t", b"x")
    await bus.close()


def test_an_empty_url_makes_the_in_process_bus() -> None:
    assert isinstance(create_bus(""), MemoryBus)


@pytest.mark.parametrize(
    "url",
    ["http://redis.example", "localhost:6379", "amqp://broker", "redis://:s3cret@host:port"],
)
def test_other_urls_are_a_config_error_that_keeps_the_password_out(url: str) -> None:
    with pytest.raises(ConfigError, match=r"event bus URL") as caught:
        create_bus(url)
    assert "s3cret" not in str(caught.value)


def test_the_bus_section_checks_the_url_scheme() -> None:
    settings = load_settings(environ={"RATHAUS_BUS_URL": "redis://10.0.0.7:6379/2"})
    assert settings.bus.url == "redis://10.0.0.7:6379/2"
    assert load_settings(environ={}).bus.url == ""
    with pytest.raises(ConfigError, match=r"bus\.url: .*redis://"):
        load_settings(environ={"RATHAUS_BUS_URL": "http://10.0.0.7"})
    assert load_settings(environ={}).bus.prefix == "rathaus:"
    assert load_settings(environ={"RATHAUS_BUS_PREFIX": "stadt-a:"}).bus.prefix == "stadt-a:"
    with pytest.raises(ConfigError, match=r"bus\.prefix"):
        load_settings(environ={"RATHAUS_BUS_PREFIX": "two words"})
