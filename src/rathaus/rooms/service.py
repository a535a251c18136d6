"""The rules for rooms: names, link names, ad-hoc creation, access and encryption settings,
room roles and members, and direct conversations. Every change of who may enter, and how, goes
to the audit log."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import audit
from rathaus.accounts.passwords import hash_password, verify_password
from rathaus.accounts.service import User
from rathaus.db.models import RoomRow
from rathaus.errors import BadMessage, ClientError, Conflict, ErrorCode, UnknownRoom
from rathaus.rooms import store
from rathaus.rooms.slug import is_valid_slug, slugify

MAX_NAME = 200
MAX_ROOM_PASSWORD = 256
MAX_RETENTION_DAYS = 3650
# Room roles a member of the installation can be given; the creator is the owner. Each makes
# its holder a member of the room (a co-owner and a moderator are members too).
ROOM_ROLES = ("co_owner", "moderator", "member")
# The most rooms one list of "my rooms" holds (the newest); more is not a list one reads.
MAX_LISTED_ROOMS = 500


class NotAllowed(ClientError):
    code = ErrorCode.FORBIDDEN
    status = 403


class DirectRoom(ClientError):
    """A direct conversation is of exactly two members: nobody joins, leaves or moderates it."""

    code = ErrorCode.DIRECT_ROOM


@dataclass(frozen=True)
class Room:
    slug: str
    name: str
    owner_id: int | None = None
    guests_allowed: bool = True
    lobby: bool = False
    has_password: bool = False
    id: int = 0
    # Meetings here are end-to-end encrypted if the server requires it (`meeting.e2ee_required`).
    e2ee: bool = True
    kind: str = "room"  # or "direct": the conversation of exactly two members
    retention_days: int | None = None  # days the chat keeps messages; None: for ever

    @classmethod
    def of(cls, row: RoomRow) -> Room:
        return cls(
            slug=row.slug,
            name=row.name,
            owner_id=row.owner_id,
            guests_allowed=row.guests_allowed,
            lobby=row.lobby,
            has_password=row.password_hash is not None,
            id=row.id,
            e2ee=row.e2ee,
            kind=row.kind,
            retention_days=row.chat_retention_days,
        )


@dataclass(frozen=True)
class MyRoom:
    """A room in the list of those a member owns or has a room role in."""

    room: Room
    role: str  # owner, co_owner, moderator or member
    created_at: int  # unix time


@dataclass(frozen=True)
class RoomPerson:
    """Someone with a role in a room: its owner, a co-owner, a moderator or a member."""

    username: str
    display_name: str
    role: str
    since: int  # unix time: a member of the room since then


def _unix(value: datetime) -> int:
    return int(store.utc(value).timestamp())


def direct_pair(a: User, b: User) -> str:
    """The key of the direct conversation of two members, the same whoever starts it."""
    low, high = sorted((a.id, b.id))
    return f"{low}:{high}"


def clean_room_name(name: str) -> str:
    """A room's name as kept: white space folded, 1 to `MAX_NAME` printable characters."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise BadMessage(f"a room name has 1 to {MAX_NAME} printable characters")
    return name


async def _no_accounts() -> bool:
    return False


def audit_party(user: User, capacity: str) -> audit.AuditParty:
    """Who, for the audit log: the account, the capacity in which it acts or is acted on, and
    its display name apart from both."""
    return audit.AuditParty(user.display_name, audit.PartyRole(capacity), user.id)


def _switch(setting: str, old: bool, new: bool | None) -> str | None:
    """The audit action for a switch that really changes (``room_lobby_on``), else None."""
    if new is None or new == old:
        return None
    return f"room_{setting}_{'on' if new else 'off'}"


