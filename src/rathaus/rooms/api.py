"""HTTP API for rooms."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from rathaus.accounts.api import accounts, require_member
from rathaus.accounts.service import User
from rathaus.rooms.invites import MAX_HOURS, Invites
from rathaus.rooms.service import MAX_NAME, Room, RoomService
from rathaus.services import services

router = APIRouter(prefix="/api/rooms", tags=["rooms"])


class CreateRoom(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    slug: str | None = Field(default=None, min_length=1, max_length=64)


class RoomOut(BaseModel):
    slug: str
    name: str
    url: str

    @classmethod
    def of(cls, room: Room) -> RoomOut:
        return cls(slug=room.slug, name=room.name, url=f"/r/{room.slug}")


def _rooms(request: Request) -> RoomService:
    service: RoomService = services(request).rooms
    return service


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_room(body: CreateRoom, request: Request) -> RoomOut:
    """Members create rooms and own them; without accounts (embedded default) anyone may."""
    if not await accounts(request).accounts_configured():
        return RoomOut.of(await _rooms(request).create(body.name, body.slug))
    owner = (await require_member(request)).user
    return RoomOut.of(await _rooms(request).create(body.name, body.slug, owner.id, by=owner))


@router.get("/{slug}")
async def get_room(slug: str, request: Request) -> RoomOut:
    return RoomOut.of(await _rooms(request).get(slug))


class RoomSettings(BaseModel):
    guests_allowed: bool | None = None
    lobby: bool | None = None
    # A new room password; "" removes it.
    password: str | None = Field(default=None, max_length=256)
    # End-to-end encryption of the room's meetings, from the next meeting on. Strict: switching
    # it off takes a JSON `false`, never "0", "no" or "off".
    e2ee: bool | None = Field(default=None, strict=True)


class RoomSettingsOut(BaseModel):
    slug: str
    name: str
    guests_allowed: bool
    lobby: bool
    has_password: bool
    e2ee: bool

    @classmethod
    def of(cls, room: Room) -> RoomSettingsOut:
        return cls(
            slug=room.slug,
            name=room.name,
            guests_allowed=room.guests_allowed,
            lobby=room.lobby,
            has_password=room.has_password,
            e2ee=room.e2ee,
        )


class RoleIn(BaseModel):
    role: Literal["co_owner", "moderator"]


@router.patch("/{slug}")
async def change_room(slug: str, body: RoomSettings, request: Request) -> RoomSettingsOut:
    """Owners, co-owners and administrators change who may enter and how, and whether the
    room's meetings are end-to-end encrypted."""
    signed_in = await require_member(request)
    room = await _rooms(request).update(
        slug,
        signed_in.user,
        guests_allowed=body.guests_allowed,
        lobby=body.lobby,
        password=body.password,
        e2ee=body.e2ee,
    )
    return RoomSettingsOut.of(room)


async def _role_change(request: Request, slug: str, username: str) -> tuple[User, User]:
    """The caller and the member whose room role is to change. Whether the caller may change the
    room's roles is checked before the name is looked up, so that a refusal is the same whether
    or not the name exists: nobody finds out user names by asking."""
    user = (await require_member(request)).user
    rooms = _rooms(request)
    await rooms.require_manager(await rooms.get(slug), user)
    return user, await accounts(request).user_named(username)


@router.put("/{slug}/roles/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def give_role(slug: str, username: str, body: RoleIn, request: Request) -> None:
    user, member = await _role_change(request, slug, username)
    await _rooms(request).set_role(slug, user, member, body.role)


@router.delete("/{slug}/roles/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def take_role(slug: str, username: str, request: Request) -> None:
    user, member = await _role_change(request, slug, username)
    await _rooms(request).set_role(slug, user, member, None)


class GuestLinkIn(BaseModel):
    valid_hours: float = Field(default=24 * 7, gt=0, le=MAX_HOURS)


class GuestLinkOut(BaseModel):
    url: str
    expires_at: int  # unix time


@router.post("/{slug}/guest-links", status_code=status.HTTP_201_CREATED)
async def create_guest_link(slug: str, body: GuestLinkIn, request: Request) -> GuestLinkOut:
    """A link that lets guests into a members-only room until it expires."""
    signed_in = await require_member(request)
    invites: Invites = services(request).invites
    token, expires = await _rooms(request).create_guest_link(
        slug, signed_in.user, invites, body.valid_hours
    )
    return GuestLinkOut(url=f"/r/{slug}?{urlencode({'invite': token})}", expires_at=expires)
