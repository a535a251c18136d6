"""The rules for rooms: names, link names and ad-hoc creation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.errors import BadMessage, Conflict, UnknownRoom
from rathaus.rooms import store
from rathaus.rooms.slug import is_valid_slug, slugify

MAX_NAME = 200


@dataclass(frozen=True)
class Room:
    slug: str
    name: str
    owner_id: int | None = None


async def _no_accounts() -> bool:
    return False


class RoomService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        adhoc: bool | None,
        accounts_configured: Callable[[], Awaitable[bool]] = _no_accounts,
    ) -> None:
        self._sessions = sessions
        self._adhoc = adhoc
        self._accounts_configured = accounts_configured

    async def adhoc_allowed(self) -> bool:
        """Ad-hoc rooms by link: as configured, or by default only without any accounts."""
        if self._adhoc is not None:
            return self._adhoc
        return not await self._accounts_configured()

    async def create(self, name: str, slug: str | None = None, owner_id: int | None = None) -> Room:
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME or not name.isprintable():
            raise BadMessage(f"a room name has 1 to {MAX_NAME} printable characters")
        slug = slug or slugify(name)
        if not is_valid_slug(slug):
            raise BadMessage("a link name has 1 to 64 characters: a-z, 0-9 and inner hyphens")
        async with self._sessions.begin() as session:
            row = await store.insert_room(session, slug, name, owner_id)
            return Room(row.slug, row.name, row.owner_id)

    async def get(self, slug: str) -> Room:
        if not is_valid_slug(slug):
            raise UnknownRoom("no such room")
        async with self._sessions() as session:
            row = await store.get_room(session, slug)
        if row is None:
            raise UnknownRoom("no such room")
        return Room(row.slug, row.name, row.owner_id)

    async def open(self, slug: str) -> Room:
        """The room behind a meeting link; creates it when ad-hoc rooms are allowed."""
        try:
            return await self.get(slug)
        except UnknownRoom:
            if not is_valid_slug(slug) or not await self.adhoc_allowed():
                raise
        try:
            async with self._sessions.begin() as session:
                row = await store.insert_room(session, slug, slug)
                return Room(row.slug, row.name)
        except Conflict:
            # Another request created it between our read and our insert. Our insert failed only
            # once that transaction had committed (PostgreSQL's unique index and SQLite's write
            # lock make it wait), so a fresh read, in a new transaction, finds the room.
            return await self.get(slug)
