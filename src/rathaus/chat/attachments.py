"""The rules of the chat's attachments: a room's members upload blobs (files their browsers
encrypted, js/chat/attachments.js) and download them; the uploader or a moderator deletes one.
The server never learns which message names a blob: the blob's id and key travel inside the
MLS-encrypted message, so whoever deletes a message with an attachment deletes its blob too (the
browser does). HTTP: attachments_api.py.

- Upload, download and delete are for the room's members only. Download and delete answer anyone
  else ``404``, as for a blob that does not exist; an upload by someone else is ``403``.
- A blob is at most ``[chat] max_attachment_bytes`` (``413 too_large``: at once when the
  Content-Length says so, else once the body passes it), and each member uploads at most
  ``[chat] attachment_bytes_per_hour`` (``429 rate_limited``; counted in each process).
- Deleting a blob is its uploader's, or a moderator's (``MODERATING``); else ``403``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from rathaus.accounts.service import User
from rathaus.chat.blobs import Blob, BlobMissing, BlobStore
from rathaus.chat.service import MODERATING, ChatService
from rathaus.config import ChatSettings
from rathaus.errors import NotFound, RateLimited, TooLarge
from rathaus.rooms.service import NotAllowed, Room

HOUR = 3600.0
NO_SUCH_BLOB = "no such attachment"


@dataclass
class _Charge:
    at: float
    size: int


class VolumeLimit:
    """Bytes per member within a sliding window (an hour), counted as they arrive: so uploads at
    once count together. In memory: each process counts its own."""

    def __init__(
        self, limit: int, window: float = HOUR, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._charges: dict[int, deque[_Charge]] = {}

    def used(self, user_id: int) -> int:
        charges = self._charges.get(user_id)
        if charges is None:
            return 0
        horizon = self._clock() - self.window
        while charges and charges[0].at <= horizon:
            charges.popleft()
        if not charges:
            del self._charges[user_id]
        return sum(c.size for c in charges)

    def allows(self, user_id: int, size: int) -> bool:
        return self.used(user_id) + size <= self.limit

    def charge(self, user_id: int, size: int) -> bool:
        """Counts ``size`` more bytes for the member; False (and nothing counted) past the limit."""
        if not self.allows(user_id, size):
            return False
        now = self._clock()
        charges = self._charges.setdefault(user_id, deque())
        if charges and now - charges[-1].at < 1.0:
            charges[-1].size += size  # one entry a second at most
        else:
            charges.append(_Charge(now, size))
        return True


class Attachments:
    """The rules of attachments, over the blob store."""

    def __init__(
        self,
        chat: ChatService,
        blobs: BlobStore,
        settings: ChatSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chat = chat
        self.blobs = blobs
        self.max_bytes = settings.max_attachment_bytes
        self.volume = VolumeLimit(settings.attachment_bytes_per_hour, clock=clock)

    async def upload(
        self, room: Room, user: User, body: AsyncIterator[bytes], declared: int | None
    ) -> Blob:
        """Stores ``body`` as a new blob of the room: at most ``max_bytes`` and what the member's
        volume allows, or nothing is kept."""
        await self.chat.member_since(room, user)  # NotAllowed (403) for anyone else
        if declared is not None and declared > self.max_bytes:
            raise TooLarge(f"an attachment is at most {self.max_bytes} bytes")
        if declared is not None and not self.volume.allows(user.id, declared):
            raise RateLimited("you uploaded as much as you may this hour; try again later")
        return await self.blobs.add(room.id, user.id, self._bounded(user, body))

    async def _bounded(self, user: User, body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        size = 0
        async for chunk in body:
            size += len(chunk)
            if size > self.max_bytes:
                raise TooLarge(f"an attachment is at most {self.max_bytes} bytes")
            if not self.volume.charge(user.id, len(chunk)):
                raise RateLimited("you uploaded as much as you may this hour; try again later")
            yield chunk

    async def _member_or_not_found(self, room: Room, user: User) -> None:
        try:
            await self.chat.member_since(room, user)
        except NotAllowed:
            raise NotFound(NO_SUCH_BLOB) from None  # never saying whether the blob exists

    async def download(
        self, room: Room, user: User, blob_id: str
    ) -> tuple[Blob, AsyncIterator[bytes]]:
        await self._member_or_not_found(room, user)
        blob = await self.blobs.find(room.id, blob_id)
        if blob is None:
            raise NotFound(NO_SUCH_BLOB)
        try:
            return blob, await self.blobs.open(blob)
        except BlobMissing:
            raise NotFound(NO_SUCH_BLOB) from None

    async def delete(self, room: Room, user: User, blob_id: str) -> None:
        await self._member_or_not_found(room, user)
        blob = await self.blobs.find(room.id, blob_id)
        if blob is None:
            raise NotFound(NO_SUCH_BLOB)
        if blob.uploader_id != user.id and await self.chat.rooms.role_of(room, user) not in (
            MODERATING
        ):
            raise NotAllowed("only its uploader or a moderator may delete an attachment")
        await self.blobs.delete(blob)

    async def close(self) -> None:
        await self.blobs.close()
