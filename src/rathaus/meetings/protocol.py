"""The signaling codec: typed wire messages (docs/protocol.md), parsed once at the edge.

Sans-IO: ``parse_client_message`` turns a frame into a typed message or raises a ClientError.
Server → client messages are in :mod:`rathaus.meetings.server_messages`.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    ValidationError,
    field_validator,
)

from rathaus import frames
from rathaus.e2ee import keys
from rathaus.errors import BadMessage, ErrorCode

MAX_FRAME = 64 * 1024
MAX_SDP = 32 * 1024
MAX_NAME = 64

Kind = Literal["camera", "screen"]
FeedId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")]
_PC = re.compile(r"^(pub:(camera|screen)|sub:[0-9]{1,32})$")


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# Strings relayed to Janus: Janus's JSON parser refuses a NUL and then cannot even say which
# request it refused, so such a request would look like a dead media node. SDP lines end in
# CRLF; nothing else below the space character belongs in SDP or an ICE candidate.
_SDP_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _no_control(pattern: re.Pattern[str]) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str) and pattern.search(value):
            raise ValueError("contains control characters")
        return value

    return BeforeValidator(check)


SdpText = Annotated[str, Field(min_length=1, max_length=MAX_SDP), _no_control(_SDP_CONTROL)]
LineText = Annotated[str, _no_control(_LINE_CONTROL)]


def clean_name(value: str) -> str:
    """Display names: NFC, inner white space folded, no control or format characters."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs") for ch in text):
        raise ValueError("the name contains control characters")
    if not 1 <= len(text) <= MAX_NAME:
        raise ValueError(f"the name must have 1 to {MAX_NAME} characters")
    return text


# --- end-to-end encryption: public keys and envelopes (docs/protocol.md) -------------------------


def _public_key(x25519: bool) -> Any:
    what = "x25519" if x25519 else "ed25519"

    def check(value: Any) -> Any:
        keys.refuse_private_key(value, what)
        if isinstance(value, str):
            return keys.public_key(value, what, x25519=x25519)
        return value  # pydantic refuses what is not a string

    return BeforeValidator(check)


def _envelope(value: Any) -> Any:
    return keys.envelope(value) if isinstance(value, str) else value


class Device(_Message):
    """A device's public identity: raw public keys only, never a private one."""

    id: str = Field(pattern=keys.DEVICE_ID)
    x25519: Annotated[str, _public_key(x25519=True)]
    ed25519: Annotated[str, _public_key(x25519=False)]
    e2ee: StrictBool  # the browser can encrypt media (encoded transforms)


# --- client → server ------------------------------------------------------------------------------


class Join(_Message):
    type: Literal["join"]
    name: str = Field(max_length=4 * MAX_NAME)
    resume: str | None = Field(default=None, max_length=128)
    password: str | None = Field(default=None, max_length=256)
    invite: str | None = Field(default=None, max_length=512)  # a guest link's token
    device: Device | None = None

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        return clean_name(value)


class Publish(_Message):
    type: Literal["publish"]
    kind: Kind
    sdp: SdpText
    restart: bool = False


class Unpublish(_Message):
    type: Literal["unpublish"]
    kind: Kind


class IceCandidate(_Message):
    model_config = ConfigDict(extra="ignore", frozen=True)
    candidate: LineText = Field(max_length=1024)
    sdpMid: LineText | None = Field(default=None, max_length=64)
    sdpMLineIndex: int | None = Field(default=None, ge=0, le=64)
    usernameFragment: LineText | None = Field(default=None, max_length=256)


class Trickle(_Message):
    type: Literal["trickle"]
    pc: str = Field(max_length=40)
    candidate: IceCandidate | None

    @field_validator("pc")
    @classmethod
    def _pc(cls, value: str) -> str:
        if not _PC.match(value):
            raise ValueError("pc must be pub:camera, pub:screen or sub:<feed>")
        return value


class Subscribe(_Message):
    type: Literal["subscribe"]
    feed: FeedId


class Answer(_Message):
    type: Literal["answer"]
    feed: FeedId
    sdp: SdpText


class Unsubscribe(_Message):
    type: Literal["unsubscribe"]
    feed: FeedId


class Layer(_Message):
    type: Literal["layer"]
    feed: FeedId
    substream: int = Field(ge=0, le=2)


