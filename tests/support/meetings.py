"""A meeting without Janus: a peer and a media side that record what they are sent (the edge of
the machine), for the tests of the meeting's rules."""

import json
from typing import Any

from rathaus.config import MeetingSettings
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.meeting import Meeting
from rathaus.meetings.participant import Participant
from rathaus.rooms.service import Room


class FakePeer:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.closed: int | None = None

    def send(self, frame: str) -> None:
        self.frames.append(json.loads(frame))

    def close(self, code: int, reason: str = "") -> None:
        self.closed = code

    def types(self) -> list[str]:
        return [f["type"] for f in self.frames]

    def last(self, type_: str) -> dict[str, Any]:
        return [f for f in self.frames if f["type"] == type_][-1]


class FakeMedia:
    available = True

    def __init__(self, listener: Any) -> None:
        self.listener = listener
        self.calls: list[tuple[Any, ...]] = []
        self._feeds: list[sm.FeedInfo] = []

    def feeds(self) -> list[sm.FeedInfo]:
        return list(self._feeds)

    async def start(self) -> None:
        if ("start",) not in self.calls:
            self.calls.append(("start",))

    async def publish(self, pid: str, kind: str, sdp: str, restart: bool) -> str:
        self.calls.append(("publish", pid, kind, restart))
        return "answer-sdp"

    async def remove_participant(self, pid: str) -> None:
        self.calls.append(("remove", pid))

    async def close(self) -> None:
        self.calls.append(("close",))


def make_meeting(room: Room | None = None, **settings: Any) -> tuple[Meeting, list[Meeting]]:
    emptied: list[Meeting] = []
    meeting = Meeting(
        room or Room("team", "Team"),
        MeetingSettings(**{"e2ee_required": False, **settings}),  # fakes cannot encrypt
        make_media=FakeMedia,  # type: ignore[arg-type]
        ice_servers=lambda pid: [sm.IceServer(urls=["turn:x"], username=pid, credential="c")],
        on_empty=emptied.append,
    )
    return meeting, emptied


def join(name: str, resume: str | None = None) -> p.Join:
    return p.Join(type="join", name=name, resume=resume)


def drop_connection(participant: Participant) -> None:
    """Close a participant's socket as a lost network would (4408, not a clean close)."""
    assert participant.peer is not None, "the participant has no connection"
    participant.peer.close(4408, "test: connection lost")
