"""The chat WebSocket, /ws/chat: one per client for all its rooms (docs/protocol.md, "Chat").

Every event reaches the client once and in order: a room's events are numbered without gaps
(rathaus.chat.store), the socket remembers the last number it sent per room, skips what it
sent already and fills a gap from the database. So a bus that drops or repeats (Redis
reconnecting, two processes) never shows as a lost or doubled message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, WebSocket

from rathaus import errors
from rathaus.accounts.api import SESSION_COOKIE
from rathaus.accounts.service import User
from rathaus.bus import Subscription
from rathaus.chat import protocol as cp
from rathaus.chat import signals as sig
from rathaus.chat.roster import GroupChange
from rathaus.chat.service import (
    HINT_DEVICES,
    PAGE,
    ChatService,
    EpochConflict,
    Writer,
    b64,
    topic,
    wire_event,
)
from rathaus.chat.store import Event
from rathaus.errors import ErrorCode
from rathaus.meetings.api import SocketPeer
from rathaus.meetings.ratelimit import TokenBucket
from rathaus.origins import same_origin
from rathaus.rooms.service import Room
from rathaus.services import services

log = logging.getLogger(__name__)
router = APIRouter()

KEEPALIVE = 60.0  # seconds without a frame (the client pings every 20)
QUEUE_LIMIT = 4096  # live events waiting for a client that does not keep up
MAX_REFUSED, PATIENCE_RATE = 200.0, 5.0  # refusals tolerated, and forgiven per second
TYPING_EVERY = 3.0  # seconds: "typing" passed on per socket and room at most this often


@dataclass
class Follow:
    room: Room
    since: datetime
    subscription: Subscription
    last: int = 0  # the number of the last event this socket sent


class ChatConnection:
    def __init__(
        self,
        chat: ChatService,
        signals: sig.Signals,
        peer: SocketPeer,
        user: User,
        rate: float,
        burst: float,
    ) -> None:
        self._chat = chat
        self._signals = signals
        self._peer = peer
        self._user = user
        self._device: str | None = None
        self._follows: dict[str, Follow] = {}
        self._ids: dict[int, str] = {}  # room id -> link name
        self._work: asyncio.Queue[tuple[str, str, bytes | None]] = asyncio.Queue()
        self._pump = asyncio.get_running_loop().create_task(self._run_pump())
        self._typed: dict[str, float] = {}  # room → when this socket's "typing" last went out
        self._bucket = TokenBucket(rate, burst)
        self._patience = TokenBucket(PATIENCE_RATE, MAX_REFUSED)

    async def close(self) -> None:
        for follow in self._follows.values():
            follow.subscription.close()
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._pump

    # --- reading the client ------------------------------------------------------------------

    async def handle(self, frame: str) -> None:
        message = cp.parse_client_message(frame)
        if not isinstance(message, cp.Ping) and not self._bucket.take():
            if not self._patience.take():  # flooding on and on: the socket goes
                self._peer.close(errors.WS_CLOSE_RATE_LIMIT, "too many messages")
                return
            limited = errors.RateLimited("too many chat messages; slow down")
            ref = getattr(message, "id", message.type)
            self.error(limited, ref=ref, room=getattr(message, "room", None))
            return
        match message:
            case cp.Ping():
                self._peer.send(cp.PONG)
            case cp.Hello(device=device):
                await self._chat.devices.require_own(self._user, device)
                self._device = device
                waiting = await self._chat.devices.waiting_key_packages(device)
                ready = cp.Ready(
                    user=self._user.username,
                    key_packages=waiting,
                    typing=self._signals.typing_enabled,
                )
                self._peer.send(cp.encode(ready))
            case cp.Open():
                await self._open(message)
            case cp.Close(room=slug):
                if (follow := self._follows.pop(slug, None)) is not None:
                    follow.subscription.close()
            case cp.Read(room=slug, seq=seq):
                room = self._follow(slug).room
                if (moved := await self._chat.mark_read(room, self._user, seq)) is not None:
                    await self._signals.read(room, self._user, moved)
            case cp.Typing(room=slug):
                await self._typing(slug)
            case cp.History(room=slug, before=before):
                follow = self._follow(slug)
                found = await self._chat.events_before(follow.room, before, follow.since)
                await self._send_events(slug, found, live=False, more=len(found) >= PAGE)
            case cp.CreateGroup() | cp.Commit() | cp.Send() | cp.Delete():
                await self._write(message)
            case cp.Claim(room=slug, id=client_id):
                await self._claim(slug, client_id)

    async def _typing(self, slug: str) -> None:
        """Passed on at most every TYPING_EVERY seconds per room, whatever the client sends, and
        only from a member (checked now: a hint about a removal may have been lost)."""
        room = self._follow(slug).room
        now = asyncio.get_running_loop().time()
        if now - self._typed.get(slug, -TYPING_EVERY) < TYPING_EVERY:
            return
        await self._chat.member_since(room, self._user)
        self._typed[slug] = now
        await self._signals.typing(room, self._user)

    async def _open(self, message: cp.Open) -> None:
        if message.room in self._follows:
            raise errors.InvalidState("this room is open already")
        if len(self._follows) >= cp.MAX_OPEN_ROOMS:
            raise errors.ClientError(f"at most {cp.MAX_OPEN_ROOMS} rooms at once")
        room = await self._chat.rooms.get(message.room)
        since = await self._chat.member_since(room, self._user)
        slug = message.room

        def deliver(payload: bytes | None) -> None:
            if self._work.qsize() >= QUEUE_LIMIT:
                self._peer.close(errors.WS_CLOSE_TIMEOUT, "too slow")
                return
            self._work.put_nowait(("live", slug, payload))

        # Subscribed before reading the database: nothing stored after the read is missed.
        subscription = await self._chat.bus.subscribe(topic(room.id), deliver)
        self._follows[slug] = Follow(room, since, subscription)
        self._ids[room.id] = slug
        after = b"" if message.after is None else str(message.after).encode()
        self._work.put_nowait(("open", slug, after))

    def _follow(self, slug: str) -> Follow:
        follow = self._follows.get(slug)
        if follow is None:
            raise errors.InvalidState("open the room first", code=ErrorCode.INVALID_STATE)
        return follow

    async def _write(self, message: cp.CreateGroup | cp.Commit | cp.Send | cp.Delete) -> None:
        try:
            if self._device is None:
                raise errors.InvalidState("say hello with this device first")
            room = self._follow(message.room).room
            writer = Writer(self._user, self._device)
            match message:
                case cp.CreateGroup(id=client_id, group_info=info):
                    event = await self._chat.create_group(room, writer, client_id, info)
                case cp.Commit(id=client_id, commit=commit, group_info=info):
                    change = GroupChange(
                        tuple(message.adds), tuple(message.removes), message.welcome
                    )
                    event = await self._chat.commit(room, writer, client_id, commit, info, change)
                case cp.Send(id=client_id, message=body, rel=rel, ref=ref):
                    since = self._follow(message.room).since  # kept up to date by hints
                    event = await self._chat.send(
                        room, writer, client_id, body, rel, ref, since=since
                    )
                case cp.Delete(id=client_id, seq=seq):
                    event = await self._chat.delete(room, writer, client_id, seq)
        except EpochConflict as exc:
            self._peer.send(
                cp.encode(
                    cp.Error(
                        code=exc.code,
                        message=exc.message,
                        ref=message.id,
                        room=message.room,
                        epoch=exc.epoch,
                    )
                )
            )
            return
        except errors.ClientError as exc:
            self.error(exc, ref=message.id, room=message.room)
            return
        self._peer.send(cp.encode(cp.Ack(room=message.room, id=message.id, seq=event.seq)))

    async def _claim(self, slug: str, client_id: str) -> None:
        try:
            if self._device is None:
                raise errors.InvalidState("say hello with this device first")
            follow = self._follow(slug)
            claimed, stale = await self._chat.claim(follow.room, Writer(self._user, self._device))
        except errors.ClientError as exc:
            self.error(exc, ref=client_id, room=slug)
            return
        devices = [
            cp.ClaimedDevice(device=c.device, user=c.user, key_package=b64(c.key_package))
            for c in claimed
        ]
        answer = cp.Claimed(room=slug, id=client_id, devices=devices, stale=stale)
        self._peer.send(cp.encode(answer))

    def error(self, exc: Exception, ref: str | None = None, room: str | None = None) -> None:
        text = exc.message if isinstance(exc, errors.ClientError) else "internal error"
        answer = cp.Error(code=errors.error_code(exc), message=text, ref=ref, room=room)
        self._peer.send(cp.encode(answer))

    # --- writing to the client, in order ------------------------------------------------------

    async def _run_pump(self) -> None:
        while True:
            what, slug, payload = await self._work.get()
            follow = self._follows.get(slug)
            if follow is None:
                continue  # closed since
            try:
                if what == "open":
                    await self._replay(slug, follow, int(payload) if payload else None)
                elif payload is None:  # the bus may have lost events (and hints): read them
                    await self._hinted(slug, follow)
                    if self._follows.get(slug) is follow:
                        await self._catch_up(slug, follow)
                else:
                    await self._live(slug, follow, payload)
            except Exception as exc:  # one room's failure must not stop the others
                log.exception("chat delivery failed")
                self.error(exc, room=slug)

    async def _replay(self, slug: str, follow: Follow, after: int | None) -> None:
        group = await self._chat.group(follow.room)
        last_seq = group.last_seq if group else 0
        welcome = None
        if self._device is not None:
            if after is None:
                welcome = await self._chat.welcome_for(follow.room, self._device)
            else:  # this device has its group: a welcome for it is spent
                await self._chat.forget_welcome(follow.room, self._device)
        self._peer.send(
            cp.encode(
                cp.GroupState(
                    room=slug,
                    epoch=group.epoch if group else None,
                    group_info=b64(group.group_info) if group else None,
                    last_seq=last_seq,
                    since=int(follow.since.timestamp() * 1000),
                    retention_days=follow.room.retention_days,
                    read_seq=await self._chat.read_seq(follow.room, self._user),
                    welcome=b64(welcome[0]) if welcome else None,
                    welcome_seq=welcome[1] if welcome else None,
                    read_by=await self._read_by(follow.room),
                )
            )
        )
        if after is None and welcome is not None:
            after = welcome[1]  # from the commit that added this device on
        follow.last = last_seq if after is None else min(after, last_seq)
        await self._catch_up(slug, follow)

    async def _read_by(self, room: Room) -> list[cp.ReadBy]:
        found = await self._signals.read_by(room)
        if not found:
            return []
        members = {user for user, _name, _role in await self._chat.members(room)}
        return [cp.ReadBy(user=s.user, seq=s.seq or 0) for s in found if s.user in members]

    async def _catch_up(self, slug: str, follow: Follow, until: int | None = None) -> None:
        while until is None or follow.last < until:
            found = await self._chat.events_after(follow.room, follow.last, follow.since)
            if not found:
                return
            await self._send_events(slug, found, live=False, more=len(found) >= PAGE)
            follow.last = found[-1].seq

    async def _live(self, slug: str, follow: Follow, payload: bytes) -> None:
        if payload.startswith(sig.PREFIX):
            signal = sig.decode(payload)
            if signal.user != self._user.username:  # one's own is no news
                told = cp.Signal.model_validate(
                    {"room": slug, "signal": signal.kind, "user": signal.user, "seq": signal.seq}
                )
                self._peer.send(cp.encode(told))
            return
        if payload == HINT_DEVICES:
            await self._hinted(slug, follow)
            return
        seq, at, frame = _live_frame(payload, slug)
        if seq <= follow.last:
            return  # sent already (by a catch-up)
        if seq > follow.last + 1:
            await self._catch_up(slug, follow, until=seq)
            return
        follow.last = seq
        if at >= follow.since.timestamp() * 1000:
            self._peer.send(frame)

    async def _hinted(self, slug: str, follow: Follow) -> None:
        """The room's members changed: one who left gets nothing more from here on, at once."""
        try:
            follow.since = await self._chat.member_since(follow.room, self._user)
        except errors.ClientError as exc:
            if self._follows.get(slug) is follow:
                del self._follows[slug]
                follow.subscription.close()
            self.error(exc, room=slug)
            return
        self._peer.send(cp.encode(cp.Hint(room=slug, hint="devices")))

    async def _send_events(
        self, slug: str, found: Sequence[Event], *, live: bool, more: bool
    ) -> None:
        events = []
        for event in found:
            data = wire_event(event, await self._chat.username(event.user_id))
            data.pop("room_id")
            events.append(cp.WireEvent.model_validate({"room": slug, **data}))
        self._peer.send(cp.encode(cp.Events(room=slug, events=events, live=live, more=more)))


