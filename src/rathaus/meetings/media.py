"""The Janus side of one meeting: a VideoRoom on one node, a handle per publication and per
subscription. Janus events come back as calls on a ``MediaListener``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from rathaus.errors import (
    JANUS_FAILURES,
    ErrorCode,
    JanusError,
    JanusProtocolError,
    JanusTimeout,
    JanusUnavailable,
    MediaFailed,
    MediaUnavailable,
    NotFound,
)
from rathaus.media.janus import videoroom
from rathaus.media.janus.client import JanusClient, JanusHandle, JanusSession
from rathaus.media.janus.core import Detached, HangUp, PluginEvent, WebrtcUp
from rathaus.media.janus.pool import JanusPool
from rathaus.meetings.protocol import Kind
from rathaus.meetings.server_messages import FeedInfo

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
RESTORE_INTERVAL = 1.0


class UnknownFeed(NotFound):
    code = ErrorCode.UNKNOWN_FEED


class MediaListener(Protocol):
    def feed_up(self, feed: FeedInfo) -> None: ...

    def feed_down(self, feed_id: str) -> None: ...

    def talking(self, participant_id: str, talking: bool) -> None: ...

    def media_lost(self) -> None: ...

    def media_restored(self) -> None: ...


@dataclass(eq=False)
class _Publication:
    participant: str
    kind: Kind
    handle: JanusHandle
    feed_id: str = ""
    up: bool = False
    mids: tuple[tuple[str, str], ...] = ()  # (audio|video, mid) of each m-line


@dataclass(eq=False)
class _Subscription:
    participant: str
    feed_id: str
    handle: JanusHandle
    video_mid: str | None = None


class MeetingMedia:
    """Owns one meeting's Janus session; everything here dies together when the node goes away."""

    def __init__(self, pool: JanusPool, listener: MediaListener) -> None:
        self._pool = pool
        self._listener = listener
        self._lock = asyncio.Lock()
        self._client: JanusClient | None = None
        self._session: JanusSession | None = None
        self._room = 0
        self._publications: dict[tuple[str, Kind], _Publication] = {}
        self._subscriptions: dict[tuple[str, str], _Subscription] = {}
        self._feeds: dict[str, FeedInfo] = {}
        self._restore_task: asyncio.Task[None] | None = None
        self._remove_listener: Callable[[], None] = lambda: None
        self._lost = False
        self._closed = False

    @property
    def available(self) -> bool:
        return not self._lost

    def feeds(self) -> list[FeedInfo]:
        return list(self._feeds.values())

    # --- the session on a node -------------------------------------------------------------

    async def start(self) -> None:
        """Place the meeting on a node now; if none is reachable, keep trying in the background."""
        try:
            await self._ensure()
        except MediaUnavailable:
            return  # closed meanwhile: nothing to place
        except JANUS_FAILURES as exc:
            log.warning("media service unavailable at meeting start: %s", exc)
            self._mark_lost()

    async def _ensure(self) -> JanusSession:
        async with self._lock:
            if self._session is not None:
                return self._session
            if self._closed:
                raise MediaUnavailable("the meeting has ended")
            client = self._pool.pick()
            self._pool.acquire(client)
            session = None
            room = secrets.randbelow(2**52) + 1
            try:
                session = await client.create_session()
                admin = await session.attach(VIDEOROOM)
                await videoroom.create_room(admin, room, description="rathaus")
                await admin.detach()
                if self._closed:  # the meeting ended while Janus was creating its room
                    raise MediaUnavailable("the meeting has ended")
            except BaseException:
                self._pool.release(client)
                if session is not None and not await _discard(session, room):
                    self._pool.orphan(client, room)  # it may exist at Janus: remove it later
                raise
            self._remove_listener = client.add_listener(on_down=self._on_node_down)
            self._client, self._session, self._room = client, session, room
            return session

    def _on_node_down(self) -> None:
        if self._session is not None:
            self._forget_node(orphan=True)
            self._mark_lost()

    def _forget_node(self, *, orphan: bool = False) -> None:
        """The node went away: its session, handles and feeds are gone with it. Its VideoRoom
        room outlives the session at Janus: with ``orphan`` the pool removes it once the node
        is back (a node that restarted has lost it anyway)."""
        if self._client is not None:
            self._remove_listener()
            self._pool.release(self._client)
            if orphan:
                self._pool.orphan(self._client, self._room)
        self._client, self._session = None, None
        self._publications.clear()
        self._subscriptions.clear()
        self._feeds.clear()

    def _mark_lost(self) -> None:
        if self._lost or self._closed:
            return
        self._lost = True
        self._listener.media_lost()
        self._restore_task = asyncio.create_task(self._restore())

    async def _restore(self) -> None:
        while not self._closed:
            await asyncio.sleep(RESTORE_INTERVAL)
            try:
                await self._ensure()
            except JANUS_FAILURES:
                continue
            self._lost = False
            self._listener.media_restored()
            return

    def _session_or_raise(self) -> JanusSession:
        if self._lost or self._session is None:
            raise MediaUnavailable("the media service is unavailable")
        return self._session

    async def _call(self, coro: Any) -> Any:
        """Await a Janus request, mapping its failures to client-visible errors."""
        try:
            return await coro
        except JanusTimeout as exc:
            # One unanswered request fails that request only: whether the node is alive is
            # decided by its connection and keepalives (JanusClient), not by one participant.
            raise MediaFailed("the media service did not answer in time") from exc
        except JanusUnavailable as exc:
            if self._session is not None:
                self._forget_node(orphan=True)
                self._mark_lost()
            raise MediaUnavailable("the media service is unavailable") from exc
        except JanusError as exc:
            raise MediaFailed(f"the media service refused: {exc.reason}") from exc
        except JanusProtocolError as exc:
            raise MediaFailed("the media service answered unexpectedly") from exc

    # --- publishing ----------------------------------------------------------------------------

    async def publish(self, participant: str, kind: Kind, offer: str, restart: bool) -> str:
        if not self._lost:
            await self._call(self._ensure())
        session = self._session_or_raise()
        jsep = {"type": "offer", "sdp": offer}
        pub = self._publications.get((participant, kind))
        if pub is not None and restart:
            answer = await self._call(videoroom.ice_restart_publisher(pub.handle, jsep))
            return str(answer["sdp"])
        if pub is not None:
            await self.unpublish(participant, kind)
        handle = await self._call(session.attach(VIDEOROOM))
        pub = _Publication(participant, kind, handle, mids=tuple(videoroom.sdp_mids(offer)))
        handle.on_event = lambda event: self._on_publisher_event(pub, event)  # type: ignore
        try:
            feed_id, _ = await self._call(
                videoroom.join_publisher(handle, self._room, f"{participant}:{kind}")
            )
            pub.feed_id = str(feed_id)
            self._publications[(participant, kind)] = pub
            answer = await self._call(videoroom.configure_publisher(handle, jsep))
        except BaseException:
            await self._drop_publication(pub)
            raise
        return str(answer["sdp"])

    async def moderate(self, participant: str, kind: Kind, media: str, *, mute: bool) -> None:
        """Block or unblock a publication's audio or video at Janus (moderators' mute)."""
        pub = self._publications.get((participant, kind))
        if pub is None or not pub.feed_id:
            return
        for media_type, mid in pub.mids:
            if media_type == media:
                await self._call(
                    videoroom.moderate(pub.handle, self._room, int(pub.feed_id), mid, mute=mute)
                )

    async def unpublish(self, participant: str, kind: Kind) -> None:
        pub = self._publications.get((participant, kind))
        if pub is not None:
            await self._drop_publication(pub)

    async def _drop_publication(self, pub: _Publication) -> None:
        if self._publications.get((pub.participant, pub.kind)) is pub:
            del self._publications[(pub.participant, pub.kind)]
        if pub.up:
            pub.up = False
            await self._feed_gone(pub.feed_id)
        with contextlib.suppress(*JANUS_FAILURES):
            await pub.handle.detach()

    def _on_publisher_event(self, pub: _Publication, event: object) -> None:
        if isinstance(event, WebrtcUp) and not pub.up and self._current(pub):
            pub.up = True
            feed = FeedInfo(id=pub.feed_id, participant=pub.participant, kind=pub.kind)
            self._feeds[pub.feed_id] = feed
            self._listener.feed_up(feed)
        elif isinstance(event, HangUp | Detached) and self._current(pub):
            asyncio.get_running_loop().create_task(self._drop_publication(pub))
        elif isinstance(event, PluginEvent):
            what = event.data.get("videoroom")
            if what in ("talking", "stopped-talking") and str(event.data.get("id")) == pub.feed_id:
                self._listener.talking(pub.participant, what == "talking")

    def _current(self, pub: _Publication) -> bool:
        return self._publications.get((pub.participant, pub.kind)) is pub

    # --- subscribing ---------------------------------------------------------------------------

    async def subscribe(self, participant: str, feed_id: str) -> str:
        session = self._session_or_raise()
        if feed_id not in self._feeds:
            raise UnknownFeed("no such feed")
        await self.unsubscribe(participant, feed_id)
        handle = await self._call(session.attach(VIDEOROOM))
        sub = _Subscription(participant, feed_id, handle)
        handle.on_event = lambda event: self._on_subscriber_event(sub, event)  # type: ignore
        self._subscriptions[(participant, feed_id)] = sub
        try:
            offer, streams = await self._call(
                videoroom.join_subscriber(handle, self._room, int(feed_id))
            )
        except BaseException:
            await self._drop_subscription(sub)
            raise
        sub.video_mid = next((str(s["mid"]) for s in streams if s.get("type") == "video"), None)
        return str(offer["sdp"])

    def _subscription(self, participant: str, feed_id: str) -> _Subscription:
        self._session_or_raise()
        sub = self._subscriptions.get((participant, feed_id))
        if sub is None:
            raise UnknownFeed("not subscribed to this feed")
        return sub

    async def answer(self, participant: str, feed_id: str, sdp: str) -> None:
        sub = self._subscription(participant, feed_id)
        await self._call(videoroom.start_subscriber(sub.handle, {"type": "answer", "sdp": sdp}))

    async def set_layer(self, participant: str, feed_id: str, substream: int) -> None:
        sub = self._subscription(participant, feed_id)
        if sub.video_mid is not None:
            await self._call(videoroom.set_substream(sub.handle, substream, mid=sub.video_mid))

    async def receive_video(self, participant: str, feed_id: str, on: bool) -> None:
        """Pauses or resumes the video of a subscription (Janus stops relaying it; on resuming
        it asks the publisher for a key frame)."""
        sub = self._subscription(participant, feed_id)
        if sub.video_mid is not None:
            await self._call(videoroom.set_subscriber_send(sub.handle, on, mid=sub.video_mid))

    async def restart(self, participant: str, feed_id: str) -> str:
        """ICE restart of a subscription; a subscription Janus dropped meanwhile starts afresh."""
        if (participant, feed_id) not in self._subscriptions:
            return await self.subscribe(participant, feed_id)
        sub = self._subscription(participant, feed_id)
        offer = await self._call(videoroom.restart_subscriber(sub.handle))
        return str(offer["sdp"])

    async def unsubscribe(self, participant: str, feed_id: str) -> None:
        sub = self._subscriptions.get((participant, feed_id))
        if sub is not None:
            await self._drop_subscription(sub)

    async def _drop_subscription(self, sub: _Subscription) -> None:
        if self._subscriptions.get((sub.participant, sub.feed_id)) is sub:
            del self._subscriptions[(sub.participant, sub.feed_id)]
        with contextlib.suppress(*JANUS_FAILURES):
            await sub.handle.detach()

    def _on_subscriber_event(self, sub: _Subscription, event: object) -> None:
        if (
            isinstance(event, Detached)
            and self._subscriptions.get((sub.participant, sub.feed_id)) is sub
        ):
            del self._subscriptions[(sub.participant, sub.feed_id)]

    async def _feed_gone(self, feed_id: str) -> None:
        if self._feeds.pop(feed_id, None) is None:
            return
        self._listener.feed_down(feed_id)
        for sub in [s for s in self._subscriptions.values() if s.feed_id == feed_id]:
            await self._drop_subscription(sub)

    # --- ICE candidates and teardown -------------------------------------------------------------

    async def trickle(self, participant: str, pc: str, candidate: dict[str, Any] | None) -> None:
        """Forward a browser candidate; candidates for a connection that is gone are dropped."""
        target, _, rest = pc.partition(":")
        if target == "pub":
            pub = self._publications.get((participant, rest))  # type: ignore[arg-type]
            handle = pub.handle if pub else None
        else:
            sub = self._subscriptions.get((participant, rest))
            handle = sub.handle if sub else None
        if handle is None or self._lost:
            return
        await self._call(handle.trickle(candidate))

    async def remove_participant(self, participant: str) -> None:
        for pub in [p for p in self._publications.values() if p.participant == participant]:
            await self._drop_publication(pub)
        for sub in [s for s in self._subscriptions.values() if s.participant == participant]:
            await self._drop_subscription(sub)

    async def close(self) -> None:
        self._closed = True
        if self._restore_task is not None:
            self._restore_task.cancel()
        client, session, room = self._client, self._session, self._room
        self._forget_node()
        if client is not None and session is not None and not await _discard(session, room):
            self._pool.orphan(client, room)


async def _discard(session: JanusSession, room: int) -> bool:
    """Destroy a meeting's room and session at Janus (the room first: it outlives sessions).
    False if the room may still be there."""
    removed = False
    with contextlib.suppress(*JANUS_FAILURES):
        admin = await session.attach(VIDEOROOM)
        await videoroom.destroy_room(admin, room)  # a room that is gone already is fine
        removed = True
    with contextlib.suppress(*JANUS_FAILURES):
        await session.destroy()
    return removed
