"""The delivery service's rules (RFC 9420 §16): who may read and write a room's group, one
commit per epoch, every event numbered and durable before it is acknowledged, and a resend
(same client id) never stored twice. Live events go out over the bus after they are stored."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.accounts.service import User
from rathaus.bus import Bus
from rathaus.chat import mls_wire, roster, store
from rathaus.chat.devices import Claimed, Directory
from rathaus.chat.roster import GroupChange
from rathaus.chat.store import Event
from rathaus.db.models import ChatEventRow, ChatGroupRow, RoomRow, UserRow
from rathaus.errors import BusUnavailable, ClientError, ErrorCode, NotFound
from rathaus.keyed_lock import KeyedLock
from rathaus.rooms import store as rooms_store
from rathaus.rooms.service import NotAllowed, Room, RoomService
from rathaus.rooms.store import utc

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024  # an application message (text; files travel as attachments)
MAX_HANDSHAKE_BYTES = 256 * 1024  # a commit or GroupInfo: grows with the devices in the room
PAGE = 100  # events per catch-up or history page
MAX_REACTIONS = 500  # reaction events (on and off) per message
MODERATING = ("owner", "co_owner", "moderator")  # may delete anyone's message
MAX_GROUP_ID = 128  # "rathaus-room:<link name>:" and 16 random bytes (js/chat/client.js)


class EpochConflict(ClientError):
    """A commit or message for an epoch the group is not at: another commit won that epoch
    (or there is no group yet). The client applies what it missed and tries again."""

    code = ErrorCode.EPOCH_CONFLICT
    status = 409

    def __init__(self, epoch: int | None) -> None:
        super().__init__(
            "the group has no such epoch now" if epoch is not None else "the room has no group yet"
        )
        self.epoch = epoch


@dataclass(frozen=True)
class Group:
    group_id: bytes
    epoch: int
    group_info: bytes
    last_seq: int


@dataclass(frozen=True)
class Conversation:
    """A room in a member's conversation list."""

    room: Room
    role: str
    name: str  # the room's name; a direct conversation's: the other member's display name
    partner: str | None  # a direct conversation's other member (user name)
    last_at: datetime  # the newest message, or when the room was made
    unread: int


@dataclass(frozen=True)
class Writer:
    """Who writes: a member signed in, on a device of theirs."""

    user: User
    device_id: str


# Not an event: a nudge to the devices following a room to claim (the socket passes it on).
HINT_DEVICES = b'{"hint":"devices"}'


def topic(room_id: int) -> str:
    return f"chat:{room_id}"


def encode_event(event: Event, username: str | None) -> bytes:
    """An event as it travels on the bus (and, with the room's link name, to clients)."""
    return json.dumps(wire_event(event, username), separators=(",", ":")).encode()


