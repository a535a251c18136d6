"""SQL of the chat: devices, groups, events. Numbers (``seq``) are given under the group row's
lock, so that every room's events are numbered without gaps, in commit order, whichever of
several server processes writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.db.models import (
    ChatDeviceRow,
    ChatEventRow,
    ChatGroupDeviceRow,
    ChatGroupRow,
    ChatKeyPackageRow,
    ChatReadRow,
)
from rathaus.rooms.store import utc


@dataclass(frozen=True)
class Event:
    room_id: int
    seq: int
    kind: str
    epoch: int
    user_id: int | None
    device_id: str
    client_id: str
    body: bytes | None
    at: datetime
    rel: str | None = None
    ref: int | None = None

    @classmethod
    def of(cls, row: ChatEventRow) -> Event:
        return cls(
            row.room_id,
            row.seq,
            row.kind,
            row.epoch,
            row.user_id,
            row.device_id,
            row.client_id,
            row.body,
            utc(row.created_at),
            row.rel,
            row.ref,
        )


async def device(session: AsyncSession, device_id: str) -> ChatDeviceRow | None:
    return await session.get(ChatDeviceRow, device_id)


async def add_device(session: AsyncSession, row: ChatDeviceRow) -> None:
    session.add(row)
    await session.flush()


async def group(session: AsyncSession, room_id: int) -> ChatGroupRow | None:
    return await session.get(ChatGroupRow, room_id)


async def add_group(session: AsyncSession, row: ChatGroupRow) -> None:
    session.add(row)
    await session.flush()


async def next_seq(
    session: AsyncSession,
    room_id: int,
    epoch: int,
    *,
    group_info: bytes | None,
    now: datetime,
) -> int | None:
    """Takes the room's next event number if the group is at ``epoch``; with ``group_info``
    (a commit) the group moves to the next epoch. None: no group, or another epoch. The row
    stays locked until the transaction ends, so numbers commit in order."""
    values: dict[str, object] = {"last_seq": ChatGroupRow.last_seq + 1, "updated_at": now}
    if group_info is not None:
        values |= {"epoch": ChatGroupRow.epoch + 1, "group_info": group_info}
    result = await session.execute(
        update(ChatGroupRow)
        .where(ChatGroupRow.room_id == room_id, ChatGroupRow.epoch == epoch)
        .values(values)
        .returning(ChatGroupRow.last_seq)
    )
    seq = result.scalar_one_or_none()
    return int(seq) if seq is not None else None


async def add_event(session: AsyncSession, row: ChatEventRow) -> Event:
    session.add(row)
    await session.flush()
    return Event.of(row)


async def event_by_client_id(
    session: AsyncSession, room_id: int, device_id: str, client_id: str
) -> Event | None:
    row = await session.scalar(
        select(ChatEventRow).where(
            ChatEventRow.room_id == room_id,
            ChatEventRow.device_id == device_id,
            ChatEventRow.client_id == client_id,
        )
    )
    return Event.of(row) if row is not None else None


async def event_at(session: AsyncSession, room_id: int, seq: int) -> ChatEventRow | None:
    return await session.scalar(
        select(ChatEventRow).where(ChatEventRow.room_id == room_id, ChatEventRow.seq == seq)
    )


async def count_related(session: AsyncSession, room_id: int, ref: int, rel: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ChatEventRow)
            .where(
                ChatEventRow.room_id == room_id,
                ChatEventRow.ref == ref,
                ChatEventRow.rel == rel,
            )
        )
        or 0
    )


async def erase(session: AsyncSession, room_id: int, seq: int) -> None:
    """Deletes the ciphertext of message ``seq`` and of its edits and reactions."""
    await session.execute(
        update(ChatEventRow)
        .where(
            ChatEventRow.room_id == room_id,
            or_(
                ChatEventRow.seq == seq,
                and_(ChatEventRow.ref == seq, ChatEventRow.rel.in_(("edit", "react"))),
            ),
        )
        .values(body=None)
    )


async def events_after(
    session: AsyncSession, room_id: int, after: int, limit: int, not_before: datetime | None
) -> Sequence[Event]:
    """The room's events after number ``after``, oldest first, at most ``limit``."""
    query = select(ChatEventRow).where(ChatEventRow.room_id == room_id, ChatEventRow.seq > after)
    if not_before is not None:
        query = query.where(ChatEventRow.created_at >= not_before)
    rows = await session.scalars(query.order_by(ChatEventRow.seq).limit(limit))
    return [Event.of(row) for row in rows]


async def events_before(
    session: AsyncSession, room_id: int, before: int, limit: int, not_before: datetime | None
) -> Sequence[Event]:
    """The room's events before number ``before``, oldest first: the newest ``limit`` of them."""
    query = select(ChatEventRow).where(ChatEventRow.room_id == room_id, ChatEventRow.seq < before)
    if not_before is not None:
        query = query.where(ChatEventRow.created_at >= not_before)
    rows = await session.scalars(query.order_by(ChatEventRow.seq.desc()).limit(limit))
    return [Event.of(row) for row in reversed(list(rows))]


