"""The MLS delivery service over real WebSockets (/ws/chat) on one Rathaus with SQLite: group
creation, one commit per epoch, messages only for the current epoch, resends that are never
stored twice, catch-up without gaps, and who may do what. The MLS messages carry real headers
around random bytes: the server reads only the headers (the browser tests run real MLS)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from rathaus.db.models import ChatEventRow
from tests.support import chat
from tests.support.chat import ChatSocket
from tests.support.chat_world import (
    World,
    commit_request,
    create_group,
    new_room,
    open_room,
    send_request,
)
from tests.support.server import RunningServer, running_server, server_settings, shared_janus


async def test_a_message_reaches_the_other_member_once_and_in_order(world: World) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    first = await open_room(olga, slug)
    assert first["group_info"] is None and first["last_seq"] == 0
    group_id = await create_group(olga, slug)
    state = await open_room(mia, slug)
    assert state["epoch"] == 0 and chat.unb64(str(state["group_info"]))[4:6] == b"\x00\x01"
    bodies = [secrets.token_bytes(24) for _ in range(20)]
    for body in bodies:
        answer = await olga.request(send_request(slug, group_id, 0, body))
        assert answer["type"] == "ack", answer
    arrived = await mia.events(slug, 20)
    assert [e["seq"] for e in arrived] == list(range(2, 22))
    assert [chat.unb64(e["body"])[-24:] for e in arrived] == bodies
    assert {e["user"] for e in arrived} == {"olga"}
    assert {e["device"] for e in arrived} == {world.people["olga"].device}
    await olga.close()
    await mia.close()


async def test_exactly_one_commit_wins_an_epoch(world: World) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    won = await olga.request(commit_request(slug, group_id, 0))
    lost = await mia.request(commit_request(slug, group_id, 0))
    assert won["type"] == "ack" and won["seq"] == 2
    assert lost["type"] == "error" and lost["code"] == "epoch_conflict" and lost["epoch"] == 1
    stale = await mia.request(send_request(slug, group_id, 0, b"late"))
    assert stale["code"] == "epoch_conflict" and stale["epoch"] == 1
    fresh = await mia.request(send_request(slug, group_id, 1, b"now"))
    assert fresh["type"] == "ack" and fresh["seq"] == 3
    second = await open_room(await world.socket("mia"), slug)  # a newcomer joins from here
    assert second["epoch"] == 1
    assert chat.unb64(str(second["group_info"])).endswith(b"") and second["last_seq"] == 3
    await olga.close()
    await mia.close()


async def test_a_second_creator_is_told_to_join_the_group_that_exists(world: World) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    await open_room(mia, slug)
    await create_group(olga, slug)
    late = await mia.request(
        {
            "type": "create_group",
            "room": slug,
            "group_info": chat.b64(chat.group_info(b"m" * 16, 0)),
        }
    )
    assert late["code"] == "epoch_conflict" and late["epoch"] == 0


async def test_a_resend_after_a_lost_ack_is_stored_once(world: World) -> None:
    slug = await new_room(world)
    olga, mia = await world.socket("olga"), await world.socket("mia")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    await open_room(mia, slug)
    request = send_request(slug, group_id, 0, b"once")
    request["id"] = chat.new_id()
    first = await olga.request(dict(request))
    again = await olga.request(dict(request))
    assert first["seq"] == again["seq"] == 2
    (event,) = await mia.events(slug, 1)
    assert event["id"] == request["id"]
    follow = await olga.request(send_request(slug, group_id, 0, b"next"))
    assert follow["seq"] == 3  # no number was used up by the resend
    async with world.rathaus.services.chat._sessions() as session:
        stored = (await session.scalars(select(ChatEventRow.client_id))).all()
    assert stored.count(str(request["id"])) == 1


async def test_a_device_back_online_catches_up_without_gap_or_double(world: World) -> None:
    slug = await new_room(world)
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    mia = await world.socket("mia")
    await open_room(mia, slug, after=1)
    for n in range(5):
        await olga.request(send_request(slug, group_id, 0, bytes([n])))

    seen = await mia.events(slug, 5)
    last = seen[-1]["seq"]
    await mia.close()  # offline: more arrives meanwhile
    for n in range(5, 250):
        await olga.request(send_request(slug, group_id, 0, bytes([n % 256])))
    back = await world.socket("mia")
    await open_room(back, slug, after=last)
    rest = await back.events(slug, 245, timeout=15)
    assert [e["seq"] for e in rest] == list(range(last + 1, last + 246))
    await olga.request(send_request(slug, group_id, 0, b"live"))
    (live,) = await back.events(slug, 1)
    assert live["seq"] == last + 246
    await back.close()


async def test_history_pages_go_back_from_a_number(world: World) -> None:
    slug = await new_room(world)
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    for n in range(120):
        await olga.request(send_request(slug, group_id, 0, bytes([n])))
    await olga.send({"type": "history", "room": slug, "before": 122})
    page = await olga.next("events", room=slug, live=False)
    assert [e["seq"] for e in page["events"]] == list(range(22, 122)) and page["more"] is True
    await olga.send({"type": "history", "room": slug, "before": 22})
    older = await olga.next("events", room=slug, live=False)
    assert [e["seq"] for e in older["events"]] == list(range(1, 22)) and older["more"] is False


async def test_outsiders_guests_and_other_devices_are_refused(world: World) -> None:
    slug = await new_room(world)
    tom = await world.socket("tom")
    await tom.send({"type": "open", "room": slug})
    refused = await tom.next("error")
    assert refused["code"] == "forbidden"
    anonymous = httpx.AsyncClient(base_url=world.rathaus.http)
    guest = await ChatSocket.open(world.rathaus.ws, anonymous, None)
    assert (await guest.next("error"))["code"] == "not_signed_in"
    olga = await ChatSocket.open(world.rathaus.ws, world.people["olga"].http, None)
    await olga.send({"type": "hello", "device": world.people["mia"].device})
    assert (await olga.next("error"))["code"] == "unknown_device"
    await olga.send({"type": "open", "room": slug})
    await olga.next("group")
    write = await olga.request(
        {
            "type": "create_group",
            "room": slug,
            "group_info": chat.b64(chat.group_info(b"g" * 16, 0)),
        }
    )
    assert write["code"] == "invalid_state"  # no hello with a device of hers yet
    members = await world.people["tom"].http.get(f"/api/chat/rooms/{slug}/members")
    assert members.status_code == 403
    listed = await world.people["mia"].http.get(f"/api/chat/rooms/{slug}/members")
    assert [(m["user"], m["role"]) for m in listed.json()] == [("mia", "member"), ("olga", "owner")]
    await anonymous.aclose()


async def test_malformed_mls_and_frames_are_answered_with_a_code(world: World) -> None:
    slug = await new_room(world)
    olga = await world.socket("olga")
    await open_room(olga, slug)
    group_id = await create_group(olga, slug)
    cases: list[dict[str, Any]] = [
        {"type": "send", "room": slug, "message": chat.b64(b"\x00\x01\x00\x02garbage")},
        {"type": "send", "room": slug, "message": chat.b64(chat.commit(group_id, 0))},
        {"type": "send", "room": slug, "message": "not base64!"},
        {**send_request(slug, b"x" * 16, 0, b"other group")},
        {
            "type": "commit",
            "room": slug,
            "commit": chat.b64(chat.commit(group_id, 0)),
            "group_info": chat.b64(chat.group_info(group_id, 5)),
        },
    ]
    for case in cases:
        answer = await olga.request(case)
        assert answer["type"] == "error" and answer["code"] in ("bad_message", "bad_request")
    await olga.send({"type": "nonsense"})
    assert (await olga.next("error"))["code"] == "bad_message"
    await olga.socket.send("[" * 100_000)
    assert (await olga.next("error"))["code"] == "bad_message"
    too_big = chat.message(group_id, 0, secrets.token_bytes(70_000))
    answer = await olga.request({"type": "send", "room": slug, "message": chat.b64(too_big)})
    assert answer["code"] == "too_large"
    fine = await olga.request(send_request(slug, group_id, 0, b"still here"))
    assert fine["type"] == "ack" and fine["seq"] == 2


async def test_acknowledged_messages_survive_a_restart(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = tmp_path_factory.mktemp("chat-restart")
    settings = server_settings(data, janus=shared_janus(server), meeting={"adhoc_rooms": None})
    async with running_server(settings) as rathaus:
        await rathaus.services.accounts.create_user("olga", chat.PASSWORD, "Olga")
        http = await chat.sign_in(rathaus.http, "olga")
        device = await chat.register_device(http)
        slug = (await http.post("/api/rooms", json={"name": "Kept"})).json()["slug"]
        socket = await ChatSocket.open(rathaus.ws, http, device)
        await open_room(socket, slug)
        group_id = await create_group(socket, slug)
        for n in range(3):
            await socket.request(send_request(slug, group_id, 0, bytes([n])))
        await socket.close()
        await http.aclose()
    async with running_server(settings) as again:
        http = await chat.sign_in(again.http, "olga")
        socket = await ChatSocket.open(again.ws, http, device)
        await open_room(socket, slug, after=0)
        kept = await socket.events(slug, 4)
        assert [e["kind"] for e in kept] == ["group", "message", "message", "message"]
        await socket.close()
        await http.aclose()
