"""Attachments over HTTP for the chat's integration tests: raw bytes up and down, and where the
disk store keeps a blob."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from tests.support.server import RunningServer

BLOB_TYPE = {"content-type": "application/octet-stream"}


async def upload(http: httpx.AsyncClient, slug: str, data: bytes) -> httpx.Response:
    return await http.post(f"/api/chat/rooms/{slug}/blobs", content=data, headers=BLOB_TYPE)


async def upload_chunked(http: httpx.AsyncClient, slug: str, data: bytes) -> httpx.Response:
    """The same without a Content-Length (Transfer-Encoding: chunked)."""

    async def parts() -> AsyncIterator[bytes]:
        for i in range(0, len(data), 16 * 1024):
            yield data[i : i + 16 * 1024]

    return await http.post(f"/api/chat/rooms/{slug}/blobs", content=parts(), headers=BLOB_TYPE)


async def download(http: httpx.AsyncClient, slug: str, blob: str) -> httpx.Response:
    return await http.get(f"/api/chat/rooms/{slug}/blobs/{blob}")


async def delete(http: httpx.AsyncClient, slug: str, blob: str) -> httpx.Response:
    return await http.delete(f"/api/chat/rooms/{slug}/blobs/{blob}")


def blob_folder(rathaus: RunningServer) -> Path:
    return rathaus.settings.server.data_dir / "blobs"


async def blob_path(rathaus: RunningServer, slug: str, blob: str) -> Path:
    room = await rathaus.services.rooms.get(slug)
    return blob_folder(rathaus) / str(room.id) / blob
