"""SQL for rooms."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db.models import RoomRow
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
