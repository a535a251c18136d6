"""HTTP API for rooms."""

from __future__ import annotations

import dataclasses
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from rathaus.accounts.api import accounts, require_member
from rathaus.accounts.service import User
from rathaus.rooms.guest_links import GuestLink, GuestLinks
from rathaus.rooms.invites import MAX_HOURS
from rathaus.rooms.service import MAX_NAME, MyRoom, Room, RoomPerson, RoomService
from rathaus.services import services

router = APIRouter(prefix="/api/rooms", tags=["rooms"])
direct_router = APIRouter(prefix="/api/direct", tags=["rooms"])

RoomRole = Literal["owner", "co_owner", "moderator", "member"]


class CreateRoom(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    slug: str | None = Field(default=None, min_length=1, max_length=64)


class RoomOut(BaseModel):
    slug: str
    name: str
    url: str
    # So that the join screen can ask for the password up front.
    has_password: bool

    @classmethod
    def of(cls, room: Room) -> RoomOut:
        return cls(
            slug=room.slug, name=room.name, url=_url(room.slug), has_password=room.has_password
        )


class RoomListItem(BaseModel):
    slug: str
    name: str
    url: str
    role: RoomRole
    kind: Literal["room", "direct"]
    created_at: int  # unix time
    guests_allowed: bool
    lobby: bool
    has_password: bool
    e2ee: bool

    @classmethod
    def of(cls, mine: MyRoom) -> RoomListItem:
        room = mine.room
        return cls.model_validate(
            dict(
                slug=room.slug,
                name=room.name,
                url=_url(room.slug),
                role=mine.role,
                kind=room.kind,
                created_at=mine.created_at,
                guests_allowed=room.guests_allowed,
                lobby=room.lobby,
                has_password=room.has_password,
                e2ee=room.e2ee,
            )
        )


class RoomList(BaseModel):
    rooms: list[RoomListItem]


def _url(slug: str) -> str:
    return f"/r/{slug}"


def _rooms(request: Request) -> RoomService:
    service: RoomService = services(request).rooms
    return service


def _guest_links(request: Request) -> GuestLinks:
    service: GuestLinks = services(request).guest_links
    return service


@router.get("")
async def list_rooms(request: Request) -> RoomList:
    """The rooms the caller owns, co-owns, moderates or is a member of (direct conversations
    among them), each with the caller's role, newest first: at most the newest 500."""
    user = (await require_member(request)).user
    return RoomList(rooms=[RoomListItem.of(m) for m in await _rooms(request).rooms_of(user)])


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
    # A new name (the rules of creating a room); the link name stays.
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    guests_allowed: bool | None = None
    lobby: bool | None = None
    # A new room password; "" removes it.
    password: str | None = Field(default=None, max_length=256)
    # End-to-end encryption of the room's meetings, from the next meeting on. Strict: switching
    # it off takes a JSON `false`, never "0", "no" or "off".
    e2ee: bool | None = Field(default=None, strict=True)
    # Days the chat keeps messages and attachments (a purge deletes older ones); 0: for ever.
    retention_days: int | None = Field(default=None, ge=0, le=3650, strict=True)


class RoomSettingsOut(BaseModel):
    slug: str
    name: str
    guests_allowed: bool
    lobby: bool
    has_password: bool
    e2ee: bool
    retention_days: int  # 0: for ever

    @classmethod
    def of(cls, room: Room) -> RoomSettingsOut:
        return cls(
            slug=room.slug,
            name=room.name,
            guests_allowed=room.guests_allowed,
            lobby=room.lobby,
            has_password=room.has_password,
            e2ee=room.e2ee,
            retention_days=room.retention_days or 0,
        )


class RoleOut(BaseModel):
    username: str
    display_name: str
    role: RoomRole
    since: int  # unix time: a member of the room since then (the owner: since it was created)

    @classmethod
    def of(cls, person: RoomPerson) -> RoleOut:
        return cls.model_validate(dataclasses.asdict(person))


class RoomSettingsWithRoles(RoomSettingsOut):
    roles: list[RoleOut]  # the owner first, then by display name


class RoleIn(BaseModel):
    role: Literal["co_owner", "moderator", "member"]


@router.get("/{slug}/settings")
async def room_settings(slug: str, request: Request) -> RoomSettingsWithRoles:
    """The settings and who has a role in the room (its members), for its owners, co-owners
    and administrators."""
    user = (await require_member(request)).user
    room, people = await _rooms(request).people(slug, user)
    return RoomSettingsWithRoles(
        **RoomSettingsOut.of(room).model_dump(), roles=[RoleOut.of(p) for p in people]
    )


@router.patch("/{slug}")
async def change_room(slug: str, body: RoomSettings, request: Request) -> RoomSettingsOut:
    """Owners, co-owners and administrators rename the room, change who may enter and how,
    whether the room's meetings are end-to-end encrypted, and how long its chat keeps
    messages."""
    signed_in = await require_member(request)
    room = await _rooms(request).update(
        slug,
        signed_in.user,
        name=body.name,
        guests_allowed=body.guests_allowed,
        lobby=body.lobby,
        password=body.password,
        e2ee=body.e2ee,
        retention_days=body.retention_days,
    )
    return RoomSettingsOut.of(room)


async def _role_change(request: Request, slug: str, username: str) -> tuple[User, User]:
    """The caller and the member whose room role is to change. Whether the caller may change the
    room's roles is checked before the name is looked up, so that a refusal is the same whether
    or not the name exists: nobody finds out user names by asking. A direct conversation's
    members never change (`direct_room`), whoever asks about whomever."""
    user = (await require_member(request)).user
    rooms = _rooms(request)
    room = await rooms.get(slug)
    rooms.require_roles_changeable(room)
    await rooms.require_manager(room, user)
    return user, await accounts(request).user_named(username)


@router.put("/{slug}/roles/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def give_role(slug: str, username: str, body: RoleIn, request: Request) -> None:
    """A room role: co_owner, moderator or member (each makes a member of the room, from now
    on)."""
    user, member = await _role_change(request, slug, username)
    await _rooms(request).set_role(slug, user, member, body.role)


@router.delete("/{slug}/roles/{username}", status_code=status.HTTP_204_NO_CONTENT)
async def take_role(slug: str, username: str, request: Request) -> None:
    """No role, and no longer a member of the room."""
    user, member = await _role_change(request, slug, username)
    await _rooms(request).set_role(slug, user, member, None)


class GuestLinkIn(BaseModel):
    valid_hours: float = Field(default=24 * 7, gt=0, le=MAX_HOURS)


class GuestLinkOut(BaseModel):
    id: str
    url: str
    expires_at: int  # unix time
    created_at: int  # unix time

    @classmethod
    def of(cls, slug: str, link: GuestLink) -> GuestLinkOut:
        return cls(
            id=link.id,
            url=f"{_url(slug)}?{urlencode({'invite': link.token})}",
            expires_at=link.expires_at,
            created_at=link.created_at,
        )


class GuestLinkListItem(GuestLinkOut):
    created_by: str | None  # the maker's display name; null once the account is gone


class GuestLinkList(BaseModel):
    links: list[GuestLinkListItem]


@router.post("/{slug}/guest-links", status_code=status.HTTP_201_CREATED)
async def create_guest_link(slug: str, body: GuestLinkIn, request: Request) -> GuestLinkOut:
    """A link that lets guests into a members-only room until it expires or is revoked."""
    user = (await require_member(request)).user
    link = await _guest_links(request).create(slug, user, body.valid_hours)
    return GuestLinkOut.of(slug, link)


@router.get("/{slug}/guest-links")
async def list_guest_links(slug: str, request: Request) -> GuestLinkList:
    """The room's unexpired guest links, newest first (at most the newest 500)."""
    user = (await require_member(request)).user
    links = await _guest_links(request).links(slug, user)
    return GuestLinkList(
        links=[
            GuestLinkListItem(
                **GuestLinkOut.of(slug, link).model_dump(), created_by=link.created_by
            )
            for link in links
        ]
    )


@router.delete("/{slug}/guest-links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_guest_link(slug: str, link_id: str, request: Request) -> None:
    """From now on the link lets nobody in; whoever is in the meeting already stays."""
    user = (await require_member(request)).user
    await _guest_links(request).revoke(slug, user, link_id)


@direct_router.post("/{username}")
async def direct_conversation(username: str, request: Request) -> RoomOut:
    """The room of exactly the caller and ``username``, made on first use; the same room
    whoever of the two asks. An unknown name is `not_found`, as for the room roles: any member
    may find out user names this way, as they may by making a room and giving roles in it."""
    user = (await require_member(request)).user
    other = await accounts(request).user_named(username)
    return RoomOut.of(await _rooms(request).direct(user, other))
