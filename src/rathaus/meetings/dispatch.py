"""What a participant's messages do in their meeting: who may send what (access.may), then the
moderators' actions (moderation.py), the relay of E2EE keys, raised hands and reactions, and the
media requests to Janus.
Kept apart from :class:`Meeting`, which holds the state, so that neither imports the other's
handlers (and chat or telephony can add theirs here)."""

from __future__ import annotations

from rathaus.errors import ErrorCode, InvalidState, RateLimited
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.access import MODERATOR_ACTIONS, may
from rathaus.meetings.meeting import Meeting, Refused, UnknownParticipant
from rathaus.meetings.moderation import moderate
from rathaus.meetings.participant import Participant, ParticipantState
from rathaus.meetings.server_messages import encode


async def handle(meeting: Meeting, participant: Participant, message: p.ClientMessage) -> None:
    if participant.state is ParticipantState.LEFT:
        return
    admitted = participant.state is not ParticipantState.WAITING
    if not may(participant.role, message.type, admitted=admitted):
        if not admitted:
            raise Refused("wait until a moderator lets you in", code=ErrorCode.NOT_ADMITTED)
        raise Refused("only moderators may do this", code=ErrorCode.FORBIDDEN)
    try:
        if message.type in MODERATOR_ACTIONS:
            await moderate(meeting, participant, message)
        else:
            await _dispatch(meeting, participant, message)
    finally:
        if participant.state is ParticipantState.LEFT:
            # The participant left while Janus was answering this request: whatever the
            # request created on Janus must go too.
            await meeting.media.remove_participant(participant.id)


async def _dispatch(meeting: Meeting, participant: Participant, message: p.ClientMessage) -> None:
    match message:
        case p.Ping():
            participant.send(sm.PONG)
        case p.Join():
            raise InvalidState("already joined", code=ErrorCode.ALREADY_JOINED)
        case p.Leave():
            await meeting.leave(participant)
        case p.KeyEnvelope() | p.KeyEnvelopes() | p.KeyRequest():
            _relay_keys(meeting, participant, message)
        case p.MediaState(audio=audio, video=video):
            await _set_media_state(meeting, participant, audio, video)
        case p.RaiseHand(raised=raised):
            meeting.raise_hand(participant, raised)
        case p.React(reaction=reaction):
            meeting.react(participant, reaction)
        case _:
            await _media(meeting, participant, message)


def _key_recipient(meeting: Meeting, sender: Participant, to: str) -> Participant:
    """Keys go to another admitted participant only (nobody in the lobby, not oneself)."""
    recipient = meeting.participants.get(to)
    if recipient is None or recipient is sender:
        raise UnknownParticipant("no such participant in the meeting")
    return recipient


def _relay_keys(meeting: Meeting, sender: Participant, message: p.ClientMessage) -> None:
    match message:
        case p.KeyEnvelope(to=to, envelope=envelope):
            meeting.keys.forward(sender, _key_recipient(meeting, sender, to), envelope)
        case p.KeyEnvelopes(envelopes=batch):
            missing = relayed = 0
            for item in batch:
                try:
                    recipient = _key_recipient(meeting, sender, item.to)
                except UnknownParticipant:
                    missing += 1  # left meanwhile: the others still get theirs
                    continue
                try:
                    meeting.keys.forward(sender, recipient, item.envelope)
                except RateLimited as exc:
                    raise RateLimited(f"{relayed} of {len(batch)} relayed; {exc}") from None
                relayed += 1
            if missing:
                raise UnknownParticipant(
                    f"{missing} of {len(batch)} recipients are not in the meeting"
                )
        case p.KeyRequest(to=to):
            meeting.keys.request(sender, _key_recipient(meeting, sender, to))


async def _media(meeting: Meeting, participant: Participant, message: p.ClientMessage) -> None:
    """Publishing, subscribing and ICE: relayed to the meeting's Janus room."""
    media, pid = meeting.media, participant.id
    match message:
        case p.Publish(kind=kind, sdp=sdp, restart=restart):
            answer = await media.publish(pid, kind, sdp, restart)
            participant.send(encode(sm.Published(kind=kind, sdp=answer)))
            if kind == "camera":
                for blocked in participant.blocked:  # a moderator's block outlives republishing
                    await media.moderate(pid, "camera", blocked, mute=True)
        case p.Unpublish(kind=kind):
            await media.unpublish(pid, kind)
        case p.Subscribe(feed=feed):
            offer = await media.subscribe(pid, feed)
            participant.send(encode(sm.Offer(feed=feed, sdp=offer)))
        case p.Restart(feed=feed):
            offer = await media.restart(pid, feed)
            participant.send(encode(sm.Offer(feed=feed, sdp=offer)))
        case p.Answer(feed=feed, sdp=sdp):
            await media.answer(pid, feed, sdp)
        case p.Unsubscribe(feed=feed):
            await media.unsubscribe(pid, feed)
        case p.Layer(feed=feed, substream=substream):
            await media.set_layer(pid, feed, substream)
        case p.ReceiveVideo(feed=feed, on=on):
            await media.receive_video(pid, feed, on)
        case p.Trickle(pc=pc, candidate=candidate):
            plain = candidate.model_dump(exclude_none=True) if candidate else None
            await media.trickle(pid, pc, plain)


async def _set_media_state(
    meeting: Meeting, participant: Participant, audio: bool, video: bool
) -> None:
    """The participant's own microphone and camera; turning one on lifts a moderator's block on
    it (moderators may ask, never switch it on themselves)."""
    participant.audio, participant.video = audio, video
    for media, on in (("audio", audio), ("video", video)):
        if on and media in participant.blocked:
            participant.blocked.discard(media)
            await meeting.media.moderate(participant.id, "camera", media, mute=False)
    meeting.broadcast(encode(sm.ParticipantUpdated(participant=participant.info())))