class RoomService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        adhoc: bool | None,
        accounts_configured: Callable[[], Awaitable[bool]] = _no_accounts,
    ) -> None:
        self._sessions = sessions
        self._adhoc = adhoc
        self._accounts_configured = accounts_configured
        # Told after a room's members changed (the chat brings the room's MLS group in line).
        self.members_changed: list[Callable[[Room], Awaitable[None]]] = []

    async def adhoc_allowed(self) -> bool:
        """Ad-hoc rooms by link: as configured, or by default only without any accounts."""
        if self._adhoc is not None:
            return self._adhoc
        return not await self._accounts_configured()

    async def create(
        self,
        name: str,
        slug: str | None = None,
        owner_id: int | None = None,
        *,
        by: User | None = None,
    ) -> Room:
        """A new room; made ``by`` a signed-in member, it is in the audit log."""
        name = clean_room_name(name)
        slug = slug or slugify(name)
        if not is_valid_slug(slug):
            raise BadMessage("a link name has 1 to 64 characters: a-z, 0-9 and inner hyphens")
        async with self._sessions.begin() as session:
            room = Room.of(await store.insert_room(session, slug, name, owner_id))
            if by is not None:
                capacity = "owner" if by.id == owner_id else by.role
                audit.add(session, slug, audit_party(by, capacity), "room_created")
            return room

    async def get(self, slug: str) -> Room:
        if not is_valid_slug(slug):
            raise UnknownRoom("no such room")
        async with self._sessions() as session:
            row = await store.get_room(session, slug)
        if row is None:
            raise UnknownRoom("no such room")
        return Room.of(row)

    async def open(self, slug: str) -> Room:
        """The room behind a meeting link; creates it when ad-hoc rooms are allowed."""
        try:
            return await self.get(slug)
        except UnknownRoom:
            if not is_valid_slug(slug) or not await self.adhoc_allowed():
                raise
        try:
            async with self._sessions.begin() as session:
                return Room.of(await store.insert_room(session, slug, slug))
        except Conflict:
            # Another request created it between our read and our insert. Our insert failed only
            # once that transaction had committed (PostgreSQL's unique index and SQLite's write
            # lock make it wait), so a fresh read, in a new transaction, finds the room.
            return await self.get(slug)

    # --- roles and settings ----------------------------------------------------------------------

    async def role_of(self, room: Room, user: User | None) -> str | None:
        """owner, co_owner, moderator or member of the room, or None."""
        if user is None:
            return None
        if room.owner_id == user.id:
            return "owner"
        async with self._sessions() as session:
            return await store.role_of(session, room.id, user.id)

    async def member_since(self, room: Room, user: User) -> datetime | None:
        """Since when ``user`` is a member of ``room`` (any role, the owner too), or None."""
        async with self._sessions() as session:
            return await store.member_since(session, room.id, user.id)

    async def require_manager(self, room: Room, user: User) -> str:
        """The capacity in which ``user`` may change the room: owner, co_owner or
        administrator."""
        role = await self.role_of(room, user)
        if role in ("owner", "co_owner"):
            return role
        if user.is_admin:
            return "administrator"
        raise NotAllowed("only the room's owners may change it")

    async def rooms_of(self, user: User) -> list[MyRoom]:
        """The rooms ``user`` owns, co-owns, moderates or is a member of, newest first: at
        most `MAX_LISTED_ROOMS`."""
        async with self._sessions() as session:
            found = await store.rooms_of(session, user.id, MAX_LISTED_ROOMS)
        return [MyRoom(Room.of(row), role, _unix(row.created_at)) for row, role in found]

    async def people(self, slug: str, user: User) -> tuple[Room, list[RoomPerson]]:
        """The room and who has a role in it (the owner first, then by display name), for
        those who may change it: whoever may not learns nothing of the people."""
        room = await self.get(slug)
        await self.require_manager(room, user)
        async with self._sessions() as session:
            row = await store.get_room(session, room.slug)
            found = await store.people(session, row) if row is not None else []
        people = [
            RoomPerson(u.username, u.display_name, role, _unix(since)) for u, role, since in found
        ]
        people.sort(key=lambda p: (p.role != "owner", p.display_name.casefold(), p.username))
        return room, people

    async def update(
        self,
        slug: str,
        user: User,
        *,
        name: str | None = None,
        guests_allowed: bool | None = None,
        lobby: bool | None = None,
        password: str | None = None,
        e2ee: bool | None = None,
        retention_days: int | None = None,
    ) -> Room:
        """Change the name or access settings; ``password=""`` removes the room password.
        ``e2ee`` applies from the room's next meeting on (see `Meeting.e2ee_required`). The link
        name never changes. Each setting that really changes is an entry of its own in the audit
        log."""
        room = await self.get(slug)
        actor = audit_party(user, await self.require_manager(room, user))
        name = clean_room_name(name) if name is not None else None
        if password is not None and len(password) > MAX_ROOM_PASSWORD:
            raise BadMessage(f"a room password has at most {MAX_ROOM_PASSWORD} characters")
        # Hashing and checking take a while: done before the transaction, which then compares
        # hashes only.
        old_hash = await self._hash_if_same(room, password)
        new_hash = await hash_password(password) if password and old_hash is None else None
        async with self._sessions.begin() as session:
            row = await store.get_room(session, slug)
            if row is None:
                raise UnknownRoom("no such room")
            if name is not None and name != row.name:
                row.name = name
                # The detail is the name as clean_room_name let it through: printable, folded.
                audit.add(session, slug, actor, "room_renamed", detail=name)
            actions = [
                _switch("guests", row.guests_allowed, guests_allowed),
                _switch("lobby", row.lobby, lobby),
                _switch("e2ee", row.e2ee, e2ee),
            ]
            if guests_allowed is not None:
                row.guests_allowed = guests_allowed
            if lobby is not None:
                row.lobby = lobby
            if e2ee is not None:
                row.e2ee = e2ee
            kept = retention_days or None
            if retention_days is not None and kept != row.chat_retention_days:
                row.chat_retention_days = kept
                detail = str(kept) if kept else "forever"
                audit.add(session, slug, actor, "room_retention_set", detail=detail)
            if password == "" and row.password_hash is not None:
                row.password_hash = None
                actions.append("room_password_cleared")
            elif password and (old_hash is None or row.password_hash != old_hash):
                # (hashed here only if another request changed the password meanwhile)
                row.password_hash = new_hash or await hash_password(password)
                actions.append("room_password_set")
            for action in actions:
                if action is not None:
                    audit.add(session, slug, actor, action)
            return Room.of(row)

    async def _hash_if_same(self, room: Room, password: str | None) -> str | None:
        """The room's password hash if ``password`` is the room's password already."""
        if not password or not room.has_password:
            return None
        async with self._sessions() as session:
            row = await store.get_room(session, room.slug)
        if row is not None and await verify_password(row.password_hash, password):
            return row.password_hash
        return None

    @staticmethod
    def require_roles_changeable(room: Room) -> None:
        """Refuses any change of roles in a direct conversation: it keeps its two members."""
        if room.kind == "direct":
            raise DirectRoom("a direct conversation keeps its two members; start a room for more")

    async def set_role(self, slug: str, user: User, member: User, role: str | None) -> None:
        """Give ``member`` a room role, or with ``None`` take it; audited when it changes. A new
        member is one from now on (`RoomPerson.since`); one whose role changes stays one since
        then."""
        if role is not None and role not in ROOM_ROLES:
            raise BadMessage(f"a room role is one of {', '.join(ROOM_ROLES)}")
        room = await self.get(slug)
        self.require_roles_changeable(room)
        actor = audit_party(user, await self.require_manager(room, user))
        if member.id == room.owner_id:
            raise BadMessage("the owner's role cannot be changed")
        async with self._sessions.begin() as session:
            old = await store.role_of(session, room.id, member.id)
            if old == role:
                return
            await store.set_role(session, room.id, member.id, role, datetime.now(UTC))
            if old is not None:
                audit.add(session, slug, actor, "room_role_revoked", audit_party(member, old))
            if role is not None:
                audit.add(session, slug, actor, "room_role_granted", audit_party(member, role))
        if (old is None) != (role is None):  # a member came or went
            for listener in self.members_changed:
                await listener(room)

    # --- direct conversations --------------------------------------------------------------------

    async def direct(self, user: User, other: User) -> Room:
        """The direct conversation of ``user`` and ``other``, made on first use: both its
        members from then on, a link name nobody guesses, members only, no lobby, no owner."""
        if user.id == other.id:
            raise DirectRoom("a direct conversation is with someone else")
        pair = direct_pair(user, other)
        if (found := await self._direct(pair)) is not None:
            return found
        name = clean_room_name(f"{user.display_name}, {other.display_name}"[:MAX_NAME])
        slug = f"dm-{secrets.token_hex(16)}"
        now = datetime.now(UTC)
        try:
            async with self._sessions.begin() as session:
                row = await store.insert_room(session, slug, name, direct_pair=pair)
                actor = audit_party(user, user.role)
                audit.add(session, slug, actor, "room_created")
                for member in (user, other):
                    await store.set_role(session, row.id, member.id, "member", now)
                    audit.add(
                        session, slug, actor, "room_role_granted", audit_party(member, "member")
                    )
                return Room.of(row)
        except Conflict:
            # The other started it at the same moment (see `open`): theirs is the room.
            if (found := await self._direct(pair)) is None:
                raise
            return found

    async def _direct(self, pair: str) -> Room | None:
        async with self._sessions() as session:
            row = await store.direct_room(session, pair)
        return Room.of(row) if row is not None else None

    async def check_password(self, room: Room, password: str | None) -> bool:
        if not room.has_password:
            return True
        async with self._sessions() as session:
            row = await store.get_room(session, room.slug)
        return (
            row is not None
            and bool(password)
            and await verify_password(row.password_hash, password or "")
        )
