"""The audit log: who did what when in which room — moderator actions in meetings and changes of
a room's access settings; never contents, passwords, tokens or addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.db.models import AuditRow


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    room: str
    actor: str
    action: str
    target: str | None


def add(
    session: AsyncSession, room: str, actor: str, action: str, target: str | None = None
) -> None:
    """An entry in the caller's transaction, so that a change and its entry are stored together
    or not at all."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            room=room,
            actor=actor[:200],
            action=action,
            target=target[:200] if target else None,
        )
    )


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, room: str, actor: str, action: str, target: str | None = None) -> None:
        async with self._sessions.begin() as session:
            add(session, room, actor, action, target)

    async def recent(self, limit: int = 200, room: str | None = None) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if room is not None:
            query = query.where(AuditRow.room == room)
        async with self._sessions() as session:
            rows = (await session.execute(query)).scalars()
            return [AuditEntry(r.at, r.room, r.actor, r.action, r.target) for r in rows]
