"""Server → client messages of the signaling protocol (docs/protocol.md), one typed model each.

The other direction is in :mod:`rathaus.meetings.protocol`. ``encode`` turns a message into a
frame. The JSDoc types of the browser client (``web/static/js/protocol.js``) are generated from
these models (:mod:`rathaus.meetings.jsdoc`), and a test compares them, the tables of
docs/protocol.md and the i18n catalogs with these models and with ``errors.ErrorCode``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rathaus.errors import ErrorCode
from rathaus.meetings.protocol import Device, Kind, Reaction

Role = Literal["moderator", "member", "guest"]
ByeReason = Literal["left", "replaced", "shutdown", "denied", "removed", "ended"]
LobbyStatus = Literal["waiting", "no_moderator"]
ModerationAction = Literal[
    "admit",
    "admit_all",
    "deny",
    "mute",
    "mute_all",
    "stop_video",
    "stop_screen",
    "remove",
    "lock",
    "unlock",
    "end",
    "promote",
    "allow_unencrypted",
    "disallow_unencrypted",
    "lower_hand",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- what messages are made of -------------------------------------------------------------------


class ParticipantInfo(_Model):
    id: str
    name: str
    audio: bool
    video: bool
    role: Role = "guest"
    device: Device | None = None  # public keys only; null: the participant cannot encrypt


class E2eeState(_Model):
    encrypted: bool  # every participant in the meeting encrypts end to end
    allow_unencrypted: bool  # a moderator lets in participants who cannot


class FeedInfo(_Model):
    id: str
    participant: str
    kind: Kind


class RaisedHand(_Model):
    participant: str
    position: int  # 1 for the hand raised first of those still up
    raised_at: float  # Unix time, seconds


class IceServer(_Model):
    """A TURN server with this participant's time-limited credentials (docs/protocol.md)."""

    urls: list[str]
    username: str
    credential: str


# --- the messages --------------------------------------------------------------------------------


class Welcome(_Model):
    type: Literal["welcome"] = "welcome"
    self_: ParticipantInfo = Field(alias="self")
    resume: str
    resumed: bool
    participants: list[ParticipantInfo]
    feeds: list[FeedInfo]
    ice_servers: list[IceServer]
    media_available: bool
    running_for: float = Field(ge=0)  # seconds since the meeting's first participant came in
    locked: bool
    e2ee: E2eeState
    e2ee_required: bool
    waiting: list[ParticipantInfo]  # moderators only; empty for the others
    hands: list[RaisedHand]  # in the order they were raised


class ParticipantJoined(_Model):
    type: Literal["participant_joined"] = "participant_joined"
    participant: ParticipantInfo


class ParticipantUpdated(_Model):
    type: Literal["participant_updated"] = "participant_updated"
    participant: ParticipantInfo


class ParticipantLeft(_Model):
    type: Literal["participant_left"] = "participant_left"
    id: str


class FeedAdded(_Model):
    type: Literal["feed_added"] = "feed_added"
    feed: FeedInfo


class FeedRemoved(_Model):
    type: Literal["feed_removed"] = "feed_removed"
    id: str


class Published(_Model):
    type: Literal["published"] = "published"
    kind: Kind
    sdp: str


class Offer(_Model):
    type: Literal["offer"] = "offer"
    feed: str
    sdp: str


class Talking(_Model):
    type: Literal["talking"] = "talking"
    participant: str
    talking: bool


class KeyEnvelopeFrom(_Model):
    type: Literal["key_envelope"] = "key_envelope"
    from_: str = Field(alias="from")
    envelope: str


class KeyRequestFrom(_Model):
    type: Literal["key_request"] = "key_request"
    from_: str = Field(alias="from")


class E2eeStateChanged(_Model):
    type: Literal["e2ee_state"] = "e2ee_state"
    encrypted: bool
    allow_unencrypted: bool


class E2eeRefused(_Model):
    type: Literal["e2ee_refused"] = "e2ee_refused"
    name: str


class Hands(_Model):
    """Every raised hand, in order, whenever one goes up or down."""

    type: Literal["hands"] = "hands"
    hands: list[RaisedHand]


class Reacted(_Model):
    type: Literal["reaction"] = "reaction"
    participant: str
    reaction: Reaction


class MediaUnavailable(_Model):
    type: Literal["media_unavailable"] = "media_unavailable"


class MediaRestored(_Model):
    type: Literal["media_restored"] = "media_restored"


class Error(_Model):
    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    ref: str | None = None  # the type of the message that caused it, if known
    feed: str | None = None  # of that message, if it had one
    kind: Kind | None = None

    @field_validator("message", "ref")
    @classmethod
    def _sendable(cls, value: str | None) -> str | None:
        """What a client sent may be echoed here, lone surrogates included (JSON's "\\ud800"),
        which no UTF-8 frame can carry: they become "?"."""
        return value.encode("utf-8", "replace").decode("utf-8") if value else value


class Pong(_Model):
    type: Literal["pong"] = "pong"


class Bye(_Model):
    type: Literal["bye"] = "bye"
    reason: ByeReason


class Lobby(_Model):
    type: Literal["lobby"] = "lobby"
    status: LobbyStatus


class Knock(_Model):
    type: Literal["knock"] = "knock"
    participant: ParticipantInfo


class KnockEnded(_Model):
    type: Literal["knock_ended"] = "knock_ended"
    id: str


class LobbyList(_Model):
    type: Literal["lobby_list"] = "lobby_list"
    waiting: list[ParticipantInfo]


class Moderation(_Model):
    type: Literal["moderation"] = "moderation"
    action: ModerationAction
    by: str
    target: str | None


class Muted(_Model):
    type: Literal["muted"] = "muted"
    by: str


class VideoStopped(_Model):
    type: Literal["video_stopped"] = "video_stopped"
    by: str


class ScreenStopped(_Model):
    type: Literal["screen_stopped"] = "screen_stopped"
    by: str


class MeetingUpdated(_Model):
    type: Literal["meeting_updated"] = "meeting_updated"
    locked: bool


ServerMessage = Annotated[
    Welcome
    | ParticipantJoined
    | ParticipantUpdated
    | ParticipantLeft
    | FeedAdded
    | FeedRemoved
    | Published
    | Offer
    | Talking
    | KeyEnvelopeFrom
    | KeyRequestFrom
    | E2eeStateChanged
    | E2eeRefused
    | Hands
    | Reacted
    | MediaUnavailable
    | MediaRestored
    | Error
    | Pong
    | Bye
    | Lobby
    | Knock
    | KnockEnded
    | LobbyList
    | Moderation
    | Muted
    | VideoStopped
    | ScreenStopped
    | MeetingUpdated,
    Field(discriminator="type"),
]


def encode(message: _Model) -> str:
    """One server frame."""
    return message.model_dump_json(by_alias=True)


PONG = encode(Pong())
