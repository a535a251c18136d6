"""HTTP API of the chat: the key directory of devices (public keys only). Devices look up the
owner of every leaf they meet in a room's MLS group here (the `authenticate` of js/chat/mls.js)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from rathaus.accounts.api import require_member
from rathaus.chat.protocol import Mls
from rathaus.e2ee import keys
from rathaus.services import services

router = APIRouter(prefix="/api/chat", tags=["chat"])


def _key(x25519: bool) -> BeforeValidator:
    what = "x25519" if x25519 else "ed25519"

    def check(value: object) -> object:
        keys.refuse_private_key(value, what)
        return keys.public_key(value, what, x25519=x25519) if isinstance(value, str) else value

    return BeforeValidator(check)


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=keys.DEVICE_ID)
    ed25519: Annotated[str, _key(x25519=False)]
    x25519: Annotated[str, _key(x25519=True)]


class KeyPackagesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device: str = Field(pattern=keys.DEVICE_ID)
    key_packages: list[Mls] = Field(min_length=1, max_length=50)


class KeyPackagesOut(BaseModel):
    waiting: int


class DeviceOut(BaseModel):
    id: str
    user: str
    display_name: str
    ed25519: str
    x25519: str


@router.post("/devices")
async def register_device(request: Request, body: DeviceIn) -> KeyPackagesOut:
    """Registers the caller's device (the same again changes nothing; another member's id: 409),
    and says how many of its key packages wait on the server."""
    signed_in = await require_member(request)
    devices = services(request).chat.devices
    await devices.register(signed_in.user, body.id, body.ed25519, body.x25519)
    return KeyPackagesOut(waiting=await devices.waiting_key_packages(body.id))


@router.post("/key-packages")
async def key_packages(request: Request, body: KeyPackagesIn) -> KeyPackagesOut:
    """Key packages of the caller's device (MLS KeyPackage messages, base64url), each handed out
    once to a member's device that adds this device to a room's group; how many wait now."""
    signed_in = await require_member(request)
    chat = services(request).chat
    waiting = await chat.devices.add_key_packages(signed_in.user, body.device, body.key_packages)
    if waiting == len(body.key_packages):  # none waited: a new device, or one long away
        await chat.device_ready(signed_in.user)
    return KeyPackagesOut(waiting=waiting)


@router.get("/devices/{device_id}")
async def device(request: Request, device_id: str) -> DeviceOut:
    """Whose a device is, and its public keys: for members signed in."""
    await require_member(request)
    found = await services(request).chat.devices.device(device_id)
    return DeviceOut(
        id=found.id,
        user=found.username,
        display_name=found.display_name,
        ed25519=found.ed25519,
        x25519=found.x25519,
    )


class Preferences(BaseModel):
    """A member's chat choices. ``share_read_receipts``: the other members of their rooms see
    how far they have read ("read by"); off unless switched on."""

    model_config = ConfigDict(extra="forbid")

    share_read_receipts: StrictBool


class PreferencesOut(Preferences):
    typing_indicators: bool  # the server's choice (its operator's): others see who is typing


@router.get("/preferences")
async def preferences(request: Request) -> PreferencesOut:
    signals = services(request).signals
    signed_in = await require_member(request)
    shares = await signals.shares_read(signed_in.user)
    return PreferencesOut(share_read_receipts=shares, typing_indicators=signals.typing_enabled)


@router.patch("/preferences")
async def set_preferences(request: Request, body: Preferences) -> PreferencesOut:
    signals = services(request).signals
    signed_in = await require_member(request)
    await signals.set_share_read(signed_in.user, body.share_read_receipts)
    return PreferencesOut(
        share_read_receipts=body.share_read_receipts, typing_indicators=signals.typing_enabled
    )


class MemberOut(BaseModel):
    user: str
    display_name: str
    role: Literal["owner", "co_owner", "moderator", "member"]


@router.get("/rooms/{slug}/members")
async def members(request: Request, slug: str) -> list[MemberOut]:
    """Who belongs to the room's chat: for its members only. Devices keep only these people's
    devices in the room's group."""
    signed_in = await require_member(request)
    chat = services(request).chat
    room = await chat.rooms.get(slug)
    await chat.member_since(room, signed_in.user)
    return [MemberOut(user=u, display_name=d, role=r) for u, d, r in await chat.members(room)]


class ConversationOut(BaseModel):
    slug: str
    name: str
    kind: Literal["room", "direct"]
    role: Literal["owner", "co_owner", "moderator", "member"]
    partner: str | None  # a direct conversation's other member
    url: str
    last_at: int  # ms since 1970: the newest message, or when the room was made
    unread: int


@router.get("/conversations")
async def conversations(request: Request) -> list[ConversationOut]:
    """The caller's conversation list: rooms and direct conversations, newest activity first,
    with the caller's own unread counts."""
    signed_in = await require_member(request)
    found = await services(request).chat.conversations(signed_in.user)
    return [
        ConversationOut.model_validate(
            {
                "slug": c.room.slug,
                "name": c.name,
                "kind": c.room.kind,
                "role": c.role,
                "partner": c.partner,
                "url": f"/r/{c.room.slug}",
                "last_at": int(c.last_at.timestamp() * 1000),
                "unread": c.unread,
            }
        )
        for c in found
    ]


class MeetingNow(BaseModel):
    participants: int  # in the room's meeting now (the lobby not counted)


@router.get("/rooms/{slug}/meeting")
async def meeting_now(request: Request, slug: str) -> MeetingNow:
    """How many are in the room's meeting now, for the room's members (its chat shows "Join
    the meeting: 3 people are in it")."""
    signed_in = await require_member(request)
    wired = services(request)
    room = await wired.chat.rooms.get(slug)
    await wired.chat.member_since(room, signed_in.user)
    return MeetingNow(participants=wired.meetings.in_meeting(room.slug))
