"""The signaling WebSocket: one per participant, at /ws/rooms/{room} (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketState

from rathaus import errors
from rathaus.accounts.api import GUEST_COOKIE, SESSION_COOKIE
from rathaus.addresses import client_key
from rathaus.errors import ErrorCode
from rathaus.meetings import dispatch
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.door import Door, Knock
from rathaus.meetings.lanes import Lanes
from rathaus.meetings.meeting import Meeting
from rathaus.meetings.participant import Participant
from rathaus.meetings.ratelimit import TokenBucket
from rathaus.meetings.registry import MeetingRegistry
from rathaus.origins import same_origin
from rathaus.rooms.service import Room
from rathaus.services import services

log = logging.getLogger(__name__)
router = APIRouter()

JOIN_TIMEOUT = 10.0  # seconds from the last ping before `join`
MAX_PREJOIN = 3600.0  # a socket that pings but never joins is closed after this
OUTBOX_LIMIT = 1024
MAX_LANES, LANE_DEPTH = 64, 64
RATE, BURST = 50.0, 100.0  # messages per second, and saved up
MAX_REFUSED, PATIENCE_RATE = 200.0, 5.0  # refusals tolerated, and forgiven per second
_CLOSE = object()


class SocketPeer:
    """Sends through a queue so that one slow socket never blocks a meeting."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._outbox: asyncio.Queue[object] = asyncio.Queue(OUTBOX_LIMIT + 1)
        self._closing = False
        self.close_code = 1000
        self._task = asyncio.get_running_loop().create_task(self._send_loop())

    def send(self, frame: str) -> None:
        if self._closing:
            return
        if self._outbox.qsize() >= OUTBOX_LIMIT:
            log.warning("closing a socket that does not keep up with its messages")
            self.close(errors.WS_CLOSE_TIMEOUT, "too slow")
            return
        self._outbox.put_nowait(frame)

    def error(self, error: Exception, ref: str | None = None) -> None:
        message = error.message if isinstance(error, errors.ClientError) else "internal error"
        self.send(sm.encode(sm.Error(code=errors.error_code(error), message=message, ref=ref)))

    def failed(self, error: Exception, request: p.ClientMessage) -> None:
        """An error in answer to ``request``, with the feed or publication it was about (so
        that the client can tie it up)."""
        message = error.message if isinstance(error, errors.ClientError) else "internal error"
        feed, kind = getattr(request, "feed", None), getattr(request, "kind", None)
        answer = sm.Error(
            code=errors.error_code(error), message=message, ref=request.type, feed=feed, kind=kind
        )
        self.send(sm.encode(answer))

    def close(self, code: int, reason: str = "") -> None:
        if not self._closing:
            self._closing = True
            self.close_code = code
            self._outbox.put_nowait(_CLOSE)

    async def _send_loop(self) -> None:
        try:
            while True:
                item = await self._outbox.get()
                if item is _CLOSE:
                    if self._websocket.application_state is WebSocketState.CONNECTED:
                        await self._websocket.close(self.close_code)
                    return
                assert isinstance(item, str)
                await self._websocket.send_text(item)
        except Exception:  # the socket is gone; the reader notices and cleans up
            self._closing = True

    async def drain(self) -> None:
        self.close(self.close_code)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, 5)


async def _receive(websocket: WebSocket, wait: float) -> str | int:
    """The next text frame, or the close code when the socket closed."""
    message = await asyncio.wait_for(websocket.receive(), wait)
    if message["type"] == "websocket.disconnect":
        return int(message.get("code", 1005))
    text = message.get("text")
    if text is None:
        raw = message.get("bytes") or b""
        too_big = len(raw) > p.MAX_FRAME
        text = "x" * (p.MAX_FRAME + 1) if too_big else raw.decode("utf-8", "replace")
    return str(text)


@router.websocket("/ws/rooms/{slug}")
async def meeting_socket(websocket: WebSocket, slug: str) -> None:
    await websocket.accept()
    peer = SocketPeer(websocket)
    if not same_origin(websocket):  # cross-site WebSocket hijacking
        refused = errors.ClientError("this page may not connect here", code=ErrorCode.FORBIDDEN)
        peer.error(refused)
        peer.close(errors.WS_CLOSE_PROTOCOL)
        await peer.drain()
        return
    rooms, registry = services(websocket).rooms, services(websocket).meetings
    try:
        room = await rooms.open(slug)
    except errors.ClientError as exc:
        peer.error(exc)
        peer.close(errors.ws_close_code(exc))
        await peer.drain()
        return
    flood = Flood()
    try:
        joined = await _await_join(websocket, peer, flood, registry, room)
        if joined is not None:
            await _serve(websocket, peer, flood, *joined, registry.settings.keepalive_timeout)
    finally:
        await peer.drain()


