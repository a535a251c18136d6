"""Retention: a room set to keep its chat N days loses older messages for real (their rows gone
from the database, relations and deletions too), keeps its commits, and the setting is an
owner's, audited. Rooms kept for ever lose nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from rathaus.chat.retention import purge
from rathaus.db.models import ChatBlobRow, ChatEventRow
from tests.support.attachments import blob_path, download, upload
from tests.support.chat_world import (
    World,
    commit_request,
    create_group,
    new_room,
    open_room,
    send_request,
)


async def kinds(world: World, slug: str) -> list[tuple[int, str]]:
    room = await world.rathaus.services.rooms.get(slug)
    async with world.rathaus.services.chat._sessions() as session:  # the test reads the database
        rows = await session.execute(
            select(ChatEventRow.seq, ChatEventRow.kind)
            .where(ChatEventRow.room_id == room.id)
            .order_by(ChatEventRow.seq)
        )
    return [(seq, kind) for seq, kind in rows.all()]


async def age(world: World, slug: str, days: int) -> None:
    """Makes every event of the room ``days`` older."""
    room = await world.rathaus.services.rooms.get(slug)
    async with world.rathaus.services.chat._sessions.begin() as session:
        await session.execute(
            update(ChatEventRow)
            .where(ChatEventRow.room_id == room.id)
            .values(created_at=ChatEventRow.created_at - timedelta(days=days))
        )


async def test_attachments_past_the_rooms_time_are_deleted(world: World) -> None:
    slug = await new_room(world)
    olga = world.people["olga"].http
    await olga.patch(f"/api/rooms/{slug}", json={"retention_days": 30})
    old, new = (
        (await upload(olga, slug, b"a" * 100)).json(),
        (await upload(olga, slug, b"b")).json(),
    )
    room = await world.rathaus.services.rooms.get(slug)
    async with world.rathaus.services.chat._sessions.begin() as session:
        await session.execute(
            update(ChatBlobRow)
            .where(ChatBlobRow.room_id == room.id, ChatBlobRow.id == old["blob"])
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    path = await blob_path(world.rathaus, slug, old["blob"])
    assert path.exists()
    blobs = world.rathaus.services.attachments.blobs
    await purge(
        world.rathaus.services.chat._sessions, datetime.now(UTC), (blobs.delete_blobs_older_than,)
    )
    assert not path.exists()  # from the disk, not only the database
    assert (await download(olga, slug, old["blob"])).status_code == 404
    assert (await download(olga, slug, new["blob"])).status_code == 200


async def test_messages_past_the_rooms_time_are_deleted(world: World) -> None:
    kept, forever = await new_room(world), await new_room(world)
    olga = world.people["olga"].http
    set_ = await olga.patch(f"/api/rooms/{kept}", json={"retention_days": 30})
    assert set_.status_code == 200 and set_.json()["retention_days"] == 30
    mia = await world.people["mia"].http.patch(f"/api/rooms/{kept}", json={"retention_days": 0})
    assert mia.status_code == 403  # an owner's setting
    socket = await world.socket("olga")
    for slug in (kept, forever):
        await open_room(socket, slug)
        group_id = await create_group(socket, slug)
        first = await socket.request(send_request(slug, group_id, 0, b"alt"))
        await socket.request(send_request(slug, group_id, 0, b"+", rel="react", ref=first["seq"]))
        await socket.request(commit_request(slug, group_id, 0))
        await age(world, slug, 31)
        await socket.request(send_request(slug, group_id, 1, b"neu"))
    sessions = world.rathaus.services.chat._sessions
    assert await purge(sessions, datetime.now(UTC)) == 2
    assert await kinds(world, kept) == [(1, "group"), (4, "commit"), (5, "message")]
    assert [k for _, k in await kinds(world, forever)].count("message") == 3
    assert await purge(sessions, datetime.now(UTC)) == 0  # nothing twice
    entries = await world.rathaus.services.audit.recent(50, kept)
    assert [(e.action, e.detail) for e in entries if e.action == "room_retention_set"] == [
        ("room_retention_set", "30")
    ]
