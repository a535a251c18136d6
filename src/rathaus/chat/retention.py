"""Retention: a room that keeps its chat for N days loses older messages for real — their rows
(ciphertext, relations, deletions) leave the database, their attachments the disk. Commits and
the group's creation stay: they hold no message, and devices that were away need them to catch
up. Runs at start and then every ``chat.purge_interval`` seconds, in every process (a purge is
idempotent, so several processes may run it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.db.models import ChatEventRow, RoomRow

log = logging.getLogger(__name__)

# What a room may also have to drop, kept apart from the events (attachments): room id, cutoff.
Extra = Callable[[int, datetime], Awaitable[int]]


async def purge(
    sessions: async_sessionmaker[AsyncSession], now: datetime, extras: tuple[Extra, ...] = ()
) -> int:
    """Deletes what each room keeps no longer; the number of events deleted."""
    async with sessions() as session:
        rooms = (
            await session.execute(
                select(RoomRow.id, RoomRow.chat_retention_days).where(
                    RoomRow.chat_retention_days.is_not(None)
                )
            )
        ).all()
    deleted = 0
    for room_id, days in rooms:
        cutoff = now - timedelta(days=days or 0)
        async with sessions.begin() as session:
            result = await session.execute(
                delete(ChatEventRow).where(
                    ChatEventRow.room_id == room_id,
                    ChatEventRow.kind.in_(("message", "delete")),
                    ChatEventRow.created_at < cutoff,
                )
            )
            deleted += int(getattr(result, "rowcount", 0) or 0)
        for extra in extras:
            await extra(room_id, cutoff)
    return deleted


class RetentionJob:
    """The purge, now and then every ``interval`` seconds, until ``stop``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval: float,
        clock: Callable[[], datetime],
        extras: tuple[Extra, ...] = (),
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._clock = clock
        self.extras = extras
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                deleted = await purge(self._sessions, self._clock(), self.extras)
                if deleted:
                    log.info("retention: %d chat messages past their rooms' time deleted", deleted)
            except Exception:
                log.exception("the chat's retention purge failed; it runs again later")
            await asyncio.sleep(self._interval)