class Flood:
    """The socket's message budget, the same before and after `join`: refused messages drain
    the patience, and a client that keeps on flooding is disconnected."""

    def __init__(self) -> None:
        self._bucket = TokenBucket(RATE, BURST)
        self._patience = TokenBucket(PATIENCE_RATE, MAX_REFUSED)
        self._refused = 0

    def allows(self) -> bool:
        return self._bucket.take()

    def refuse(self, peer: SocketPeer) -> bool:
        """A message over the budget; False once the socket is closed for it."""
        if not self._patience.take():
            peer.close(errors.WS_CLOSE_RATE_LIMIT, "too many messages")
            return False
        self._refused += 1
        if self._refused == 1 or self._refused % 50 == 0:
            peer.error(errors.RateLimited("too many messages; slow down"))
        return True


def _knock(websocket: WebSocket) -> Knock:
    return Knock(
        address=client_key(websocket.client.host if websocket.client else ""),
        session_token=websocket.cookies.get(SESSION_COOKIE) or None,
        guest_key=websocket.cookies.get(GUEST_COOKIE) or None,
    )


async def _await_join(
    websocket: WebSocket, peer: SocketPeer, flood: Flood, registry: MeetingRegistry, room: Room
) -> tuple[Meeting, Participant] | None:
    door, rooms = services(websocket).door, services(websocket).rooms
    loop = asyncio.get_running_loop()
    opened = loop.time()
    deadline = opened + JOIN_TIMEOUT
    while True:
        try:
            frame = await _receive(websocket, max(0.0, deadline - loop.time()))
        except TimeoutError:
            peer.close(errors.WS_CLOSE_PROTOCOL, "no join")
            return None
        if isinstance(frame, int):
            return None
        if not flood.allows():
            if not flood.refuse(peer):
                return None
            continue
        try:
            message = p.parse_client_message(frame)
            if isinstance(message, p.Ping):  # a page may open its socket before joining
                peer.send(sm.PONG)
                deadline = min(loop.time() + JOIN_TIMEOUT, opened + MAX_PREJOIN)
                continue
            if not isinstance(message, p.Join):
                raise errors.InvalidState("join first", code=ErrorCode.NOT_JOINED)
            room = await rooms.get(room.slug)  # the settings as they are now, not at connect
            return await _enter(_knock(websocket), peer, registry, door, room, message)
        except errors.ClientError as exc:
            peer.error(exc, ref=_type_of(frame))


async def _enter(
    knock: Knock,
    peer: SocketPeer,
    registry: MeetingRegistry,
    door: Door,
    room: Room,
    message: p.Join,
) -> tuple[Meeting, Participant]:
    for _ in range(3):  # the meeting may end between our lookup and our join: take the next
        meeting = registry.meeting(room)
        try:
            with meeting.at_the_door():
                entrant = await door.entrant(knock, room, message)
                if meeting.closed:
                    continue
                return meeting, await meeting.join(peer, message, entrant)
        except BaseException:
            meeting.release_if_empty()  # a refusal must not leave an empty meeting behind
            raise
    raise errors.MediaUnavailable("the meeting is being closed; try again")


async def _serve(
    websocket: WebSocket,
    peer: SocketPeer,
    flood: Flood,
    meeting: Meeting,
    participant: Participant,
    keepalive_timeout: float,
) -> None:
    async def handle(message: p.ClientMessage) -> None:
        try:
            await dispatch.handle(meeting, participant, message)
        except errors.ClientError as exc:
            peer.failed(exc, message)
        except Exception:
            log.exception("failed to handle a %s message", message.type)
            peer.failed(RuntimeError(), message)

    lanes: Lanes[p.ClientMessage] = Lanes(handle, max_lanes=MAX_LANES, depth=LANE_DEPTH)
    clean = False
    try:
        while True:
            try:
                frame = await _receive(websocket, keepalive_timeout)
            except TimeoutError:
                peer.close(errors.WS_CLOSE_TIMEOUT, "keepalive timeout")
                break
            if isinstance(frame, int):
                clean = frame in (1000, 1001)
                break
            if flood.allows():
                try:
                    message = p.parse_client_message(frame)
                except errors.ClientError as exc:
                    peer.error(exc, ref=_type_of(frame))
                    continue
                if isinstance(message, p.Ping):
                    peer.send(sm.PONG)
                    continue
                if lanes.submit(_lane_of(message), message):
                    continue
            if not flood.refuse(peer):
                break
    finally:
        await lanes.close()
        meeting.detach(participant, peer, clean=clean)


def _lane_of(message: p.ClientMessage) -> str:
    """Messages about one peer connection share a lane; the rest share the control lane."""
    match message:
        case p.Publish(kind=kind) | p.Unpublish(kind=kind):
            return f"pub:{kind}"
        case p.Trickle(pc=pc):
            return pc
        case p.Subscribe(feed=feed) | p.Answer(feed=feed) | p.Unsubscribe(feed=feed):
            return f"sub:{feed}"
        case p.Layer(feed=feed) | p.ReceiveVideo(feed=feed) | p.Restart(feed=feed):
            return f"sub:{feed}"
    return "control"


def _type_of(frame: str) -> str | None:
    """Best-effort message type of a frame that failed to parse, for the error's ``ref``."""
    try:
        data = json.loads(frame)
    except (ValueError, RecursionError):
        return None
    value = data.get("type") if isinstance(data, dict) else None
    return value if isinstance(value, str) and len(value) <= 32 else None