def wire_event(event: Event, username: str | None) -> dict[str, object]:
    return {
        "room_id": event.room_id,
        "seq": event.seq,
        "kind": event.kind,
        "epoch": event.epoch,
        "user": username,
        "device": event.device_id,
        "id": event.client_id,
        "body": b64(event.body) if event.body is not None else None,
        "at": int(event.at.timestamp() * 1000),
        "rel": event.rel,
        "ref": event.ref,
    }


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class ChatService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        rooms: RoomService,
        bus: Bus,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        one_writer: bool = False,
    ) -> None:
        self._sessions = sessions
        self.rooms = rooms
        self.bus = bus
        self._clock = clock
        self._usernames: dict[int, str] = {}  # user names never change
        self.devices = Directory(sessions, clock)
        # Writes of one room (with SQLite: of all rooms, one writer anyway) wait here, in the
        # process, instead of in the database's lock (whose busy loop sleeps up to 100 ms).
        self._writes = KeyedLock()
        self._one_writer = one_writer

    def _write_key(self, room: Room) -> str:
        return "all" if self._one_writer else str(room.id)

    # --- membership --------------------------------------------------------------------------

    async def member_since(self, room: Room, user: User) -> datetime:
        """Since when ``user`` may read the room's chat; NotAllowed for who is no member."""
        since = await self.rooms.member_since(room, user)
        if since is None:
            raise NotAllowed("only the room's members take part in its chat")
        return since

    async def members(self, room: Room) -> list[tuple[str, str, str]]:
        """(user name, display name, room role) of everyone in the room's chat."""
        async with self._sessions() as session:
            row = await session.get(RoomRow, room.id)
            found = await rooms_store.people(session, row) if row is not None else []
        return sorted((user.username, user.display_name, role) for user, role, _since in found)

    async def conversations(self, user: User) -> list[Conversation]:
        """The member's rooms and direct conversations, newest activity first, each with their
        own unread count (nobody else learns what they have read)."""
        found: list[Conversation] = []
        for mine in await self.rooms.rooms_of(user):
            room = mine.room
            async with self._sessions() as session:
                since = await rooms_store.member_since(session, room.id, user.id)
                if since is None:
                    continue
                unread, newest = await store.activity(session, room.id, user.id, since)
                name, partner = room.name, None
                if room.kind == "direct":
                    row = await session.get(RoomRow, room.id)
                    people = await rooms_store.people(session, row) if row is not None else []
                    other = [u for u, _role, _since in people if u.id != user.id]
                    if other:
                        name, partner = other[0].display_name, other[0].username
            made = datetime.fromtimestamp(mine.created_at, UTC)
            found.append(Conversation(room, mine.role, name, partner, newest or made, unread))
        found.sort(key=lambda c: c.last_at, reverse=True)
        return found

    async def members_changed(self, room: Room) -> None:
        """Someone joined or left the room: its members' devices bring the group in line."""
        await self._hint(room.id)

    async def device_ready(self, user: User) -> None:
        """A device of ``user`` left its first key packages: the devices in each of their
        rooms may add it now (before this, it could only join by itself)."""
        for mine in await self.rooms.rooms_of(user):
            await self._hint(mine.room.id)

    async def _hint(self, room_id: int) -> None:
        try:
            await self.bus.publish(topic(room_id), HINT_DEVICES)
        except BusUnavailable:
            log.warning("the event bus is down; a hint to the room's devices is lost")

    async def read_seq(self, room: Room, user: User) -> int:
        """How far the member has read the room (their own marker; 0: nothing yet)."""
        async with self._sessions() as session:
            return await store.read_seq(session, room.id, user.id)

    async def mark_read(self, room: Room, user: User, seq: int) -> int | None:
        """Moves the member's marker to ``seq`` (at most the room's last event): the marker if
        it moved, else None."""
        await self.member_since(room, user)
        async with self._sessions.begin() as session:
            group = await store.group(session, room.id)
            seq = min(seq, group.last_seq if group is not None else 0)
            return seq if await store.mark_read(session, room.id, user.id, seq) else None

    # --- the group ---------------------------------------------------------------------------

    async def group(self, room: Room) -> Group | None:
        async with self._sessions() as session:
            row = await store.group(session, room.id)
        if row is None:
            return None
        return Group(row.group_id, row.epoch, row.group_info, row.last_seq)

    async def create_group(
        self, room: Room, writer: Writer, client_id: str, group_info: bytes
    ) -> Event:
        """The room's group, from its creator's GroupInfo of epoch 0. A second creator is told
        `epoch_conflict` and joins the group that exists."""
        header = _parse(mls_wire.group_info_header, group_info, MAX_HANDSHAKE_BYTES)
        if header.epoch != 0 or not 16 <= len(header.group_id) <= MAX_GROUP_ID:
            raise ClientError(
                f"a new group starts at epoch 0 with a group id of 16 to {MAX_GROUP_ID} bytes"
            )
        await self.member_since(room, writer.user)
        now = self._clock()
        try:
            async with self._writes.hold(self._write_key(room)), self._sessions.begin() as session:
                if (done := await self._resent(session, room, writer, client_id)) is not None:
                    return done
                group = ChatGroupRow(
                    room_id=room.id,
                    group_id=header.group_id,
                    epoch=0,
                    group_info=group_info,
                    last_seq=1,
                    updated_at=now,
                )
                await store.add_group(session, group)
                event = await store.add_event(
                    session, self._row(room, writer, client_id, 1, "group", 0, group_info, now)
                )
                await store.join_group(session, room.id, [writer.device_id])
        except IntegrityError:
            existing = await self.group(room)
            raise EpochConflict(existing.epoch if existing else None) from None
        await self._publish(event, writer.user)
        return event

    async def commit(
        self,
        room: Room,
        writer: Writer,
        client_id: str,
        commit: bytes,
        group_info: bytes,
        change: GroupChange | None = None,
    ) -> Event:
        """A commit for the group's current epoch, with the GroupInfo of the epoch it leads to
        and what it does to the group's devices (a new device's external commit: it joins).
        Exactly one commit wins each epoch; the others get `epoch_conflict`."""
        header = _parse(mls_wire.commit_header, commit, MAX_HANDSHAKE_BYTES)
        info = _parse(mls_wire.group_info_header, group_info, MAX_HANDSHAKE_BYTES)
        if info.group_id != header.group_id or info.epoch != header.epoch + 1:
            raise ClientError("the GroupInfo must be of the epoch this commit leads to")
        change = change or GroupChange()
        if change.welcome is not None and len(change.welcome) > MAX_HANDSHAKE_BYTES:
            raise ClientError("the welcome is too large", code=ErrorCode.TOO_LARGE)
        return await self._append(
            room, writer, client_id, header, "commit", commit, group_info, change=change
        )

    async def claim(self, room: Room, writer: Writer) -> tuple[list[Claimed], list[str]]:
        """Key packages to add the members' devices missing from the group, and the devices
        of people who left, to remove (roster.claim)."""
        await self.member_since(room, writer.user)
        async with self._sessions.begin() as session:
            return await roster.claim(session, room.id)

    async def welcome_for(self, room: Room, device_id: str) -> tuple[bytes, int] | None:
        async with self._sessions() as session:
            return await store.welcome_for(session, room.id, device_id)

    async def forget_welcome(self, room: Room, device_id: str) -> None:
        async with self._sessions.begin() as session:
            await store.forget_welcome(session, room.id, device_id)

    async def send(
        self,
        room: Room,
        writer: Writer,
        client_id: str,
        message: bytes,
        rel: str | None = None,
        ref: int | None = None,
        *,
        since: datetime | None = None,
    ) -> Event:
        """An application message of the group's current epoch; with ``rel`` a reply to, an
        edit of (its author's only) or a reaction to message number ``ref``. ``since``: the
        writer's membership as the caller knows it (a socket following the room, told by hints
        when members change); else it is looked up."""
        header = _parse(mls_wire.application_header, message, MAX_MESSAGE_BYTES)
        related = (rel, ref) if rel is not None and ref is not None else None
        return await self._append(
            room, writer, client_id, header, "message", message, None, related, since=since
        )

    async def delete(self, room: Room, writer: Writer, client_id: str, seq: int) -> Event:
        """Deletes message ``seq`` (and its edits and reactions) from the server: its author's
        own, or anyone's for the room's moderators. Everyone is told by a `delete` event."""
        since = await self.member_since(room, writer.user)
        moderates = await self.rooms.role_of(room, writer.user) in MODERATING
        now = self._clock()
        async with self._writes.hold(self._write_key(room)), self._sessions.begin() as session:
            if (done := await self._resent(session, room, writer, client_id)) is not None:
                return done
            target = await store.event_at(session, room.id, seq)
            if (
                target is None
                or target.kind != "message"
                or target.rel in ("edit", "react")
                or target.body is None  # deleted already
            ):
                raise NotFound("no such message")
            if utc(target.created_at) < since:
                raise NotFound("no such message")
            if target.user_id != writer.user.id and not moderates:
                raise NotAllowed("only its author or a moderator may delete a message")
            group = await store.group(session, room.id)
            assert group is not None  # a message exists, so the group does
            next_seq = await store.next_seq(session, room.id, group.epoch, group_info=None, now=now)
            assert next_seq is not None  # the row is ours until the transaction ends
            await store.erase(session, room.id, seq)
            row = self._row(room, writer, client_id, next_seq, "delete", group.epoch, b"", now)
            row.body, row.ref = None, seq
            event = await store.add_event(session, row)
        await self._publish(event, writer.user)
        return event

    async def _append(
        self,
        room: Room,
        writer: Writer,
        client_id: str,
        header: mls_wire.Header,
        kind: str,
        body: bytes,
        group_info: bytes | None,
        related: tuple[str, int] | None = None,
        change: GroupChange | None = None,
        since: datetime | None = None,
    ) -> Event:
        since = since or await self.member_since(room, writer.user)
        now = self._clock()
        try:
            async with self._writes.hold(self._write_key(room)), self._sessions.begin() as session:
                if (done := await self._resent(session, room, writer, client_id)) is not None:
                    return done
                group = await store.group(session, room.id)
                if group is None:
                    raise EpochConflict(None)
                if group.group_id != header.group_id:
                    raise ClientError(
                        "this MLS message is for another group", code=ErrorCode.BAD_MESSAGE
                    )
                seq = await store.next_seq(
                    session, room.id, header.epoch, group_info=group_info, now=now
                )
                if seq is None:
                    await session.refresh(group)
                    raise EpochConflict(group.epoch)
                row = self._row(room, writer, client_id, seq, kind, header.epoch, body, now)
                if related is not None:
                    await self._check_relation(session, room, writer, since, *related)
                    row.rel, row.ref = related
                if change is not None:
                    await roster.check(session, room.id, change)
                event = await store.add_event(session, row)
                if change is not None:
                    external = header.sender_type is mls_wire.SenderType.NEW_MEMBER_COMMIT
                    joiner = writer.device_id if external else None
                    await roster.record(session, room.id, seq, change, joiner)
        except IntegrityError:
            # The same resend twice at once: the first is stored, this one acknowledges it.
            async with self._sessions() as session:
                found = await store.event_by_client_id(
                    session, room.id, writer.device_id, client_id
                )
            if found is None:
                raise
            return found
        await self._publish(event, writer.user)
        return event

    async def _check_relation(
        self, session: AsyncSession, room: Room, writer: Writer, since: datetime, rel: str, ref: int
    ) -> None:
        target = await store.event_at(session, room.id, ref)
        if (
            target is None
            or target.kind != "message"
            or target.rel in ("edit", "react")
            or target.body is None
            or utc(target.created_at) < since
        ):
            raise NotFound("no such message (deleted, or from before you joined)")
        if rel == "edit" and target.user_id != writer.user.id:
            raise NotAllowed("only its author may edit a message")
        if rel == "react" and await store.count_related(session, room.id, ref, "react") >= (
            MAX_REACTIONS
        ):
            raise ClientError(
                "this message has as many reactions as it may have", code=ErrorCode.LIMIT_REACHED
            )

    async def _resent(
        self, session: AsyncSession, room: Room, writer: Writer, client_id: str
    ) -> Event | None:
        return await store.event_by_client_id(session, room.id, writer.device_id, client_id)

    @staticmethod
    def _row(
        room: Room,
        writer: Writer,
        client_id: str,
        seq: int,
        kind: str,
        epoch: int,
        body: bytes,
        now: datetime,
    ) -> ChatEventRow:
        return ChatEventRow(
            room_id=room.id,
            seq=seq,
            kind=kind,
            epoch=epoch,
            user_id=writer.user.id,
            device_id=writer.device_id,
            client_id=client_id,
            body=body,
            created_at=now,
        )

    async def _publish(self, event: Event, user: User) -> None:
        self._usernames[user.id] = user.username
        try:
            await self.bus.publish(topic(event.room_id), encode_event(event, user.username))
        except BusUnavailable:
            # Stored and acknowledged all the same: the other processes' clients catch up from
            # the database once the bus is back (their subscriptions report the gap).
            log.warning("the event bus is down; an event goes out late")

    # --- reading -----------------------------------------------------------------------------

    async def events_after(self, room: Room, after: int, since: datetime) -> Sequence[Event]:
        async with self._sessions() as session:
            return await store.events_after(session, room.id, after, PAGE, since)

    async def events_before(self, room: Room, before: int, since: datetime) -> Sequence[Event]:
        async with self._sessions() as session:
            return await store.events_before(session, room.id, before, PAGE, since)

    async def username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if (known := self._usernames.get(user_id)) is not None:
            return known
        async with self._sessions() as session:
            row = await session.get(UserRow, user_id)
        if row is None:
            return None  # the account is gone; its events stay
        self._usernames[user_id] = row.username
        return row.username


def _parse(read: Callable[[bytes], mls_wire.Header], data: bytes, limit: int) -> mls_wire.Header:
    if len(data) > limit:
        raise ClientError(f"at most {limit} bytes", code=ErrorCode.TOO_LARGE)
    try:
        return read(data)
    except mls_wire.MalformedMls as exc:
        raise ClientError(str(exc), code=ErrorCode.BAD_MESSAGE) from None
