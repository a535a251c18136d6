"""The chat socket's codec (docs/protocol.md, "Chat"): typed messages both ways, parsed once at
the edge. Sans-IO. MLS bytes travel as unpadded base64url; the server reads only their clear
header (rathaus.chat.mls_wire)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from rathaus import frames
from rathaus.e2ee import keys
from rathaus.errors import BadMessage
from rathaus.rooms.slug import is_valid_slug

# A commit with the GroupInfo of the next epoch, both base64: the largest frame there is.
MAX_FRAME = 768 * 1024
MAX_OPEN_ROOMS = 500

ClientId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


def _slug(value: Any) -> Any:
    if isinstance(value, str) and not is_valid_slug(value):
        raise ValueError("not a room's link name")
    return value


def _bytes(value: Any) -> Any:
    if isinstance(value, str):
        return keys.b64url_decode(value, "the MLS message")
    return value


RoomSlug = Annotated[str, Field(max_length=64), BeforeValidator(_slug)]
Mls = Annotated[bytes, BeforeValidator(_bytes)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client → server ------------------------------------------------------------------------------


class Hello(_Message):
    """The socket's device: registered to the signed-in member (POST /api/chat/devices)."""

    type: Literal["hello"]
    device: str = Field(pattern=keys.DEVICE_ID)


class Open(_Message):
    """Follow a room: its group's state, then the events after ``after`` (this device's last
    seen), then every new one. Without ``after``: no past events (a device not in the group)."""

    type: Literal["open"]
    room: RoomSlug
    after: int | None = Field(default=None, ge=0)


class Close(_Message):
    type: Literal["close"]
    room: RoomSlug


class CreateGroup(_Message):
    type: Literal["create_group"]
    room: RoomSlug
    id: ClientId
    group_info: Mls


DeviceId = Annotated[str, Field(pattern=keys.DEVICE_ID)]


class Commit(_Message):
    """``adds``: the devices this commit adds (with their ``welcome``); ``removes``: those it
    removes. A new device's external commit names neither: it joins itself."""

    type: Literal["commit"]
    room: RoomSlug
    id: ClientId
    commit: Mls
    group_info: Mls
    adds: list[DeviceId] = Field(default=[], max_length=100)
    removes: list[DeviceId] = Field(default=[], max_length=100)
    welcome: Mls | None = None


class Claim(_Message):
    """Key packages of the members' devices missing from the group (each handed out once)."""

    type: Literal["claim"]
    room: RoomSlug
    id: ClientId


class Send(_Message):
    """``rel``/``ref``: a reply to, an edit of or a reaction to message number ``ref`` (in the
    clear, as Matrix's ``m.relates_to``; the content stays encrypted)."""

    type: Literal["send"]
    room: RoomSlug
    id: ClientId
    message: Mls
    rel: Literal["reply", "edit", "react"] | None = None
    ref: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _both_or_neither(self) -> Send:
        if (self.rel is None) != (self.ref is None):
            raise ValueError("rel and ref go together")
        return self


class Delete(_Message):
    """Delete message number ``seq`` from the server (its author, or a moderator)."""

    type: Literal["delete"]
    room: RoomSlug
    id: ClientId
    seq: int = Field(ge=1)


class History(_Message):
    """Older events, before number ``before``: one page."""

    type: Literal["history"]
    room: RoomSlug
    before: int = Field(ge=1)


class Read(_Message):
    """This member has read the room up to number ``seq`` (their private unread count)."""

    type: Literal["read"]
    room: RoomSlug
    seq: int = Field(ge=0)


class Typing(_Message):
    """This member is typing in the room (only where the server has typing indicators on;
    else `switched_off`). Send it at most every few seconds while typing."""

    type: Literal["typing"]
    room: RoomSlug


class Ping(_Message):
    type: Literal["ping"]


ClientMessage = Annotated[
    Hello
    | Open
    | Close
    | CreateGroup
    | Commit
    | Claim
    | Send
    | Delete
    | History
    | Read
    | Typing
    | Ping,
    Field(discriminator="type"),
]
_client_adapter: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def parse_client_message(frame: str) -> ClientMessage:
    data = frames.read_object(frame, MAX_FRAME, "a chat frame")
    try:
        return _client_adapter.validate_python(data)
    except ValidationError as exc:
        field, problem = frames.where(exc)
        raise BadMessage(f"{data['type'][:32]}: {field}: {problem}") from exc


# --- server → client ------------------------------------------------------------------------------


class WireEvent(_Message):
    """One event of a room's group: ``kind`` group (its creation: ``body`` is the GroupInfo),
    commit, message, or delete (of message ``ref``); ``body`` None once deleted. ``at`` in
    milliseconds since 1970."""

    room: str
    seq: int
    kind: Literal["group", "commit", "message", "delete"]
    epoch: int
    user: str | None  # the author's user name; None once the account is gone
    device: str
    id: str  # the author's client id
    body: str | None
    at: int
    rel: Literal["reply", "edit", "react"] | None = None
    ref: int | None = None


class Ready(_Message):
    type: Literal["ready"] = "ready"
    user: str
    key_packages: int  # this device's key packages waiting on the server
    typing: bool = False  # the server passes "is typing" on (an operator's opt-in)


class ClaimedDevice(_Message):
    device: str
    user: str
    key_package: str


class Claimed(_Message):
    type: Literal["claimed"] = "claimed"
    room: str
    id: str
    devices: list[ClaimedDevice]
    stale: list[str]  # devices in the group whose owner is no member: remove them


class ReadBy(_Message):
    user: str
    seq: int


class GroupState(_Message):
    """A room's group as the delivery service has it; ``group_info`` None: no group yet."""

    type: Literal["group"] = "group"
    room: str
    epoch: int | None
    group_info: str | None
    last_seq: int
    since: int  # the member's membership began (ms): nothing older is shown to them
    retention_days: int | None = None  # the room keeps messages this long (None: for ever)
    read_seq: int = 0  # how far this member has read (their own marker)
    welcome: str | None = None  # this device was added: join with it, then read after…
    welcome_seq: int | None = None  # …the number of the commit that added it
    read_by: list[ReadBy] = []  # how far the members who share it have read


class Events(_Message):
    """Events of one room, in order. ``live`` False: a catch-up or history page; ``more``: an
    older page exists (history) or more events follow at once (catch-up)."""

    type: Literal["events"] = "events"
    room: str
    events: list[WireEvent]
    live: bool
    more: bool = False


class Hint(_Message):
    """``devices``: the room's members or their devices changed; claim (see ``claim``)."""

    type: Literal["hint"] = "hint"
    room: str
    hint: Literal["devices"]


class Signal(_Message):
    """Never stored: ``typing`` (``user`` is typing now) or ``read`` (``user``, who shares it,
    has read up to ``seq``)."""

    type: Literal["signal"] = "signal"
    room: str
    signal: Literal["typing", "read"]
    user: str
    seq: int | None = None


class Ack(_Message):
    """The event of the client's ``id`` is stored: its number."""

    type: Literal["ack"] = "ack"
    room: str
    id: str
    seq: int


class Error(_Message):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None  # the client id, or the type of the message refused
    room: str | None = None
    epoch: int | None = None  # epoch_conflict: the epoch the group is at


ServerMessage = Ready | Claimed | GroupState | Events | Hint | Signal | Ack | Error
PONG = '{"type":"pong"}'


def encode(message: ServerMessage) -> str:
    return message.model_dump_json(exclude_none=False)
