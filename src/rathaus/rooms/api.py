"""HTTP API for rooms."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from rathaus.accounts.api import accounts, require_member
from rathaus.rooms.service import MAX_NAME, Room, RoomService

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
    service: RoomService = request.app.state.rooms
    return service


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_room(body: CreateRoom, request: Request) -> RoomOut:
    """Members create rooms and own them; without accounts (embedded default) anyone may."""
    owner_id = None
    if await accounts(request).accounts_configured():
        owner_id = (await require_member(request)).user.id
    return RoomOut.of(await _rooms(request).create(body.name, body.slug, owner_id))


@router.get("/{slug}")
async def get_room(slug: str, request: Request) -> RoomOut:
    return RoomOut.of(await _rooms(request).get(slug))
