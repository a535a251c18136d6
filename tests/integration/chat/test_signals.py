"""What the chat passes on and never stores: "read by", only for members who chose to share it,
and "is typing", only where the server's operator switched it on. Off by default, both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.chat import ChatSocket
from tests.support.chat_world import (
    World,
    chat_world,
    create_group,
    new_room,
    open_room,
    send_request,
)
from tests.support.server import RunningServer


@pytest.fixture(scope="module")
async def typing_world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """A Rathaus whose operator switched typing indicators on."""
    data = tmp_path_factory.mktemp("typing")
    async with chat_world(server, data, chat={"typing_indicators": True}) as found:
        yield found


async def nothing_more(socket: ChatSocket, kind: str) -> None:
    """No frame of ``kind`` came before the answer to a ping sent now (frames keep their order)."""
    await socket.send({"type": "ping"})
    await socket.next("pong")
    assert [f for f in socket.frames if f.get("type") == kind] == []


async def marked(olga: ChatSocket, mia: ChatSocket, slug: str, group_id: bytes) -> int:
    """Mia writes, and Olga waits for it: what Mia did before reached Olga before it (one
    room's traffic keeps its order through the bus and Olga's socket)."""
    sent = await mia.request(send_request(slug, group_id, 0, b"Marke"))
    await olga.events(slug, 1)
    assert sent["type"] == "ack"
    seq: int = sent["seq"]
    return seq


async def room_of_two(world: World) -> tuple[str, ChatSocket, ChatSocket, bytes]:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    return slug, olga, mia, group_id


async def share_read(world: World, name: str, share: Any) -> Any:
    return await world.people[name].http.patch(
        "/api/chat/preferences", json={"share_read_receipts": share}
    )


async def test_read_markers_are_private_unless_the_member_shares_them(world: World) -> None:
    slug, olga, mia, group_id = await room_of_two(world)
    sent = await olga.request(send_request(slug, group_id, 0, b"Hallo"))
    mias = await world.people["mia"].http.get("/api/chat/preferences")
    assert mias.json() == {"share_read_receipts": False, "typing_indicators": False}  # defaults

    await olga.events(slug, 1)  # her own, echoed
    await mia.events(slug, 1)
    await mia.send({"type": "read", "room": slug, "seq": sent["seq"]})
    await marked(olga, mia, slug, group_id)
    await nothing_more(olga, "signal")
    await nothing_more(mia, "signal")
    again = await world.socket("olga")
    assert (await open_room(again, slug))["read_by"] == []

    answer = await share_read(world, "mia", True)
    assert answer.status_code == 200 and answer.json()["share_read_receipts"] is True
    second = await olga.request(send_request(slug, group_id, 0, b"Noch was"))
    await mia.send({"type": "read", "room": slug, "seq": 10**12})  # beyond the last: capped
    told = await olga.next("signal", room=slug)
    assert told == {
        "type": "signal",
        "room": slug,
        "signal": "read",
        "user": "mia",
        "seq": second["seq"],
    }
    assert (await again.next("signal", room=slug))["user"] == "mia"
    await nothing_more(mia, "signal")  # not her own back
    third = await world.socket("olga")
    assert (await open_room(third, slug))["read_by"] == [{"user": "mia", "seq": second["seq"]}]

    await mia.send({"type": "read", "room": slug, "seq": second["seq"]})  # no move: no news
    assert (await share_read(world, "mia", False)).status_code == 200
    forget = await olga.next("signal", room=slug)  # open pages forget her marker
    assert (forget["signal"], forget["user"], forget["seq"]) == ("read", "mia", 0)
    await marked(olga, mia, slug, group_id)
    await mia.send({"type": "read", "room": slug, "seq": second["seq"] + 1})
    await marked(olga, mia, slug, group_id)
    await nothing_more(olga, "signal")
    fourth = await world.socket("olga")
    assert (await open_room(fourth, slug))["read_by"] == []
    for socket in (olga, mia, again, third, fourth):
        await socket.close()


async def test_the_preference_takes_a_boolean_from_a_member_signed_in(world: World) -> None:
    for bad in ("yes", 1, None):
        answer = await share_read(world, "mia", bad)
        assert answer.status_code == 422 and answer.json()["code"] == "bad_message", bad
    extra = await world.people["mia"].http.patch(
        "/api/chat/preferences", json={"share_read_receipts": True, "typing": True}
    )
    assert extra.status_code == 422
    mias = await world.people["mia"].http.get("/api/chat/preferences")
    assert mias.json()["share_read_receipts"] is False
    async with httpx.AsyncClient(base_url=world.rathaus.http) as stranger:
        anonymous = await stranger.get("/api/chat/preferences")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "not_signed_in"


async def test_typing_is_off_unless_the_operator_switches_it_on(world: World) -> None:
    slug, olga, mia, _group_id = await room_of_two(world)
    await mia.send({"type": "typing", "room": slug})
    refused = await mia.next("error")
    assert refused["code"] == "switched_off" and refused["room"] == slug
    await nothing_more(olga, "signal")
    for socket in (olga, mia):
        await socket.close()


async def test_read_by_is_of_members_only(world: World) -> None:
    slug, olga, mia, group_id = await room_of_two(world)
    assert (await share_read(world, "mia", True)).status_code == 200
    sent = await olga.request(send_request(slug, group_id, 0, b"Hallo"))
    await mia.send({"type": "read", "room": slug, "seq": sent["seq"]})
    assert (await olga.next("signal", room=slug))["user"] == "mia"
    gone = await world.people["olga"].http.delete(f"/api/rooms/{slug}/roles/mia")
    assert gone.status_code in (200, 204), gone.text
    again = await world.socket("olga")
    assert (await open_room(again, slug))["read_by"] == []  # her marker stays, unshown
    assert (await share_read(world, "mia", False)).status_code == 200
    for socket in (olga, mia, again):
        await socket.close()


async def test_typing_reaches_the_other_members_and_is_not_stored(typing_world: World) -> None:
    world = typing_world
    slug, olga, mia, group_id = await room_of_two(world)
    await mia.send({"type": "typing", "room": slug})
    await mia.send({"type": "typing", "room": slug})  # again at once: passed on once
    told = await olga.next("signal", room=slug)
    assert told == {"type": "signal", "room": slug, "signal": "typing", "user": "mia", "seq": None}
    last = await marked(olga, mia, slug, group_id)
    assert [f for f in olga.frames if f.get("type") == "signal"] == []
    await nothing_more(mia, "signal")
    later = await world.socket("olga")
    state = await open_room(later, slug, after=last)
    assert state["last_seq"] == last  # no event was made of the typing
    await nothing_more(later, "events")

    await mia.send({"type": "typing", "room": "not-opened-here"})
    assert (await mia.next("error"))["code"] == "invalid_state"
    tom = await world.socket("tom")
    await tom.send({"type": "typing", "room": slug})  # no member: he cannot follow the room
    assert (await tom.next("error"))["code"] == "invalid_state"

    # Removed, with the hint about it lost (the socket follows still): her typing is refused
    room = await world.rathaus.services.rooms.get(slug)
    mia_user = await world.rathaus.services.accounts.user_named("mia")
    olga_user = await world.rathaus.services.accounts.user_named("olga")
    listeners = world.rathaus.services.rooms.members_changed
    kept = list(listeners)
    listeners.clear()  # no hint goes out
    try:
        await world.rathaus.services.rooms.set_role(room.slug, olga_user, mia_user, None)
    finally:
        listeners.extend(kept)
    await asyncio.sleep(3.1)  # past the repeat guard
    await mia.send({"type": "typing", "room": slug})
    assert (await mia.next("error"))["code"] == "forbidden"
    for socket in (olga, mia, later, tom):
        await socket.close()


async def test_ready_says_whether_typing_is_passed_on(world: World, typing_world: World) -> None:
    for each, on in ((world, False), (typing_world, True)):
        socket = await ChatSocket.open(each.rathaus.ws, each.people["mia"].http, None)
        await socket.send({"type": "hello", "device": each.people["mia"].device})
        assert (await socket.next("ready"))["typing"] is on
        answer = await each.people["mia"].http.get("/api/chat/preferences")
        assert answer.json()["typing_indicators"] is on
        await socket.close()
