"""The S3 blob store (``[chat] blob_store = "s3"``) against a local S3-compatible server (moto's, on
loopback): blobs up and down byte for byte, a large one as a multipart upload, nothing left of a
refused one (no object, no unfinished upload), and deleted for real."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.support import attachments as a
from tests.support.chat_world import World, chat_world, new_room
from tests.support.s3 import LocalS3, local_s3
from tests.support.server import RunningServer

MAX = 20 * 1024 * 1024
MIB = 1024 * 1024


@dataclass
class S3World:
    world: World
    s3: LocalS3


@pytest.fixture(scope="module")
async def s3_world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[S3World]:
    async with local_s3() as s3:
        chat = {**s3.settings(), "max_attachment_bytes": MAX}
        async with chat_world(server, tmp_path_factory.mktemp("s3"), chat=chat) as world:
            yield S3World(world, s3)


async def test_blobs_go_to_s3_and_come_back(s3_world: S3World) -> None:
    world, s3 = s3_world.world, s3_world.s3
    slug = await new_room(world)
    room = await world.rathaus.services.rooms.get(slug)
    mia, olga = world.people["mia"].http, world.people["olga"].http
    small = secrets.token_bytes(70_000)
    large = secrets.token_bytes(17 * MIB + 123)  # three parts: 8 MiB, 8 MiB and the rest
    ids = []
    for data in (small, large):
        answer = await a.upload_chunked(mia, slug, data)
        assert answer.status_code == 201, answer.text
        assert answer.json()["size"] == len(data)
        ids.append(answer.json()["blob"])
        assert (await a.download(olga, slug, ids[-1])).content == data
    assert await s3.objects() == {f"{room.id}/{ids[0]}": small, f"{room.id}/{ids[1]}": large}
    assert not (world.rathaus.settings.server.data_dir / "blobs").exists()

    refused = await a.upload_chunked(mia, slug, secrets.token_bytes(MAX + MIB))
    assert refused.status_code == 413 and refused.json()["code"] == "too_large"
    assert len(await s3.objects()) == 2 and await s3.unfinished_uploads() == []

    assert (await a.delete(mia, slug, ids[1])).status_code == 204
    assert list(await s3.objects()) == [f"{room.id}/{ids[0]}"]
    assert (await a.download(olga, slug, ids[1])).status_code == 404


async def test_a_blob_gone_from_s3_is_not_found(s3_world: S3World) -> None:
    world, s3 = s3_world.world, s3_world.s3
    slug = await new_room(world)
    room = await world.rathaus.services.rooms.get(slug)
    mia = world.people["mia"].http
    blob = (await a.upload(mia, slug, b"ciphertext")).json()["blob"]
    await s3.client.delete_object(Bucket=s3.bucket, Key=f"{room.id}/{blob}")  # behind our back
    gone = await a.download(mia, slug, blob)
    assert gone.status_code == 404 and gone.json()["code"] == "not_found"
    assert (await a.delete(mia, slug, blob)).status_code == 204  # the record goes too
