"""What reaches the devices following a room but is never stored: "is typing", where the
server's operator switched it on (``[chat] typing_indicators``; off by default: typing is the
kind of metadata the cities do not want to leak), and how far a member has read, for members who
chose to share it (their chat preference "read by"; off by default). Both travel on the room's
bus topic beside its events; the chat socket passes them on (docs/protocol.md, "Chat")."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.accounts.service import User
from rathaus.bus import Bus
from rathaus.chat.service import topic
from rathaus.db.models import ChatPreferenceRow, ChatReadRow, UserRow
from rathaus.errors import BusUnavailable, ClientError, ErrorCode
from rathaus.rooms.service import Room, RoomService

log = logging.getLogger(__name__)

PREFIX = b'{"signal":'  # tells a signal from an event or a hint on the room's topic


@dataclass(frozen=True)
class Signal:
    kind: str  # "typing" or "read"
    user: str
    seq: int | None = None  # "read": up to this number


def encode(signal: Signal) -> bytes:
    data: dict[str, object] = {"signal": signal.kind, "user": signal.user}
    if signal.seq is not None:
        data["seq"] = signal.seq
    return json.dumps(data, separators=(",", ":")).encode()


def decode(payload: bytes) -> Signal:
    data = json.loads(payload)
    return Signal(str(data["signal"]), str(data["user"]), data.get("seq"))


class Signals:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        rooms: RoomService,
        *,
        typing: bool,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._rooms = rooms
        self.typing_enabled = typing

    async def typing(self, room: Room, user: User) -> None:
        """``user`` (a member following the room) is typing in it."""
        if not self.typing_enabled:
            raise ClientError(
                "typing indicators are switched off on this server", code=ErrorCode.SWITCHED_OFF
            )
        await self._publish(room, Signal("typing", user.username))

    async def read(self, room: Room, user: User, seq: int) -> None:
        """``user`` has read the room up to ``seq`` (stored already): told to the others only
        if they share it."""
        if await self.shares_read(user):
            await self._publish(room, Signal("read", user.username, seq))

    async def shares_read(self, user: User) -> bool:
        async with self._sessions() as session:
            row = await session.get(ChatPreferenceRow, user.id)
        return row is not None and row.share_read

    async def set_share_read(self, user: User, share: bool) -> None:
        """The member's choice; switched off, the pages open in their rooms forget their
        marker at once (a `read` signal with number 0)."""
        was = await self.shares_read(user)
        await self._store_share_read(user, share)
        if was and not share:
            for mine in await self._rooms.rooms_of(user):
                await self._publish(mine.room, Signal("read", user.username, 0))

    async def _store_share_read(self, user: User, share: bool) -> None:
        for _ in range(2):  # two first choices at once: one inserts, the other updates
            try:
                async with self._sessions.begin() as session:
                    row = await session.get(ChatPreferenceRow, user.id)
                    if row is None:
                        session.add(ChatPreferenceRow(user_id=user.id, share_read=share))
                    else:
                        row.share_read = share
                return
            except IntegrityError:
                continue

    async def read_by(self, room: Room) -> list[Signal]:
        """How far each member who shares it has read the room."""
        async with self._sessions() as session:
            found = await session.execute(
                select(UserRow.username, ChatReadRow.seq)
                .join(ChatReadRow, ChatReadRow.user_id == UserRow.id)
                .join(ChatPreferenceRow, ChatPreferenceRow.user_id == UserRow.id)
                .where(ChatReadRow.room_id == room.id, ChatPreferenceRow.share_read.is_(True))
                .order_by(UserRow.username)
            )
        return [Signal("read", username, seq) for username, seq in found.all()]

    async def _publish(self, room: Room, signal: Signal) -> None:
        try:
            await self._bus.publish(topic(room.id), encode(signal))
        except BusUnavailable:
            log.warning("the event bus is down; a signal is lost")  # it is worth no retry
