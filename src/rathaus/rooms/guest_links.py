"""Guest links as records: made, listed and revoked by those who may change the room, checked at
the door. The token is never stored (see :mod:`rathaus.rooms.invites`); a record lives until its
link expires, then goes at the next making or listing of links (nothing kept longer than
needed). The audit log has a link's expiry, never its token."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import audit
from rathaus.accounts.service import User
from rathaus.db.models import GuestLinkRow
from rathaus.errors import NotFound
from rathaus.rooms import store
from rathaus.rooms.invites import LINK_ID, Invite, InviteCheck, Invites, decide
from rathaus.rooms.service import Room, RoomService, audit_party

# The most links one list holds (the newest); a room does not need more at once.
MAX_LISTED_LINKS = 500


@dataclass(frozen=True)
class GuestLink:
    id: str
    token: str
    created_at: int  # unix time
    expires_at: int
    created_by: str | None = None  # the maker's display name; None once the account is gone


def _until(expires: int) -> str:
    return datetime.fromtimestamp(expires, UTC).strftime("until %Y-%m-%d %H:%M UTC")


def _unix(value: datetime) -> int:
    return int(store.utc(value).timestamp())


class GuestLinks:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rooms: RoomService,
        invites: Invites,
    ) -> None:
        self._sessions = sessions
        self._rooms = rooms
        self._invites = invites

    async def create(
        self, slug: str, user: User, hours: float, now: float | None = None
    ) -> GuestLink:
        """A new link, by one who may change the room."""
        room = await self._rooms.get(slug)
        actor = audit_party(user, await self._rooms.require_manager(room, user))
        at = time.time() if now is None else now
        invite = self._invites.create(slug, hours, now=at)
        created = datetime.fromtimestamp(at, UTC)
        async with self._sessions.begin() as session:
            await store.delete_expired_guest_links(session, created)
            await store.insert_guest_link(
                session,
                GuestLinkRow(
                    id=invite.link_id,
                    room_id=room.id,
                    created_by=user.id,
                    created_at=created,
                    expires_at=datetime.fromtimestamp(invite.expires, UTC),
                ),
            )
            audit.add(
                session, slug, actor, "room_guest_link_created", detail=_until(invite.expires)
            )
        return GuestLink(invite.link_id, self._invites.token(invite), int(at), invite.expires)

    async def links(self, slug: str, user: User, now: float | None = None) -> list[GuestLink]:
        """The room's unexpired links, newest first (at most `MAX_LISTED_LINKS`), each with its
        token made again from the record."""
        room = await self._rooms.get(slug)
        await self._rooms.require_manager(room, user)
        at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        async with self._sessions.begin() as session:
            await store.delete_expired_guest_links(session, at)
            found = await store.guest_links(session, room.id, at, MAX_LISTED_LINKS)
        return [self._link(room, row, maker) for row, maker in found]

    async def revoke(self, slug: str, user: User, link_id: str, now: float | None = None) -> None:
        """Delete a link's record, so that its token lets nobody in any more. Whether the caller
        may is checked before the id is looked up: nobody learns which ids exist by asking."""
        room = await self._rooms.get(slug)
        actor = audit_party(user, await self._rooms.require_manager(room, user))
        at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        async with self._sessions.begin() as session:
            await store.delete_expired_guest_links(session, at)
            row = None
            if LINK_ID.fullmatch(link_id):
                row = await store.guest_link(session, room.id, link_id)
            if row is None:
                raise NotFound("no such guest link (revoked, expired or never made)")
            await session.delete(row)
            detail = _until(_unix(row.expires_at))
            audit.add(session, slug, actor, "room_guest_link_revoked", detail=detail)

    async def check(self, token: str, room: Room, now: float | None = None) -> InviteCheck:
        """Whether ``token`` lets a guest into ``room``: signed by us, for this room, unexpired,
        and its record not revoked."""
        invite = self._invites.read(token)
        stored = None
        if invite is not None and invite.room == room.slug:
            async with self._sessions() as session:
                stored = await store.guest_link_room(session, invite.link_id)
        return decide(invite, room.slug, stored, now)

    def _link(self, room: Room, row: GuestLinkRow, maker: str | None) -> GuestLink:
        expires = _unix(row.expires_at)
        token = self._invites.token(Invite(room.slug, expires, row.id))
        return GuestLink(row.id, token, _unix(row.created_at), expires, maker)
