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
    session: AsyncSession, slug: str, name: str, owner_id: int | None = None
) -> RoomRow:
    row = RoomRow(slug=slug, name=name, owner_id=owner_id)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a room with the link name {slug!r} exists already") from exc
    return row


async def role_of(session: AsyncSession, room_id: int, user_id: int) -> str | None:
    row = await session.get(RoomRoleRow, (room_id, user_id))
    return row.role if row else None


async def set_role(session: AsyncSession, room_id: int, user_id: int, role: str | None) -> None:
    await session.execute(
        delete(RoomRoleRow).where(RoomRoleRow.room_id == room_id, RoomRoleRow.user_id == user_id)
    )
    if role is not None:
        session.add(RoomRoleRow(room_id=room_id, user_id=user_id, role=role))
        await session.flush()


async def roles(session: AsyncSession, room_id: int) -> list[tuple[int, str]]:
    result = await session.execute(
        select(RoomRoleRow.user_id, RoomRoleRow.role).where(RoomRoleRow.room_id == room_id)
    )
    return [(user_id, role) for user_id, role in result.all()]


async def managed_by(session: AsyncSession, user_id: int, limit: int) -> list[tuple[RoomRow, str]]:
    """The rooms ``user_id`` owns or co-owns, with that role, newest first, at most ``limit``."""
    co_owned = and_(
        RoomRoleRow.room_id == RoomRow.id,
        RoomRoleRow.user_id == user_id,
        RoomRoleRow.role == "co_owner",
    )
    result = await session.execute(
        select(RoomRow, RoomRoleRow.role)
        .outerjoin(RoomRoleRow, co_owned)
        .where(or_(RoomRow.owner_id == user_id, RoomRoleRow.role.is_not(None)))
        .order_by(RoomRow.created_at.desc(), RoomRow.id.desc())
        .limit(limit)
    )
    return [(row, "owner" if row.owner_id == user_id else "co_owner") for row, _ in result.all()]


async def people(
    session: AsyncSession, room_id: int, owner_id: int | None
) -> list[tuple[UserRow, str]]:
    """The room's owner (if any) and the members with a room role, each with the role."""
    found: list[tuple[UserRow, str]] = []
    if owner_id is not None and (owner := await session.get(UserRow, owner_id)):
        found.append((owner, "owner"))
    result = await session.execute(
        select(UserRow, RoomRoleRow.role)
        .join(RoomRoleRow, RoomRoleRow.user_id == UserRow.id)
        .where(RoomRoleRow.room_id == room_id)
    )
    found.extend((user, role) for user, role in result.all())
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
