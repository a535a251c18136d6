"""What moderators do: the lobby, muting, stopping video and screens, lowering hands, removing,
locking, ending, promoting, letting in participants who cannot encrypt end to end. Every action
is shown to the participants and written to the audit log."""

from __future__ import annotations

from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.access import Role
from rathaus.meetings.meeting import Meeting, MeetingFull, UnknownParticipant
from rathaus.meetings.participant import Participant, ParticipantState
from rathaus.meetings.server_messages import encode


def _joined(meeting: Meeting, participant_id: str) -> Participant:
    target = meeting.participants.get(participant_id)
    if target is None or target.state is ParticipantState.LEFT:
        raise UnknownParticipant("no such participant in the meeting")
    return target


def _waiting(meeting: Meeting, participant_id: str) -> Participant:
    target = meeting.waiting.get(participant_id)
    if target is None:
        raise UnknownParticipant("nobody with this id is waiting")
    return target


def _shown(meeting: Meeting, action: str, actor: Participant, target: Participant | None) -> None:
    """Tell everyone in the meeting what a moderator did."""
    meeting.broadcast(
        encode(sm.Moderation(action=action, by=actor.id, target=target.id if target else None))
    )


async def _block(meeting: Meeting, actor: Participant, target: Participant, media: str) -> None:
    """Switch the target's microphone or camera off, and block it at Janus until the target
    switches it on again themselves."""
    target.blocked.add(media)
    await meeting.media.moderate(target.id, "camera", media, mute=True)
    if media == "audio":
        target.audio = False
        target.send(encode(sm.Muted(by=actor.id)))
    else:
        target.video = False
        target.send(encode(sm.VideoStopped(by=actor.id)))
    meeting.broadcast(encode(sm.ParticipantUpdated(participant=target.info())))


async def moderate(meeting: Meeting, actor: Participant, message: p.ClientMessage) -> None:
    target: Participant | None = None
    match message:
        case p.Admit(id=pid):
            target = _waiting(meeting, pid)
            meeting.admit(target)
        case p.AdmitAll():
            full = None
            for waiting in list(meeting.waiting.values()):
                if meeting.may_enter(waiting):  # the others wait on (they cannot encrypt)
                    try:
                        meeting.admit(waiting)
                    except MeetingFull as exc:
                        full = exc  # the rest wait on
                        break
            # Those admitted are in the log and shown; then the moderator learns it is full.
            await meeting.audit(message.type, actor, None)
            _shown(meeting, message.type, actor, None)
            if full is not None:
                raise full
            return
        case p.Deny(id=pid):
            target = _waiting(meeting, pid)
            meeting.deny(target)
        case p.Mute(id=pid):
            target = _joined(meeting, pid)
            await _block(meeting, actor, target, "audio")
        case p.MuteAll():
            for other in list(meeting.participants.values()):
                if other is not actor and other.state is ParticipantState.JOINED:
                    await _block(meeting, actor, other, "audio")
        case p.StopVideo(id=pid):
            target = _joined(meeting, pid)
            await _block(meeting, actor, target, "video")
        case p.StopScreen(id=pid):
            target = _joined(meeting, pid)
            await meeting.media.unpublish(target.id, "screen")
            target.send(encode(sm.ScreenStopped(by=actor.id)))
        case p.Remove(id=pid, bar=bar):
            target = _joined(meeting, pid)
            if bar:
                meeting.bar(target)
            await meeting.audit("remove_and_bar" if bar else "remove", actor, target)
            _shown(meeting, "remove", actor, target)
            await meeting.leave(target, "removed")
            return
        case p.Lock(locked=locked):
            meeting.locked = locked
            meeting.broadcast(encode(sm.MeetingUpdated(locked=locked)))
            await meeting.audit("lock" if locked else "unlock", actor, None)
            _shown(meeting, "lock" if locked else "unlock", actor, None)
            return
        case p.AllowUnencrypted(allowed=allowed):
            action = "allow_unencrypted" if allowed else "disallow_unencrypted"
            meeting.allow_unencrypted = allowed
            meeting.show_e2ee()
            await meeting.audit(action, actor, None)
            _shown(meeting, action, actor, None)
            return
        case p.End():
            await meeting.audit("end", actor, None)
            _shown(meeting, "end", actor, None)
            await meeting.close("ended")
            return
        case p.LowerHand(id=pid):
            target = _joined(meeting, pid)
            if not meeting.raise_hand(target, False):
                return  # not up (another moderator was quicker): nothing done, nothing shown
        case p.Promote(id=pid):
            target = _joined(meeting, pid)
            target.role = Role.MODERATOR
            meeting.broadcast(encode(sm.ParticipantUpdated(participant=target.info())))
            target.send(encode(sm.LobbyList(waiting=[w.info() for w in meeting.waiting.values()])))
    # Logged before it is shown: whoever sees it can find it in the audit log.
    await meeting.audit(message.type, actor, target)
    _shown(meeting, message.type, actor, target)
