"""SQL for rooms."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db.models import RoomRoleRow, RoomRow
from rathaus.errors import Conflict


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
