"""SQL for users and sign-in sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db.models import SessionRow, UserRow
from rathaus.errors import Conflict


async def user_by_name(session: AsyncSession, username: str) -> UserRow | None:
    result = await session.execute(select(UserRow).where(UserRow.username == username))
    return result.scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: int) -> UserRow | None:
    return await session.get(UserRow, user_id)


async def user_by_identity(session: AsyncSession, provider: str, subject: str) -> UserRow | None:
    result = await session.execute(
        select(UserRow).where(UserRow.provider == provider, UserRow.subject == subject)
    )
    return result.scalar_one_or_none()


async def all_users(session: AsyncSession) -> list[UserRow]:
    result = await session.execute(select(UserRow).order_by(UserRow.username))
    return list(result.scalars())


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(UserRow))).scalar_one())


async def insert_user(session: AsyncSession, row: UserRow) -> UserRow:
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"the user name {row.username!r} is taken") from exc
    return row


async def insert_session(session: AsyncSession, row: SessionRow) -> None:
    session.add(row)
    await session.flush()


async def session_by_hash(
    session: AsyncSession, token_hash: str, now: datetime
) -> tuple[SessionRow, UserRow] | None:
    result = await session.execute(
        select(SessionRow, UserRow)
        .join(UserRow, UserRow.id == SessionRow.user_id)
        .where(SessionRow.token_hash == token_hash, SessionRow.expires_at > now)
    )
    row = result.first()
    return (row[0], row[1]) if row else None


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(SessionRow).where(SessionRow.token_hash == token_hash))


async def delete_sessions_of(session: AsyncSession, user_id: int) -> int:
    result = await session.execute(delete(SessionRow).where(SessionRow.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