class ReceiveVideo(_Message):
    """Whether this subscription's video is sent at all: off for tiles not shown and in
    low-bandwidth modes (the audio goes on)."""

    type: Literal["receive_video"]
    feed: FeedId
    on: StrictBool


class Restart(_Message):
    type: Literal["restart"]
    feed: FeedId


class MediaState(_Message):
    type: Literal["media"]
    audio: bool
    video: bool


class Leave(_Message):
    type: Literal["leave"]


class Ping(_Message):
    type: Literal["ping"]


# --- end-to-end encryption ------------------------------------------------------------------------

ParticipantId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]


class KeyEnvelope(_Message):
    """The sender's media key, encrypted in the browser to the recipient's device key."""

    type: Literal["key_envelope"]
    to: ParticipantId
    envelope: Annotated[str, BeforeValidator(_envelope)]


# Envelopes in one `key_envelopes` message: a rotation in a large meeting goes out in a few
# messages rather than one per participant (each still within the socket's frame size).
MAX_ENVELOPES_PER_MESSAGE = 100


class EnvelopeTo(_Message):
    to: ParticipantId
    envelope: Annotated[str, BeforeValidator(_envelope)]


class KeyEnvelopes(_Message):
    """Several envelopes at once, each relayed like a `key_envelope` of its own."""

    type: Literal["key_envelopes"]
    envelopes: list[EnvelopeTo] = Field(min_length=1, max_length=MAX_ENVELOPES_PER_MESSAGE)


class KeyRequest(_Message):
    """Asks `to` to send its current media key again: this browser's frames from `to` stopped
    decrypting (a lost or late envelope)."""

    type: Literal["key_request"]
    to: ParticipantId


# --- raised hands and reactions -------------------------------------------------------------------

# The reactions there are, by name (the browser draws them as 👍 👏 😂 😮 ❤️ 🎉): a name keeps the
# allow-list free of look-alike code point sequences (a heart with or without U+FE0F), and lets
# a phone's keypad or a log name them. Anything else is bad_message.
Reaction = Literal["thumbs_up", "applause", "laugh", "surprise", "heart", "party"]


class RaiseHand(_Message):
    """One's own hand up (``raised``) or down."""

    type: Literal["raise_hand"]
    raised: StrictBool


class React(_Message):
    type: Literal["react"]
    reaction: Reaction


# --- moderation (moderators only) -----------------------------------------------------------------


class Admit(_Message):
    type: Literal["admit"]
    id: ParticipantId


class Deny(_Message):
    type: Literal["deny"]
    id: ParticipantId


class AdmitAll(_Message):
    type: Literal["admit_all"]


class Mute(_Message):
    type: Literal["mute"]
    id: ParticipantId


class MuteAll(_Message):
    type: Literal["mute_all"]


class StopVideo(_Message):
    type: Literal["stop_video"]
    id: ParticipantId


class StopScreen(_Message):
    type: Literal["stop_screen"]
    id: ParticipantId


class Remove(_Message):
    type: Literal["remove"]
    id: ParticipantId
    bar: bool = False


class Lock(_Message):
    type: Literal["lock"]
    locked: bool


class AllowUnencrypted(_Message):
    type: Literal["allow_unencrypted"]
    allowed: StrictBool


class End(_Message):
    type: Literal["end"]


class Promote(_Message):
    type: Literal["promote"]
    id: ParticipantId


class LowerHand(_Message):
    type: Literal["lower_hand"]
    id: ParticipantId


ClientMessage = Annotated[
    Join
    | Publish
    | Unpublish
    | Trickle
    | Subscribe
    | Answer
    | Unsubscribe
    | Layer
    | ReceiveVideo
    | Restart
    | MediaState
    | Leave
    | Ping
    | KeyEnvelope
    | KeyEnvelopes
    | KeyRequest
    | RaiseHand
    | React
    | Admit
    | Deny
    | AdmitAll
    | Mute
    | MuteAll
    | StopVideo
    | StopScreen
    | Remove
    | Lock
    | End
    | Promote
    | LowerHand
    | AllowUnencrypted,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_message(frame: str | bytes) -> ClientMessage:
    data = frames.read_object(frame, MAX_FRAME)
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        field, problem = frames.where(exc)
        code = ErrorCode.INVALID_NAME if data["type"] == "join" and field == "name" else None
        raise BadMessage(f"{data['type']}: {field}: {problem}", code=code) from exc
