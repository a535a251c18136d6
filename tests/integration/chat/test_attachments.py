"""Attachments over real HTTP: blobs up and down byte for byte, kept private on disk, limited in
size and in volume per member and hour, for the room's members only (owner, member, someone of
the installation who is no member, someone not signed in), deleted by their uploader or a
moderator, and dropped by the retention purge's call."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from rathaus.db.models import ChatBlobRow
from tests.support import attachments as a
from tests.support import chat
from tests.support.chat_world import World, chat_world, new_room
from tests.support.server import RunningServer

MAX = 256 * 1024  # chat.max_attachment_bytes here
PER_HOUR = 1024 * 1024  # chat.attachment_bytes_per_hour here


@pytest.fixture(scope="module")
async def world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """This module's own Rathaus, with small attachment limits."""
    limits = {"max_attachment_bytes": MAX, "attachment_bytes_per_hour": PER_HOUR}
    async with chat_world(server, tmp_path_factory.mktemp("attach"), chat=limits) as found:
        yield found


async def someone(world: World) -> tuple[httpx.AsyncClient, str]:
    """Another account, signed in (a fresh hourly volume of its own), and its user name."""
    name = f"p{secrets.token_hex(4)}"
    await world.rathaus.services.accounts.create_user(name, chat.PASSWORD, name)
    return await chat.sign_in(world.rathaus.http, name), name


async def uploaded(http: httpx.AsyncClient, slug: str, size: int = 1000) -> tuple[str, bytes]:
    data = secrets.token_bytes(size)
    answer = await a.upload(http, slug, data)
    assert answer.status_code == 201, answer.text
    return answer.json()["blob"], data


async def test_a_blob_goes_up_and_comes_down_byte_for_byte(world: World) -> None:
    slug = await new_room(world)
    mia, olga = world.people["mia"].http, world.people["olga"].http
    data = secrets.token_bytes(200_000)
    answer = await a.upload(mia, slug, data)
    assert answer.status_code == 201
    body = answer.json()
    assert set(body) == {"blob", "size"} and body["size"] == len(data)
    assert len(body["blob"]) == 22

    got = await a.download(olga, slug, body["blob"])
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["cache-control"] == "private, no-store"
    assert got.headers["content-disposition"] == "attachment"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-length"] == str(len(data))

    # On disk: exactly what was uploaded, private to Rathaus's account.
    path = await a.blob_path(world.rathaus, slug, body["blob"])
    assert path.read_bytes() == data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(a.blob_folder(world.rathaus)).st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [body["blob"]]

    chunked = await a.upload_chunked(mia, slug, data[:50_000])
    assert chunked.status_code == 201 and chunked.json()["size"] == 50_000
    again = await a.download(mia, slug, chunked.json()["blob"])
    assert again.content == data[:50_000]

    empty = await a.upload(mia, slug, b"")
    assert empty.status_code == 201 and empty.json()["size"] == 0
    assert (await a.download(olga, slug, empty.json()["blob"])).content == b""

    limits = await mia.get("/api/chat/attachments/limits")
    assert limits.json() == {"max_bytes": MAX}


async def test_only_the_rooms_members_upload_and_download(world: World) -> None:
    """Room A: Olga's, Mia a member. Room B: another person's, of whom none of the actors is a
    member. Each actor uploads to both and downloads someone else's blob in both."""
    room_a = await new_room(world)
    olga, mia, tom = (world.people[n].http for n in ("olga", "mia", "tom"))
    zoe, _ = await someone(world)
    made = await zoe.post("/api/rooms", json={"name": f"Zoe {secrets.token_hex(3)}"})
    room_b = made.json()["slug"]
    olgas, _ = await uploaded(olga, room_a)
    mias, _ = await uploaded(mia, room_a)
    zoes, _ = await uploaded(zoe, room_b)
    anonymous = httpx.AsyncClient(base_url=world.rathaus.http)
    try:
        actors = {
            # actor: (client, someone else's blob in A, upload A, upload B, download A)
            "owner": (olga, mias, 201, 403, 200),
            "member": (mia, olgas, 201, 403, 200),
            "outsider": (tom, olgas, 403, 403, 404),
            "anonymous": (anonymous, olgas, 401, 401, 401),
        }
        nothing = (await a.download(mia, room_a, secrets.token_urlsafe(16))).json()
        for name, (http, others, up_a, up_b, down_a) in actors.items():
            outcome = (
                (await a.upload(http, room_a, b"x" * 100)).status_code,
                (await a.upload(http, room_b, b"x" * 100)).status_code,
                (await a.download(http, room_a, others)).status_code,
                (await a.download(http, room_b, zoes)).status_code,
                (await a.download(http, room_a, zoes)).status_code,  # B's blob, asked of A
            )
            not_found = 401 if name == "anonymous" else 404
            assert outcome == (up_a, up_b, down_a, not_found, not_found), name
            if name != "anonymous":
                # A blob that is there but not theirs reads like one that never was.
                assert (await a.download(http, room_b, zoes)).json() == nothing, name
                assert (await a.delete(http, room_b, zoes)).json() == nothing, name
        assert (await a.delete(anonymous, room_a, olgas)).status_code == 401
        assert (await a.delete(tom, room_a, olgas)).status_code == 404
        assert (await a.download(zoe, room_b, zoes)).status_code == 200  # still there
        assert (await a.download(olga, room_a, olgas)).status_code == 200
    finally:
        await anonymous.aclose()
        await zoe.aclose()

    # Like every other change: with the session's CSRF token only, as application/octet-stream.
    no_token = await mia.post(
        f"/api/chat/rooms/{room_a}/blobs",
        content=b"x",
        headers={**a.BLOB_TYPE, "x-csrf-token": "wrong"},
    )
    assert no_token.status_code == 403 and no_token.json()["code"] == "csrf"
    form = await mia.post(f"/api/chat/rooms/{room_a}/blobs", content=b"x=1")
    assert form.status_code == 415
    unknown = await a.upload(mia, "no-such-room", b"x")
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_room"