# --- what a member has read ------------------------------------------------------------------

# What counts as unread: messages and replies, not edits or reactions, nothing deleted.
_COUNTED = and_(
    ChatEventRow.kind == "message",
    or_(ChatEventRow.rel.is_(None), ChatEventRow.rel == "reply"),
    ChatEventRow.body.is_not(None),
)


async def mark_read(session: AsyncSession, room_id: int, user_id: int, seq: int) -> bool:
    """Moves the member's read marker forward (never back); whether it moved."""
    row = await session.get(ChatReadRow, (room_id, user_id))
    if row is None:
        session.add(ChatReadRow(room_id=room_id, user_id=user_id, seq=seq))
        await session.flush()
        return True
    if seq > row.seq:
        row.seq = seq
        return True
    return False


async def read_seq(session: AsyncSession, room_id: int, user_id: int) -> int:
    row = await session.get(ChatReadRow, (room_id, user_id))
    return row.seq if row is not None else 0


async def activity(
    session: AsyncSession, room_id: int, user_id: int, since: datetime
) -> tuple[int, datetime | None]:
    """(unread messages of others, time of the newest message) of a room, for one member."""
    read = await session.get(ChatReadRow, (room_id, user_id))
    mine = ChatEventRow.user_id.is_not(None) & (ChatEventRow.user_id == user_id)
    unread = await session.scalar(
        select(func.count())
        .select_from(ChatEventRow)
        .where(
            ChatEventRow.room_id == room_id,
            _COUNTED,
            ChatEventRow.seq > (read.seq if read else 0),
            ChatEventRow.created_at >= since,
            ~mine,
        )
    )
    newest = await session.scalar(
        select(func.max(ChatEventRow.created_at)).where(ChatEventRow.room_id == room_id, _COUNTED)
    )
    return int(unread or 0), utc(newest) if newest is not None else None


# --- key packages and the devices in each group ----------------------------------------------


async def add_key_packages(
    session: AsyncSession, device_id: str, bodies: Sequence[bytes], now: datetime
) -> None:
    session.add_all(ChatKeyPackageRow(device_id=device_id, body=b, created_at=now) for b in bodies)
    await session.flush()


async def count_key_packages(session: AsyncSession, device_id: str) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ChatKeyPackageRow)
            .where(ChatKeyPackageRow.device_id == device_id)
        )
        or 0
    )


async def group_device_ids(session: AsyncSession, room_id: int) -> set[str]:
    rows = await session.scalars(
        select(ChatGroupDeviceRow.device_id).where(ChatGroupDeviceRow.room_id == room_id)
    )
    return set(rows)


async def devices_of(session: AsyncSession, user_ids: Sequence[int]) -> list[ChatDeviceRow]:
    rows = await session.scalars(select(ChatDeviceRow).where(ChatDeviceRow.user_id.in_(user_ids)))
    return list(rows)


async def take_key_package(session: AsyncSession, device_id: str) -> bytes | None:
    """Hands out one of the device's key packages (the oldest), which is then gone: one
    statement, so that two claims at once never get the same one."""
    oldest = (
        select(func.min(ChatKeyPackageRow.id))
        .where(ChatKeyPackageRow.device_id == device_id)
        .scalar_subquery()
    )
    result = await session.execute(
        delete(ChatKeyPackageRow)
        .where(ChatKeyPackageRow.id == oldest)
        .returning(ChatKeyPackageRow.body)
    )
    body = result.scalar_one_or_none()
    return bytes(body) if body is not None else None


async def join_group(
    session: AsyncSession,
    room_id: int,
    device_ids: Sequence[str],
    welcome: bytes | None = None,
    welcome_seq: int | None = None,
) -> None:
    """Records devices as in the room's group; with ``welcome``, the one they join with."""
    for device_id in device_ids:
        row = await session.get(ChatGroupDeviceRow, (room_id, device_id))
        if row is None:
            row = ChatGroupDeviceRow(room_id=room_id, device_id=device_id)
            session.add(row)
        if welcome is not None:
            row.welcome, row.welcome_seq = welcome, welcome_seq
    await session.flush()


async def leave_group(session: AsyncSession, room_id: int, device_ids: Sequence[str]) -> None:
    if device_ids:
        await session.execute(
            delete(ChatGroupDeviceRow).where(
                ChatGroupDeviceRow.room_id == room_id,
                ChatGroupDeviceRow.device_id.in_(device_ids),
            )
        )


async def welcome_for(
    session: AsyncSession, room_id: int, device_id: str
) -> tuple[bytes, int] | None:
    row = await session.get(ChatGroupDeviceRow, (room_id, device_id))
    if row is None or row.welcome is None or row.welcome_seq is None:
        return None
    return row.welcome, row.welcome_seq


async def forget_welcome(session: AsyncSession, room_id: int, device_id: str) -> None:
    row = await session.get(ChatGroupDeviceRow, (room_id, device_id))
    if row is not None and row.welcome is not None:
        row.welcome, row.welcome_seq = None, None
