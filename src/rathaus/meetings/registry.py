"""All live meetings of this process, one per room, created on first join and closed when empty."""

from __future__ import annotations

import asyncio
import logging

from rathaus.audit import AuditLog, AuditParty, PartyRole
from rathaus.config import MeetingSettings, TurnSettings
from rathaus.media.janus.pool import JanusPool
from rathaus.meetings.media import MediaListener, MeetingMedia
from rathaus.meetings.meeting import Audit, Meeting
from rathaus.meetings.participant import Participant
from rathaus.meetings.turn import ice_servers
from rathaus.rooms.service import Room

log = logging.getLogger(__name__)


class MeetingRegistry:
    def __init__(
        self,
        pool: JanusPool,
        meeting: MeetingSettings,
        turn: TurnSettings,
        audit_log: AuditLog | None = None,
    ) -> None:
        self._pool = pool
        self._audit_log = audit_log
        self._settings = meeting
        self._turn = turn
        self._meetings: dict[str, Meeting] = {}
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def settings(self) -> MeetingSettings:
        return self._settings

    def __len__(self) -> int:
        return len(self._meetings)

    def in_meeting(self, slug: str) -> int:
        """How many people are in the room's meeting now (in this process; lobby not counted)."""
        meeting = self._meetings.get(slug)
        return len(meeting.participants) if meeting is not None and not meeting.closed else 0

    def meeting(self, room: Room) -> Meeting:
        """The live meeting of a room (created if there is none, without any Janus resources
        until someone is admitted), with the room's current settings."""
        meeting = self._meetings.get(room.slug)
        if meeting is not None and not meeting.closed:
            meeting.room = room
            return meeting
        meeting = Meeting(
            room,
            self._settings,
            make_media=self._make_media,
            ice_servers=lambda pid: ice_servers(self._turn, pid),
            on_empty=self._empty,
        )
        if self._audit_log is not None:
            meeting.audit = self._auditor(room.slug)
        self._meetings[room.slug] = meeting
        return meeting

    def _auditor(self, slug: str) -> Audit:
        audit_log = self._audit_log
        assert audit_log is not None

        async def record(action: str, actor: Participant, target: Participant | None) -> None:
            await audit_log.record(slug, _label(actor), action, _label(target) if target else None)

        return record

    def _make_media(self, listener: MediaListener) -> MeetingMedia:
        return MeetingMedia(self._pool, listener)

    def _empty(self, meeting: Meeting) -> None:
        if self._meetings.get(meeting.room.slug) is meeting:
            del self._meetings[meeting.room.slug]
        if meeting.closed:
            return
        meeting.closed = True
        task = asyncio.get_running_loop().create_task(meeting.media.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        for meeting in list(self._meetings.values()):
            await meeting.close()
        self._meetings.clear()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)


def _label(participant: Participant) -> AuditParty:
    """Who, for the audit log: the role in the meeting, the account for members, and the display
    name apart from both (a promoted guest is a moderator without an account)."""
    return AuditParty(participant.name, PartyRole(participant.role.value), participant.user_id)
