"""One live meeting: its participants, their messages, and what everyone is told."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rathaus.config import MeetingSettings
from rathaus.errors import ClientError, InvalidState, MediaUnavailable
from rathaus.meetings import protocol as p
from rathaus.meetings.participant import Participant, ParticipantState, Peer
from rathaus.rooms.service import Room

if TYPE_CHECKING:
    from rathaus.meetings.media import MediaListener, MeetingMedia

log = logging.getLogger(__name__)


class MeetingFull(ClientError):
    code = "meeting_full"
    status = 403


class ResumeFailed(ClientError):
    code = "resume_failed"


class Meeting:
    """Also the ``MediaListener`` of its ``MeetingMedia``."""

    def __init__(
        self,
        room: Room,
        settings: MeetingSettings,
        make_media: Callable[[MediaListener], MeetingMedia],
        ice_servers: Callable[[str], list[dict[str, Any]]],
        on_empty: Callable[[Meeting], None],
    ) -> None:
        self.room = room
        self._settings = settings
        self.media = make_media(self)
        self._ice_servers = ice_servers
        self._on_empty = on_empty
        self.participants: dict[str, Participant] = {}
        self.closed = False

    # --- joining, resuming, leaving --------------------------------------------------------------

    async def join(self, peer: Peer, message: p.Join) -> Participant:
        if self.closed:
            raise MediaUnavailable("the meeting is closing; try again")
        resumed = bool(message.resume)
        if message.resume:
            participant = self._resume(peer, message.resume)
        else:
            if len(self.participants) >= self._settings.max_participants:
                raise MeetingFull("the meeting is full")
            participant = Participant(name=message.name, peer=peer)
            self.participants[participant.id] = participant
            self._broadcast(
                p.encode("participant_joined", participant=participant.info()), exclude=participant
            )
        participant.send(
            p.encode(
                "welcome",
                self=participant.info(),
                resume=participant.resume_token,
                resumed=resumed,
                participants=[o.info() for o in self._present() if o is not participant],
                feeds=[f for f in self.media.feeds() if f.participant != participant.id],
                ice_servers=self._ice_servers(participant.id),
                media_available=self.media.available,
            )
        )
        return participant

    def _resume(self, peer: Peer, token: str) -> Participant:
        for participant in self.participants.values():
            if hmac.compare_digest(participant.resume_token, token):
                break
        else:
            raise ResumeFailed("nothing to resume; join afresh")
        if participant.grace_timer is not None:
            participant.grace_timer.cancel()
            participant.grace_timer = None
        old = participant.peer
        if participant.state is ParticipantState.JOINED and old is not None and old is not peer:
            old.send(p.encode("bye", reason="replaced"))
            old.close(1000, "replaced")
        if participant.state is ParticipantState.DETACHED:
            participant.move(ParticipantState.JOINED)
        participant.peer = peer
        return participant

    def detach(self, participant: Participant, peer: Peer, *, clean: bool) -> None:
        """The participant's connection closed; a clean close leaves, any other waits to resume."""
        if participant.peer is not peer or participant.state is not ParticipantState.JOINED:
            return
        participant.peer = None
        if clean or self._settings.resume_grace == 0:
            asyncio.get_running_loop().create_task(self.leave(participant))
            return
        participant.move(ParticipantState.DETACHED)
        participant.grace_timer = asyncio.get_running_loop().call_later(
            self._settings.resume_grace,
            lambda: asyncio.get_running_loop().create_task(self.leave(participant)),
        )

    async def leave(self, participant: Participant, reason: str = "left") -> None:
        if participant.state is ParticipantState.LEFT:
            return
        if participant.peer is not None:
            participant.send(p.encode("bye", reason=reason))
            participant.peer.close(1000, reason)
            participant.peer = None
        participant.move(ParticipantState.LEFT)
        if participant.grace_timer is not None:
            participant.grace_timer.cancel()
        self.participants.pop(participant.id, None)
        self._broadcast(p.encode("participant_left", id=participant.id))
        await self.media.remove_participant(participant.id)
        if not self.participants:
            self._on_empty(self)

    async def close(self, reason: str = "shutdown") -> None:
        self.closed = True
        for participant in list(self.participants.values()):
            await self.leave(participant, reason)
        await self.media.close()

    # --- messages of a joined participant --------------------------------------------------------

    async def handle(self, participant: Participant, message: p.ClientMessage) -> None:
        if participant.state is ParticipantState.LEFT:
            return
        try:
            await self._dispatch(participant, message)
        finally:
            if participant.state is ParticipantState.LEFT:
                # The participant left while Janus was answering this request: whatever the
                # request created on Janus must go too.
                await self.media.remove_participant(participant.id)

    async def _dispatch(self, participant: Participant, message: p.ClientMessage) -> None:
        pid = participant.id
        match message:
            case p.Ping():
                participant.send(p.encode("pong"))
            case p.Join():
                raise InvalidState("already joined", code="already_joined")
            case p.Leave():
                await self.leave(participant)
            case p.MediaState(audio=audio, video=video):
                participant.audio, participant.video = audio, video
                self._broadcast(p.encode("participant_updated", participant=participant.info()))
            case p.Publish(kind=kind, sdp=sdp, restart=restart):
                answer = await self.media.publish(pid, kind, sdp, restart)
                participant.send(p.encode("published", kind=kind, sdp=answer))
            case p.Unpublish(kind=kind):
                await self.media.unpublish(pid, kind)
            case p.Subscribe(feed=feed):
                offer = await self.media.subscribe(pid, feed)
                participant.send(p.encode("offer", feed=feed, sdp=offer))
            case p.Restart(feed=feed):
                offer = await self.media.restart(pid, feed)
                participant.send(p.encode("offer", feed=feed, sdp=offer))
            case p.Answer(feed=feed, sdp=sdp):
                await self.media.answer(pid, feed, sdp)
            case p.Unsubscribe(feed=feed):
                await self.media.unsubscribe(pid, feed)
            case p.Layer(feed=feed, substream=substream):
                await self.media.set_layer(pid, feed, substream)
            case p.Trickle(pc=pc, candidate=candidate):
                plain = candidate.model_dump(exclude_none=True) if candidate else None
                await self.media.trickle(pid, pc, plain)

    # --- what everyone is told (MediaListener) ---------------------------------------------------

    def _present(self) -> list[Participant]:
        return list(self.participants.values())

    def _broadcast(self, frame: str, exclude: Participant | None = None) -> None:
        for participant in self._present():
            if participant is not exclude:
                participant.send(frame)

    def feed_up(self, feed: p.FeedInfo) -> None:
        owner = self.participants.get(feed.participant)
        self._broadcast(p.encode("feed_added", feed=feed), exclude=owner)

    def feed_down(self, feed_id: str) -> None:
        self._broadcast(p.encode("feed_removed", id=feed_id))

    def talking(self, participant_id: str, talking: bool) -> None:
        self._broadcast(p.encode("talking", participant=participant_id, talking=talking))

    def media_lost(self) -> None:
        log.warning("meeting lost its media service")
        self._broadcast(p.encode("media_unavailable"))

    def media_restored(self) -> None:
        log.info("meeting media service restored")
        self._broadcast(p.encode("media_restored"))
