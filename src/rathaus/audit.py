"""The audit log: who did what when in which room — moderator actions in meetings and changes of
a room's access settings; never contents, passwords, tokens or addresses.

Who acted, and on whom, is an `AuditParty`: the account (if any), the role in which they acted
and their display name, each in a field of its own. A display name is only ever a name: one
that reads "Anna Schmidt (moderator, user 1)" does not make its bearer a moderator or user 1."""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.db.models import AuditRow

MAX_PARTY_NAME = 200  # the longest display name an account has (accounts/service.py)
MAX_DETAIL = 200


class PartyRole(enum.Enum):
    """The capacity in which someone acted or was acted on: a room role (owner, co_owner,
    moderator), an administrator acting as such, or a meeting role (moderator, member, guest)."""

    OWNER = "owner"
    CO_OWNER = "co_owner"
    MODERATOR = "moderator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    GUEST = "guest"


def clean_party_name(value: str) -> str:
    """A display name as the log keeps it: NFC, white space folded, control and format characters
    (bidirectional overrides among them) taken out, at most `MAX_PARTY_NAME` characters. Names
    from sign-in providers are not checked as strictly as those typed into a meeting, and the log
    keeps an entry rather than refuse it for its name."""
    text = unicodedata.normalize("NFC", value)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    return " ".join(text.split())[:MAX_PARTY_NAME]


@dataclass(frozen=True)
class AuditParty:
    """Who acted or was acted on. ``role`` is None only in entries from before migration 0005
    whose old label could not be read (see docs/operations.md); ``user_id`` is None for guests."""

    name: str
    role: PartyRole | None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if self.role is not None and not isinstance(self.role, PartyRole):
            raise TypeError(f"an audit role is a PartyRole, not {self.role!r}")
        if self.user_id is not None and (
            isinstance(self.user_id, bool) or not isinstance(self.user_id, int)
        ):
            raise TypeError(f"an audit user id is an int, not {self.user_id!r}")
        object.__setattr__(self, "name", clean_party_name(self.name))


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    room: str
    actor: AuditParty
    action: str
    target: AuditParty | None
    # What the server says about the action (a guest link's expiry, a room's new name as the
    # rules let it through), never free text.
    detail: str | None = None


def add(
    session: AsyncSession,
    room: str,
    actor: AuditParty,
    action: str,
    target: AuditParty | None = None,
    *,
    detail: str | None = None,
) -> None:
    """An entry in the caller's transaction, so that a change and its entry are stored together
    or not at all."""
    session.add(
        AuditRow(
            at=datetime.now(UTC),
            room=room,
            action=action,
            actor_user_id=actor.user_id,
            actor_role=actor.role.value if actor.role else None,
            actor_name=actor.name,
            target_user_id=target.user_id if target else None,
            target_role=target.role.value if target and target.role else None,
            target_name=target.name if target else None,
            detail=detail[:MAX_DETAIL] if detail else None,
        )
    )


def _party(name: str | None, role: str | None, user_id: int | None) -> AuditParty | None:
    if name is None:
        return None
    return AuditParty(name, PartyRole(role) if role else None, user_id)


def _entry(row: AuditRow) -> AuditEntry:
    actor = _party(row.actor_name, row.actor_role, row.actor_user_id)
    assert actor is not None
    target = _party(row.target_name, row.target_role, row.target_user_id)
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)  # SQLite keeps no zone: UTC
    return AuditEntry(at, row.room, actor, row.action, target, row.detail)


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        room: str,
        actor: AuditParty,
        action: str,
        target: AuditParty | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        async with self._sessions.begin() as session:
            add(session, room, actor, action, target, detail=detail)

    async def recent(self, limit: int = 200, room: str | None = None) -> list[AuditEntry]:
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if room is not None:
            query = query.where(AuditRow.room == room)
        async with self._sessions() as session:
            return [_entry(row) for row in (await session.execute(query)).scalars()]
