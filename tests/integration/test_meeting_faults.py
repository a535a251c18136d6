"""Faults one participant or one anonymous client could cause, against a real Rathaus and Janus:
each fails that one client's request and never the meeting of the others."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import cast

import pytest
from websockets.asyncio.client import connect

from rathaus.errors import MediaFailed
from rathaus.meetings.door import Knock
from rathaus.meetings.media import MediaListener, MeetingMedia
from rathaus.meetings.protocol import Join
from tests.support import janus_admin
from tests.support.bot import Bot, wait_until
from tests.support.janus_admin import videorooms
from tests.support.network import MEDIA_IP
from tests.support.server import RunningServer, running_server, server_settings

pytestmark = pytest.mark.janus

RED = (220, 30, 30)


def room() -> str:
    return f"f-{uuid.uuid4().hex[:10]}"


async def unowned_room_with_password(server: RunningServer, password: str) -> str:
    """A room nobody owns (as `rathaus admin create-room` makes), given a password by an
    administrator."""
    name = room()
    await server.services.rooms.create("Geheim", name)
    admin = await server.services.accounts.create_user(
        f"a{uuid.uuid4().hex[:8]}", "Passwort 12345678", admin=True
    )
    await server.services.rooms.update(name, admin, password=password)
    return name


async def test_a_nul_in_sdp_or_candidate_fails_that_request_only(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await anna.join()
        await anna.publish(RED, 440)
        await ben.join()
        await ben.send({"type": "publish", "kind": "camera", "sdp": "v=0\r\n\x00o=- 1 1\r\n"})
        error = await ben.expect("error")
        assert (error["code"], error["ref"]) == ("bad_message", "publish")
        candidate = {"candidate": "candidate:1 1 udp 1 127.0.0.2 9\x00 typ host", "sdpMid": "0"}
        await ben.send({"type": "trickle", "pc": "pub:camera", "candidate": candidate})
        assert (await ben.expect("error"))["code"] == "bad_message"
        # Should a NUL get past the codec, the Janus client refuses it at once, and only it.
        meeting = server.services.meetings._meetings[name]
        with pytest.raises(MediaFailed):
            await asyncio.wait_for(
                meeting.media.publish(ben.welcome["self"]["id"], "screen", "v=0\x00", False), 2
            )
        await ben.publish(RED, 660)  # the meeting's media work on, for Ben and for Anna
        assert (await anna.expect("feed_added"))["feed"]["participant"] == ben.welcome["self"]["id"]
        assert meeting.media.available
        assert not [m for m in anna.messages + ben.messages if m["type"] == "media_unavailable"]
    finally:
        await anna.close()
        await ben.close()


async def test_deeply_nested_json_is_a_bad_message(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    bot = Bot(server.ws, room(), "Tief")
    try:
        await bot.connect()
        await bot.send_raw("[" * 30_000)  # before join
        assert (await bot.expect("error"))["code"] == "bad_message"
        await bot.join()
        await bot.send_raw('{"type": "media", "audio": ' + "[" * 30_000)
        assert (await bot.expect("error"))["code"] == "bad_message"
        await bot.send({"type": "ping"})
        await bot.expect("pong")
    finally:
        await bot.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_messages_before_join_are_rate_limited(server: RunningServer) -> None:
    async with connect(f"{server.ws}/ws/rooms/{room()}") as ws:
        for _ in range(400):
            await ws.send(json.dumps({"type": "subscribe", "feed": "1"}))
        errors = []
        with pytest.raises(Exception):  # noqa: B017 (closed with 4429 in the end)
            while True:
                errors.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["code"])
        assert "rate_limited" in errors and errors[0] == "not_joined"
        assert ws.close_code == 4429


async def test_a_wrong_origin_is_refused_by_scheme_host_and_port(server: RunningServer) -> None:
    ours = f"http://127.0.0.1:{server.port}"
    for origin, allowed in [
        (ours, True),
        (f"http://127.0.0.1:{server.port + 1}", False),
        (f"https://127.0.0.1:{server.port}", False),
        (f"http://127.0.0.1.evil.example:{server.port}", False),
        ("null", False),
    ]:
        url = f"{server.ws}/ws/rooms/{room()}"
        async with connect(url, origin=origin) as ws:  # type: ignore[arg-type]
            if allowed:
                await ws.send(json.dumps({"type": "ping"}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert reply["type"] == ("pong" if allowed else "error"), origin
            if not allowed:
                assert reply["code"] == "forbidden"


async def test_a_resume_token_cannot_take_over_from_another_browser(server: RunningServer) -> None:
    name = room()
    anna = Bot(server.ws, name, "Anna", cookies={"rathaus_guest": uuid.uuid4().hex})
    eve = Bot(server.ws, name, "Eve", cookies={"rathaus_guest": uuid.uuid4().hex})
    try:
        welcome = await anna.join()
        await eve.knock(resume=welcome["resume"])
        assert (await eve.expect("error"))["code"] == "resume_failed"
        await anna.send({"type": "ping"})
        await anna.expect("pong")
        assert not [m for m in anna.messages if m["type"] == "bye"]
    finally:
        await anna.close()
        await eve.close()


async def test_a_password_guesser_locks_only_themselves(server: RunningServer) -> None:
    name = await unowned_room_with_password(server, "richtig 123")
    first = Bot(server.ws, name, "Erste")  # the first one in does not skip the password
    await first.knock()
    assert (await first.expect("error"))["code"] == "password_required"
    await first.close()
    guesser = {"rathaus_guest": uuid.uuid4().hex}
    for attempt in range(6):
        bot = Bot(server.ws, name, "Rater", cookies=guesser)
        await bot.knock(password=f"falsch {attempt}")
        code = (await bot.expect("error"))["code"]
        assert code == ("locked" if attempt == 5 else "wrong_password")
        await bot.close()
    again = Bot(server.ws, name, "Rater", cookies={"rathaus_guest": uuid.uuid4().hex})
    await again.knock(password="richtig 123")  # new cookie, same address: still the guesser
    assert (await again.expect("error"))["code"] == "locked"
    await again.close()
    other = Bot(server.ws, name, "Anna", source=MEDIA_IP)  # another address
    try:
        welcome = await other.join(password="richtig 123")
        assert welcome["self"]["role"] == "moderator"  # the first one in, past the password
    finally:
        await other.close()


async def test_guessers_from_many_addresses_cannot_lock_the_room(server: RunningServer) -> None:
    name = await unowned_room_with_password(server, "richtig 123")
    door, room_now = server.services.door, await server.services.rooms.get(name)
    # More guessers than the old per-room limit of 50, from addresses as the trusted proxy would
    # give them (strings only: no traffic).
    for i in range(52):
        entrant = await door.entrant(
            Knock(address=f"198.51.100.{i}"), room_now, Join(type="join", name="X", password="no")
        )
        assert entrant.password_ok is False
    anna = Bot(server.ws, name, "Anna")
    try:
        assert (await anna.join(password="richtig 123"))["self"]["name"] == "Anna"
    finally:
        await anna.close()


async def live_janus_state(server: RunningServer) -> tuple[int, int, int]:
    """(sessions, handles, rooms) that Janus holds."""
    return await janus_admin.state(server.janus)


async def test_races_at_the_door_leave_nothing_behind_at_janus(server: RunningServer) -> None:
    async def settled() -> tuple[int, int, int]:
        await wait_until(lambda: not server.services.meetings._closing, what="meetings closing")
        return await live_janus_state(server)

    before = await settled()
    name = await unowned_room_with_password(server, "richtig 123")
    bots = [Bot(server.ws, name, f"B{i}", source=MEDIA_IP) for i in range(8)]
    right = Bot(server.ws, name, "Richtig")
    bogus = [Bot(server.ws, room(), f"R{i}") for i in range(4)]
    try:
        # Wrong passwords and a right one at once, and resumes of nothing in fresh rooms.
        await asyncio.gather(
            *(b.knock(password="falsch") for b in bots),
            right.knock(password="richtig 123"),
            *(b.knock(resume="x" * 32) for b in bogus),
        )
        await right.expect("welcome")
        codes = sorted([(await bot.expect("error"))["code"] for bot in bots])
        assert codes == ["locked"] * 3 + ["wrong_password"] * 5  # one address: 5, then locked
        for bot in bogus:
            assert (await bot.expect("error"))["code"] == "resume_failed"
        await right.publish(RED, 440)
        during = await settled()
        assert during[2] == before[2] + 1  # one room: the meeting of the one let in
        assert during[0] == before[0] + 1
    finally:
        for bot in [*bots, right, *bogus]:
            await bot.close()
    await wait_until(lambda: name not in server.services.meetings._meetings, what="the end")
    assert await settled() == before


async def wait_until_async(
    read: Callable[[], Awaitable[list[int]]], ok: Callable[[list[int]], bool]
) -> None:
    for _ in range(100):
        if ok(await read()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"Janus still holds {await read()}")


async def test_a_meeting_ended_while_its_room_is_created_leaves_nothing(
    server: RunningServer,
) -> None:
    before = await live_janus_state(server)
    for delay in (0, 0.001, 0.005, 0.02):
        media = MeetingMedia(server.services.meetings._pool, cast(MediaListener, _Deaf()))
        starting = asyncio.create_task(media.start())
        await asyncio.sleep(delay)
        await media.close()
        await starting
    assert await live_janus_state(server) == before


class _Deaf:
    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args: None


async def test_an_unanswered_request_is_not_a_dead_node(tmp_path: Path) -> None:
    """Janus stopped for a moment: the request in flight fails alone (media_failed), the meeting
    keeps its media; a keepalive that goes unanswered later is what counts the node as down."""
    settings = server_settings(tmp_path, janus={"request_timeout": 1.0, "keepalive_interval": 50})
    async with running_server(settings) as server:
        name = room()
        anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
        try:
            await anna.join()
            await ben.join()
            os.kill(server.janus_pid, signal.SIGSTOP)
            try:
                await ben.send({"type": "publish", "kind": "camera", "sdp": "v=0\r\n"})
                assert (await ben.expect("error", timeout=5))["code"] == "media_failed"
            finally:
                os.kill(server.janus_pid, signal.SIGCONT)
            await anna.publish(RED, 440)
            await ben.expect("feed_added")
            assert "media_unavailable" not in [m["type"] for m in anna.messages + ben.messages]
        finally:
            await anna.close()
            await ben.close()


async def test_an_unanswered_keepalive_counts_the_node_as_down(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, janus={"request_timeout": 1.0, "keepalive_interval": 0.5})
    async with running_server(settings) as server:
        anna = Bot(server.ws, room(), "Anna")
        janus = server.janus
        try:
            await anna.join()
            os.kill(server.janus_pid, signal.SIGSTOP)
            try:
                await anna.expect("media_unavailable", timeout=10)
            finally:
                os.kill(server.janus_pid, signal.SIGCONT)
            await anna.expect("media_restored", timeout=20)
            await anna.publish(RED, 440)
            # The room of the lost session outlived it at Janus; the pool removed it.
            await wait_until_async(lambda: videorooms(janus), lambda rooms: len(rooms) == 1)
        finally:
            await anna.close()
