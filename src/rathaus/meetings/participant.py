"""A participant of a live meeting and its explicit state machine."""

from __future__ import annotations

import asyncio
import enum
import secrets
from dataclasses import dataclass, field
from typing import Protocol

from rathaus.errors import RathausError
from rathaus.meetings.access import Role
from rathaus.meetings.protocol import Device
from rathaus.meetings.server_messages import ParticipantInfo


class Peer(Protocol):
    """The participant's connection, as the meeting sees it (a WebSocket in production)."""

    def send(self, frame: str) -> None: ...

    def close(self, code: int, reason: str = "") -> None: ...


class ParticipantState(enum.Enum):
    WAITING = "waiting"  # in the lobby: sees and receives nothing of the meeting
    JOINED = "joined"
    DETACHED = "detached"  # connection lost; waiting for a resume within the grace period
    LEFT = "left"


_TRANSITIONS = {
    ParticipantState.WAITING: {ParticipantState.JOINED, ParticipantState.LEFT},
    ParticipantState.JOINED: {ParticipantState.DETACHED, ParticipantState.LEFT},
    ParticipantState.DETACHED: {ParticipantState.JOINED, ParticipantState.LEFT},
    ParticipantState.LEFT: set(),
}


class IllegalTransition(RathausError):
    pass


@dataclass(eq=False)
class Participant:
    name: str
    peer: Peer | None
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    resume_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    audio: bool = True
    video: bool = True
    state: ParticipantState = ParticipantState.JOINED
    grace_timer: asyncio.TimerHandle | None = None
    role: Role = Role.GUEST
    user_id: int | None = None
    # A guest's browser, from a cookie: what a bar holds on to when there is no account.
    guest_key: str | None = None
    # The guest's address (memory only, never logged or sent): a bar holds on it too, so that
    # clearing cookies does not undo it.
    address: str | None = None
    # Media a moderator blocked at Janus ("audio", "video") until the participant turns them on.
    blocked: set[str] = field(default_factory=set)
    # The device's public keys, as given in `join` (memory only; never a private key).
    device: Device | None = None

    def move(self, to: ParticipantState) -> None:
        if to not in _TRANSITIONS[self.state]:
            raise IllegalTransition(f"participant cannot go from {self.state.value} to {to.value}")
        self.state = to

    def info(self) -> ParticipantInfo:
        return ParticipantInfo(
            id=self.id,
            name=self.name,
            audio=self.audio,
            video=self.video,
            role=self.role.value,
            device=self.device,
        )

    @property
    def is_moderator(self) -> bool:
        return self.role is Role.MODERATOR

    def send(self, frame: str) -> None:
        if self.peer is not None and self.state in (
            ParticipantState.JOINED,
            ParticipantState.WAITING,
        ):
            self.peer.send(frame)
