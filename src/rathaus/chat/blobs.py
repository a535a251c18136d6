"""The blob store of the chat's attachments: files the members' browsers encrypted, each with a
key of its own that travels only inside the MLS-encrypted chat message naming it, so the server
holds ciphertext it cannot read. Each blob is recorded in the table ``chat_blobs`` (its room, its
random id, who uploaded it, its size, when) and kept by a backend: on disk (the default,
``<data_dir>/blobs/<room id>/<blob id>``, directories 0700 and files 0600) or in an S3-compatible
store (``blobs_s3.py``). Bytes are streamed both ways: a blob is never held in memory whole."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.config import Settings
from rathaus.datadir import PRIVATE_FILE, private_dir
from rathaus.db.models import ChatBlobRow
from rathaus.errors import ConfigError, RathausError
from rathaus.rooms.store import utc

# A blob's id: 16 random bytes, unpadded base64url.
BLOB_ID = re.compile(r"[A-Za-z0-9_-]{22}")
WRITE_BYTES = 1024 * 1024  # what the disk backend gathers before each write
READ_BYTES = 256 * 1024  # and reads at a time


class BlobMissing(RathausError):
    """The backend has no such blob (never stored, or deleted)."""


class BlobBackend(Protocol):
    """Where the bytes are. ``write`` leaves nothing behind when it raises (also when the body
    it reads stops with an error); ``delete`` of a blob that is not there does nothing."""

    async def write(self, room_id: int, blob_id: str, chunks: AsyncIterator[bytes]) -> int: ...

    async def open(self, room_id: int, blob_id: str) -> AsyncIterator[bytes]:
        """The blob's bytes, in order; BlobMissing at once if there is no such blob."""
        ...

    async def delete(self, room_id: int, blob_id: str) -> None: ...

    async def close(self) -> None: ...


class DiskBlobs:
    """Blobs as files: ``<root>/<room id>/<blob id>``, written as ``<blob id>.part`` and renamed
    once complete, so a blob is either all there or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, room_id: int, blob_id: str) -> Path:
        if BLOB_ID.fullmatch(blob_id) is None:
            raise BlobMissing(blob_id)  # never a path outside the room's folder
        return self.root / str(int(room_id)) / blob_id

    def _folder(self, room_id: int) -> Path:
        private_dir(self.root)
        return private_dir(self.root / str(int(room_id)))

    async def write(self, room_id: int, blob_id: str, chunks: AsyncIterator[bytes]) -> int:
        final = self.path(room_id, blob_id)
        await asyncio.to_thread(self._folder, room_id)
        part = final.with_name(final.name + ".part")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(part, flags, PRIVATE_FILE)
        os.fchmod(fd, PRIVATE_FILE)  # whatever the umask
        size = 0
        try:
            with os.fdopen(fd, "wb") as file:
                buffer = bytearray()
                async for chunk in chunks:
                    buffer += chunk
                    size += len(chunk)
                    if len(buffer) >= WRITE_BYTES:
                        await asyncio.to_thread(file.write, buffer)
                        buffer = bytearray()
                if buffer:
                    await asyncio.to_thread(file.write, buffer)
                await asyncio.to_thread(_flush, file)
            await asyncio.to_thread(os.replace, part, final)
        except BaseException:
            with contextlib.suppress(OSError):
                part.unlink()
            raise
        return size

    async def open(self, room_id: int, blob_id: str) -> AsyncIterator[bytes]:
        path = self.path(room_id, blob_id)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise BlobMissing(blob_id) from None
        return _read(file)

    async def delete(self, room_id: int, blob_id: str) -> None:
        with contextlib.suppress(BlobMissing):
            await asyncio.to_thread(self.path(room_id, blob_id).unlink, missing_ok=True)

    async def close(self) -> None:
        pass


def _flush(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


async def _read(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(file.read, READ_BYTES):
            yield chunk
    finally:
        file.close()


@dataclass(frozen=True)
class Blob:
    id: str
    room_id: int
    uploader_id: int | None
    size: int
    created_at: datetime

    @classmethod
    def of(cls, row: ChatBlobRow) -> Blob:
        return cls(row.id, row.room_id, row.uploader_id, row.size, utc(row.created_at))


class BlobStore:
    """The records and the bytes of blobs together."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        backend: BlobBackend,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self.backend = backend
        self._clock = clock

    async def add(self, room_id: int, uploader_id: int, chunks: AsyncIterator[bytes]) -> Blob:
        """Stores what ``chunks`` yields as a new blob of the room under a new random id; if
        they stop with an error, nothing is kept."""
        blob_id = secrets.token_urlsafe(16)
        size = await self.backend.write(room_id, blob_id, chunks)
        row = ChatBlobRow(
            id=blob_id,
            room_id=room_id,
            uploader_id=uploader_id,
            size=size,
            created_at=self._clock(),
        )
        try:
            async with self._sessions.begin() as session:
                session.add(row)
                await session.flush()
                return Blob.of(row)
        except BaseException:
            await self.backend.delete(room_id, blob_id)
            raise

    async def find(self, room_id: int, blob_id: str) -> Blob | None:
        """The room's blob of that id; None for another room's, or none."""
        if BLOB_ID.fullmatch(blob_id) is None:
            return None
        async with self._sessions() as session:
            row = await session.get(ChatBlobRow, blob_id)
        return Blob.of(row) if row is not None and row.room_id == room_id else None

    async def open(self, blob: Blob) -> AsyncIterator[bytes]:
        return await self.backend.open(blob.room_id, blob.id)

    async def delete(self, blob: Blob) -> None:
        """The bytes first, then the record: a failure in between leaves a record whose blob
        cannot be opened (BlobMissing), and deleting it again finishes the work."""
        await self.backend.delete(blob.room_id, blob.id)
        async with self._sessions.begin() as session:
            await session.execute(delete(ChatBlobRow).where(ChatBlobRow.id == blob.id))

    async def delete_blobs_older_than(self, room_id: int, before: datetime) -> int:
        """Deletes the room's blobs uploaded before ``before`` (the retention purge); how many.
        Fits `rathaus.chat.retention.Extra`."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(ChatBlobRow).where(
                    ChatBlobRow.room_id == room_id, ChatBlobRow.created_at < before
                )
            )
            old = [Blob.of(row) for row in rows]
        for blob in old:
            await self.delete(blob)
        return len(old)

    async def close(self) -> None:
        await self.backend.close()


def create_blob_store(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> BlobStore:
    """The blob store ``[chat] blob_store`` names: disk (default) or S3."""
    chat = settings.chat
    if chat.blob_store == "s3":
        try:
            from rathaus.chat.blobs_s3 import S3Blobs  # aiobotocore: only when configured
        except ImportError as exc:
            raise ConfigError("blob_store s3 needs aiobotocore: pip install 'rathaus[s3]'") from exc

        backend: BlobBackend = S3Blobs(
            endpoint=chat.s3_endpoint,
            bucket=chat.s3_bucket,
            access_key=chat.s3_access_key,
            secret_key=chat.s3_secret_key.get_secret_value(),
            region=chat.s3_region,
        )
    else:
        backend = DiskBlobs(settings.server.data_dir / "blobs")
    return BlobStore(sessions, backend)
