"""SQL for rooms."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db.models import GuestLinkRow, RoomRoleRow, RoomRow, UserRow
from rathaus.errors import Conflict


def utc(value: datetime) -> datetime:
    """A time read back: SQLite keeps no time zone, and stores UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def get_room(session: AsyncSession, slug: str) -> RoomRow | None:
    result = await session.execute(select(RoomRow).where(RoomRow.slug == slug))
    return result.scalar_one_or_none()


async def insert_room(
    session: AsyncSession,
    slug: str,
    name: str,
    owner_id: int | None = None,
    *,
    direct_pair: str | None = None,
) -> RoomRow:
    """A room; with ``direct_pair`` the direct conversation of those two (members only, no
    lobby). A taken link name or pair is a `Conflict`."""
    row = RoomRow(slug=slug, name=name, owner_id=owner_id)
    if direct_pair is not None:
        row.kind, row.direct_pair = "direct", direct_pair
        row.guests_allowed, row.lobby = False, False
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a room with the link name {slug!r} exists already") from exc
    return row


async def direct_room(session: AsyncSession, pair: str) -> RoomRow | None:
    result = await session.execute(select(RoomRow).where(RoomRow.direct_pair == pair))
    return result.scalar_one_or_none()


async def role_of(session: AsyncSession, room_id: int, user_id: int) -> str | None:
    row = await session.get(RoomRoleRow, (room_id, user_id))
    return row.role if row else None


async def member_since(session: AsyncSession, room_id: int, user_id: int) -> datetime | None:
    """Since when ``user_id`` is a member of the room (its owner: since it was created), or
    None for who is none."""
    room = await session.get(RoomRow, room_id)
    if room is None:
        return None
    if room.owner_id == user_id:
        return utc(room.created_at)
    row = await session.get(RoomRoleRow, (room_id, user_id))
    return utc(row.since) if row is not None else None


async def set_role(
    session: AsyncSession, room_id: int, user_id: int, role: str | None, now: datetime
) -> None:
    """Give a role, or with None take it. A member whose role changes stays a member since
    the first: ``now`` is their `since` only when they had no role before."""
    row = await session.get(RoomRoleRow, (room_id, user_id))
    if role is None:
        if row is not None:
            await session.delete(row)
            await session.flush()
    elif row is not None:
        row.role = role
    else:
        session.add(RoomRoleRow(room_id=room_id, user_id=user_id, role=role, since=now))
        await session.flush()


async def roles(session: AsyncSession, room_id: int) -> list[tuple[int, str]]:
    result = await session.execute(
        select(RoomRoleRow.user_id, RoomRoleRow.role).where(RoomRoleRow.room_id == room_id)
    )
    return [(user_id, role) for user_id, role in result.all()]


async def rooms_of(session: AsyncSession, user_id: int, limit: int) -> list[tuple[RoomRow, str]]:
    """The rooms ``user_id`` owns or has a room role in, with that role, newest first, at most
    ``limit``."""
    has_role = and_(RoomRoleRow.room_id == RoomRow.id, RoomRoleRow.user_id == user_id)
    result = await session.execute(
        select(RoomRow, RoomRoleRow.role)
        .outerjoin(RoomRoleRow, has_role)
        .where(or_(RoomRow.owner_id == user_id, RoomRoleRow.role.is_not(None)))
        .order_by(RoomRow.created_at.desc(), RoomRow.id.desc())
        .limit(limit)
    )
    return [
        (row, "owner" if row.owner_id == user_id else role or "member")
        for row, role in result.all()
    ]


async def people(session: AsyncSession, room: RoomRow) -> list[tuple[UserRow, str, datetime]]:
    """The room's owner (if any) and the members with a room role, each with the role and
    since when they are a member (the owner: since the room was created)."""
    found: list[tuple[UserRow, str, datetime]] = []
    if room.owner_id is not None and (owner := await session.get(UserRow, room.owner_id)):
        found.append((owner, "owner", utc(room.created_at)))
    result = await session.execute(
        select(UserRow, RoomRoleRow.role, RoomRoleRow.since)
        .join(RoomRoleRow, RoomRoleRow.user_id == UserRow.id)
        .where(RoomRoleRow.room_id == room.id)
    )
    found.extend((user, role, utc(since)) for user, role, since in result.all())
    return found


# --- guest links --------------------------------------------------------------------------------


async def insert_guest_link(session: AsyncSession, row: GuestLinkRow) -> None:
    session.add(row)
    await session.flush()


async def delete_expired_guest_links(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(GuestLinkRow).where(GuestLinkRow.expires_at <= now))


async def guest_links(
    session: AsyncSession, room_id: int, now: datetime, limit: int
) -> list[tuple[GuestLinkRow, str | None]]:
    """The room's unexpired links, newest first, with their maker's display name (None once
    the account is gone)."""
    result = await session.execute(
        select(GuestLinkRow, UserRow.display_name)
        .outerjoin(UserRow, UserRow.id == GuestLinkRow.created_by)
        .where(GuestLinkRow.room_id == room_id, GuestLinkRow.expires_at > now)
        .order_by(GuestLinkRow.created_at.desc(), GuestLinkRow.id.desc())
        .limit(limit)
    )
    return [(row, name) for row, name in result.all()]


async def guest_link(session: AsyncSession, room_id: int, link_id: str) -> GuestLinkRow | None:
    result = await session.execute(
        select(GuestLinkRow).where(GuestLinkRow.id == link_id, GuestLinkRow.room_id == room_id)
    )
    return result.scalar_one_or_none()


async def guest_link_room(session: AsyncSession, link_id: str) -> str | None:
    """The link name of the room whose guest link has this id, if the link exists."""
    result = await session.execute(
        select(RoomRow.slug)
        .join(GuestLinkRow, GuestLinkRow.room_id == RoomRow.id)
        .where(GuestLinkRow.id == link_id)
    )
    return result.scalar_one_or_none()
