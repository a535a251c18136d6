"""The door of a meeting: who is knocking (their sign-in, their role in the room, the room
password they typed), established by the server before the meeting's rules decide."""

from __future__ import annotations

from fastapi import WebSocket

from rathaus.accounts.api import SESSION_COOKIE
from rathaus.accounts.service import AccountService, User
from rathaus.accounts.throttle import Throttle
from rathaus.errors import RateLimited
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.meeting import Meeting, Refused
from rathaus.meetings.ratelimit import TokenBucket
from rathaus.rooms.invites import InviteCheck, Invites
from rathaus.rooms.service import Room, RoomService

GUEST_COOKIE = "rathaus_guest"
MAX_TRACKED_ADDRESSES = 100_000
MODERATING_ROLES = ("owner", "co_owner", "moderator")


class Door:
    def __init__(
        self,
        rooms: RoomService,
        accounts: AccountService,
        invites: Invites,
        *,
        joins_per_minute: int = 30,
    ) -> None:
        self._rooms = rooms
        self._joins_per_minute = joins_per_minute
        self._accounts = accounts
        self._invites = invites
        # Join attempts per address: knocking again and again gets slowed down.
        self._joins: dict[str, TokenBucket] = {}
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
        address = websocket.client.host if websocket.client else ""
        self._count_join(address)
        user = await self.user(websocket)
        role = await self.role(room, user, meeting)
        invited = False
        if role is Role.GUEST and not room.guests_allowed and message.invite:
            check = self._invites.check(message.invite, room.slug)
            if check is InviteCheck.EXPIRED:
                raise Refused(
                    "this guest link has expired; ask for a new one", code="guest_link_expired"
                )
            invited = check is InviteCheck.VALID
        password_ok = None
        if room.has_password and role is not Role.MODERATOR and message.password is not None:
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
            invited=invited,
        )

    def _count_join(self, address: str) -> None:
        if len(self._joins) > MAX_TRACKED_ADDRESSES:
            self._joins.clear()
        per_minute = self._joins_per_minute
        bucket = self._joins.setdefault(address, TokenBucket(per_minute / 60, per_minute))
        if not bucket.take():
            raise RateLimited("too many attempts to join; wait a minute")
