"""The door of a meeting: who is knocking (their sign-in, their role in the room, the room
password they typed), established by the server before the meeting's rules decide."""

from __future__ import annotations

from fastapi import WebSocket

from rathaus.accounts.api import SESSION_COOKIE
from rathaus.accounts.service import AccountService, User
from rathaus.accounts.throttle import Throttle
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.meeting import Meeting, Refused
from rathaus.rooms.service import Room, RoomService

GUEST_COOKIE = "rathaus_guest"
MODERATING_ROLES = ("owner", "co_owner", "moderator")


class Door:
    def __init__(self, rooms: RoomService, accounts: AccountService) -> None:
        self._rooms = rooms
        self._accounts = accounts
        # Wrong room passwords: strict per address, generous per room (so that nobody can lock
        # everyone else out of a room by guessing on purpose).
        self._by_address = Throttle(
            "room password (address)", max_failures=5, window=300, lockout=300
        )
        self._by_room = Throttle("room password (room)", max_failures=50, window=300, lockout=60)

    async def user(self, websocket: WebSocket) -> User | None:
        token = websocket.cookies.get(SESSION_COOKIE, "")
        signed_in = await self._accounts.session(token) if token else None
        return signed_in.user if signed_in else None

    async def role(self, room: Room, user: User | None, meeting: Meeting) -> Role:
        if user is not None and (
            user.is_admin or await self._rooms.role_of(room, user) in MODERATING_ROLES
        ):
            return Role.MODERATOR
        if room.owner_id is None and not meeting.participants:
            return Role.MODERATOR  # a room nobody owns: the first one in moderates (as in Jitsi)
        return Role.MEMBER if user is not None else Role.GUEST

    async def entrant(
        self, websocket: WebSocket, room: Room, meeting: Meeting, message: p.Join
    ) -> Entrant:
        user = await self.user(websocket)
        role = await self.role(room, user, meeting)
        password_ok = None
        if room.has_password and role is not Role.MODERATOR and message.password is not None:
            address = websocket.client.host if websocket.client else ""
            keys = (f"{room.slug}|{address}",)
            if self._by_address.locked(*keys) or self._by_room.locked(room.slug):
                raise Refused("too many wrong passwords; try again in a few minutes", code="locked")
            password_ok = await self._rooms.check_password(room, message.password)
            if password_ok:
                self._by_address.succeeded(*keys)
            else:
                self._by_address.failed(*keys)
                self._by_room.failed(room.slug)
        return Entrant(
            role=role,
            user_id=user.id if user else None,
            guest_key=websocket.cookies.get(GUEST_COOKIE),
            password_ok=password_ok,
        )