@router.websocket("/ws/chat")
async def chat_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    peer = SocketPeer(websocket)
    connection: ChatConnection | None = None
    try:
        if not same_origin(websocket):  # cross-site WebSocket hijacking
            raise errors.ClientError("this page may not connect here", code=ErrorCode.FORBIDDEN)
        token = websocket.cookies.get(SESSION_COOKIE, "")
        signed_in = await services(websocket).accounts.session(token) if token else None
        if signed_in is None:
            raise errors.ClientError("please sign in", code=ErrorCode.NOT_SIGNED_IN)
        wired = services(websocket)
        limits = wired.settings.chat
        connection = ChatConnection(
            wired.chat,
            wired.signals,
            peer,
            signed_in.user,
            limits.messages_per_second,
            limits.burst,
        )
        await _serve(websocket, connection)
    except errors.ClientError as exc:
        peer.send(cp.encode(cp.Error(code=exc.code, message=exc.message)))
        peer.close(errors.WS_CLOSE_PROTOCOL)
    finally:
        if connection is not None:
            await connection.close()
        await peer.drain()


async def _serve(websocket: WebSocket, connection: ChatConnection) -> None:
    while True:
        try:
            message = await asyncio.wait_for(websocket.receive(), KEEPALIVE)
        except TimeoutError:
            return
        if message["type"] == "websocket.disconnect":
            return
        frame = message.get("text")
        if frame is None:
            connection.error(errors.BadMessage("chat frames are text"))
            continue
        try:
            await connection.handle(frame)
        except Exception as exc:
            if not isinstance(exc, errors.ClientError):
                log.exception("a chat message failed")
            # With the request's client id and room, so that the client can tie it up.
            ref, room = _ref_of(frame)
            connection.error(exc, ref=ref, room=room)


@functools.lru_cache(maxsize=1024)
def _live_frame(payload: bytes, slug: str) -> tuple[int, int, str]:
    """A live event's number, time and frame: made once per event and room, not once per
    socket (every socket following the room gets the same bytes from the bus)."""
    data = json.loads(payload)
    data.pop("room_id", None)
    event = cp.WireEvent.model_validate({"room": slug, **data})
    return event.seq, event.at, cp.encode(cp.Events(room=slug, events=[event], live=True))


def _ref_of(frame: str) -> tuple[str | None, str | None]:
    """What a refused frame was: its client id if it has one, else its type; and its room
    (best effort, for the error's ``ref`` and ``room``)."""
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    found: list[str | None] = []
    for keys in (("id", "type"), ("room",)):
        value = next(
            (data[k] for k in keys if isinstance(data.get(k), str) and len(data[k]) <= 64), None
        )
        found.append(value)
    return found[0], found[1]
