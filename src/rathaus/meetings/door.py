"""The door of a meeting: who is knocking (their sign-in, their role in the room, the room
password they typed, their guest link), established by the server before the meeting's rules
decide. The door knows nothing of WebSockets or cookies: it is given a :class:`Knock`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from rathaus.accounts.service import AccountService, User
from rathaus.accounts.throttle import Throttle
from rathaus.errors import ErrorCode, RateLimited
from rathaus.keyed_lock import KeyedLock
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.meeting import Refused
from rathaus.meetings.ratelimit import TokenBucket
from rathaus.rooms.guest_links import GuestLinks
from rathaus.rooms.invites import InviteCheck
from rathaus.rooms.service import Room, RoomService

MAX_TRACKED_ADDRESSES = 100_000
MODERATING_ROLES = ("owner", "co_owner", "moderator")


@dataclass(frozen=True)
class Knock:
    """What the server observes of someone at the door: the client's address (as the trusted
    proxies give it, keyed by ``addresses.client_key``), the sign-in session's token and the
    browser's guest key, if any."""

    address: str
    session_token: str | None = None
    guest_key: str | None = None


class Door:
    def __init__(
        self,
        rooms: RoomService,
        accounts: AccountService,
        guest_links: GuestLinks,
        *,
        joins_per_minute: int = 30,
        first_in_moderates: bool = True,
        pseudonyms: Callable[[str], str] | None = None,
    ) -> None:
        self._rooms = rooms
        self._joins_per_minute = joins_per_minute
        self._first_in_moderates = first_in_moderates
        self._accounts = accounts
        self._guest_links = guest_links
        # Join attempts per address: knocking again and again gets slowed down.
        self._joins: dict[str, TokenBucket] = {}
        # Wrong room passwords lock the guesser (their address, and their browser or account),
        # never the room: nobody can lock the others out by guessing on purpose.
        self._checking = KeyedLock()
        self._passwords = Throttle(
            "room password", max_failures=5, window=300, lockout=300, pseudonyms=pseudonyms
        )

    async def user(self, session_token: str | None) -> User | None:
        signed_in = await self._accounts.session(session_token) if session_token else None
        return signed_in.user if signed_in else None

    async def role(self, room: Room, user: User | None) -> Role:
        """The role the room gives this person; being first in a room nobody owns is decided
        by the meeting, after the room's rules have let the person in."""
        if user is not None and (
            user.is_admin or await self._rooms.role_of(room, user) in MODERATING_ROLES
        ):
            return Role.MODERATOR
        return Role.MEMBER if user is not None else Role.GUEST

    async def entrant(self, knock: Knock, room: Room, message: p.Join) -> Entrant:
        self._count_join(knock.address)
        user = await self.user(knock.session_token)
        if room.kind == "direct" and (
            user is None or await self._rooms.role_of(room, user) is None
        ):
            # Two people's conversation: its link is hard to guess, but that is no lock.
            raise Refused("this conversation is for its members only", code=ErrorCode.MEMBERS_ONLY)
        role = await self.role(room, user)
        identity = Entrant(
            role=role,
            user_id=user.id if user else None,
            guest_key=knock.guest_key,
            address=knock.address,
            moderates_if_first=room.owner_id is None and self._first_in_moderates,
        )
        if message.resume:
            return identity  # resuming: who it is, to bind the token to; no rules again
        return dataclasses.replace(
            identity,
            password_ok=await self._password(room, identity, message.password),
            invited=await self._invited(room, role, message.invite),
        )

    async def _invited(self, room: Room, role: Role, invite: str | None) -> bool:
        """Whether a guest's link opens this members-only room; only then is it looked up."""
        if role is not Role.GUEST or room.guests_allowed or not invite:
            return False
        check = await self._guest_links.check(invite, room)
        if check is InviteCheck.EXPIRED:
            raise Refused(
                "this guest link has expired; ask for a new one", code=ErrorCode.GUEST_LINK_EXPIRED
            )
        if check is InviteCheck.REVOKED:
            raise Refused(
                "this guest link has been revoked; ask for a new one",
                code=ErrorCode.GUEST_LINK_REVOKED,
            )
        return check is InviteCheck.VALID

    async def _password(self, room: Room, who: Entrant, password: str | None) -> bool | None:
        """None when no password was given (or none is needed)."""
        if not room.has_password or who.role is Role.MODERATOR or password is None:
            return None
        keys = _guesser_keys(room, who)
        # One guess at a time per guesser (KeyedLock says why).
        async with self._checking.hold(*keys):
            if self._passwords.locked(*keys):
                raise Refused(
                    "too many wrong passwords; try again in a few minutes", code=ErrorCode.LOCKED
                )
            ok = await self._rooms.check_password(room, password)
            if ok:
                self._passwords.succeeded(*keys)
            else:
                self._passwords.failed(*keys)
            return ok

    def _count_join(self, address: str) -> None:
        while len(self._joins) >= MAX_TRACKED_ADDRESSES:  # forget the oldest, not everyone
            del self._joins[next(iter(self._joins))]
        per_minute = self._joins_per_minute
        bucket = self._joins.setdefault(address, TokenBucket(per_minute / 60, per_minute))
        if not bucket.take():
            raise RateLimited("too many attempts to join; wait a minute")


def _guesser_keys(room: Room, who: Entrant) -> tuple[str, ...]:
    """Whom wrong passwords count against: the address always (a guest who clears cookies
    stays the same guesser), and the account or the browser's guest key."""
    keys = [f"{room.slug}|address|{who.address}"]
    if who.user_id is not None:
        keys.append(f"{room.slug}|user|{who.user_id}")
    elif who.guest_key:
        keys.append(f"{room.slug}|guest|{who.guest_key}")
    return tuple(keys)