async def test_too_large_and_too_much_are_refused_and_leave_nothing(world: World) -> None:
    slug = await new_room(world)
    mia = world.people["mia"].http
    folder = a.blob_folder(world.rathaus) / str((await world.rathaus.services.rooms.get(slug)).id)

    assert (await a.upload(mia, slug, b"y" * MAX)).status_code == 201  # the limit itself
    declared = await a.upload(mia, slug, b"y" * (MAX + 1))
    assert declared.status_code == 413 and declared.json()["code"] == "too_large"
    chunked = await a.upload_chunked(mia, slug, b"y" * (MAX + 20_000))
    assert chunked.status_code == 413 and chunked.json()["code"] == "too_large"
    assert len(list(folder.iterdir())) == 1  # no part of the refused ones

    # A fresh member's hourly volume: PER_HOUR in all, however it is split.
    vera, name = await someone(world)
    olga = world.people["olga"].http
    assert (await olga.put(f"/api/rooms/{slug}/roles/{name}", json={"role": "member"})).is_success
    try:
        for _ in range(PER_HOUR // MAX):
            assert (await a.upload(vera, slug, b"z" * MAX)).status_code == 201
        over = await a.upload(vera, slug, b"z" * 10)
        assert over.status_code == 429 and over.json()["code"] == "rate_limited"
        over_chunked = await a.upload_chunked(vera, slug, b"z" * 10)
        assert over_chunked.status_code == 429
        assert (await a.upload(mia, slug, b"m" * 10)).status_code == 201  # hers is apart
    finally:
        await vera.aclose()
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]


async def test_the_uploader_or_a_moderator_deletes_a_blob(world: World) -> None:
    slug = await new_room(world)
    olga, mia, tom = (world.people[n].http for n in ("olga", "mia", "tom"))
    assert (await olga.put(f"/api/rooms/{slug}/roles/tom", json={"role": "moderator"})).is_success

    olgas, _ = await uploaded(olga, slug)
    refused = await a.delete(mia, slug, olgas)  # a plain member, someone else's
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert (await a.download(mia, slug, olgas)).status_code == 200

    mine, _ = await uploaded(mia, slug)
    path = await a.blob_path(world.rathaus, slug, mine)
    assert (await a.delete(mia, slug, mine)).status_code == 204
    assert not path.exists()
    assert (await a.download(olga, slug, mine)).status_code == 404
    assert (await a.delete(mia, slug, mine)).status_code == 404

    by_owner, _ = await uploaded(mia, slug)
    assert (await a.delete(olga, slug, by_owner)).status_code == 204
    by_moderator, _ = await uploaded(mia, slug)
    assert (await a.delete(tom, slug, by_moderator)).status_code == 204
    assert (await a.download(mia, slug, by_moderator)).status_code == 404


async def test_blobs_older_than_a_time_are_deleted(world: World) -> None:
    """What the retention purge calls for each room (rathaus.chat.retention.Extra)."""
    slug = await new_room(world)
    room = await world.rathaus.services.rooms.get(slug)
    mia = world.people["mia"].http
    old, _ = await uploaded(mia, slug)
    new, data = await uploaded(mia, slug)
    store = world.rathaus.services.attachments.blobs
    async with store._sessions.begin() as session:  # the test dates one back
        when = datetime.now(UTC) - timedelta(days=40)
        await session.execute(
            update(ChatBlobRow).where(ChatBlobRow.id == old).values(created_at=when)
        )
    cutoff = datetime.now(UTC) - timedelta(days=30)
    assert await store.delete_blobs_older_than(room.id, cutoff) == 1
    assert not (await a.blob_path(world.rathaus, slug, old)).exists()
    assert (await a.download(mia, slug, old)).status_code == 404
    assert (await a.download(mia, slug, new)).content == data
    assert await store.delete_blobs_older_than(room.id, cutoff) == 0
