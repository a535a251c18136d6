"""All live meetings of this process, one per room, created on first join and closed when empty."""

from __future__ import annotations

import asyncio
import logging

from rathaus.config import MeetingSettings, TurnSettings
from rathaus.media.janus.pool import JanusPool
from rathaus.meetings.media import MediaListener, MeetingMedia
from rathaus.meetings.meeting import Meeting
from rathaus.meetings.turn import ice_servers
from rathaus.rooms.service import Room

log = logging.getLogger(__name__)


class MeetingRegistry:
    def __init__(self, pool: JanusPool, meeting: MeetingSettings, turn: TurnSettings) -> None:
        self._pool = pool
        self._settings = meeting
        self._turn = turn
        self._meetings: dict[str, Meeting] = {}
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def settings(self) -> MeetingSettings:
        return self._settings

    def __len__(self) -> int:
        return len(self._meetings)

    async def meeting(self, room: Room) -> Meeting:
        meeting = self._meetings.get(room.slug)
        if meeting is None or meeting.closed:
            meeting = Meeting(
                room,
                self._settings,
                make_media=self._make_media,
                ice_servers=lambda pid: ice_servers(self._turn, pid),
                on_empty=self._empty,
            )
            self._meetings[room.slug] = meeting
            await meeting.media.start()
        return meeting

    def _make_media(self, listener: MediaListener) -> MeetingMedia:
        return MeetingMedia(self._pool, listener)

    def _empty(self, meeting: Meeting) -> None:
        if self._meetings.get(meeting.room.slug) is meeting:
            del self._meetings[meeting.room.slug]
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
