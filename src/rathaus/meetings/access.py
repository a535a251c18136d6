"""Who may enter a meeting, and who may do what in it: pure rules, one table.

A table-driven test walks every role, action and room setting through these functions.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rathaus.errors import ErrorCode


class Role(enum.Enum):
    MODERATOR = "moderator"  # room owner, co-owner, moderator, administrator, or promoted
    MEMBER = "member"  # signed-in staff
    GUEST = "guest"  # no account: a display name only


@dataclass(frozen=True)
class RoomAccess:
    """What the room's settings and the live meeting say about entering."""

    guests_allowed: bool
    lobby: bool
    has_password: bool
    locked: bool
    moderator_present: bool


class Outcome(enum.Enum):
    ADMIT = "admit"
    WAIT = "wait"  # in the lobby, until a moderator admits or denies
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    code: ErrorCode | None = None  # why, for REFUSE


def decide_entry(
    role: Role,
    access: RoomAccess,
    *,
    password_ok: bool | None,
    barred: bool,
    invited: bool = False,
    suspect: bool = False,
) -> Decision:
    """The rules for a `join`, in the order a person would meet them at the door.
    ``password_ok`` is None when no password was given; ``invited``: a valid guest link;
    ``suspect``: a guest from the address of a barred guest, who waits for a moderator to decide
    (rather than being refused with everyone else behind that address)."""
    if role is Role.MODERATOR:
        return Decision(Outcome.ADMIT)
    if barred:
        return Decision(Outcome.REFUSE, ErrorCode.BARRED)
    if role is Role.GUEST and not access.guests_allowed and not invited:
        return Decision(Outcome.REFUSE, ErrorCode.GUESTS_NOT_ALLOWED)
    if access.locked:
        return Decision(Outcome.REFUSE, ErrorCode.MEETING_LOCKED)
    if access.has_password and password_ok is not True:
        wrong = ErrorCode.PASSWORD_REQUIRED if password_ok is None else ErrorCode.WRONG_PASSWORD
        return Decision(Outcome.REFUSE, wrong)
    if access.lobby or suspect:
        return Decision(Outcome.WAIT)
    return Decision(Outcome.ADMIT)


def e2ee_required(server_requires: bool, room_e2ee: bool) -> bool:
    """Whether a meeting requires end-to-end encryption: only while the server requires it
    (`meeting.e2ee_required`) and the room's owners have not switched it off (room `e2ee`)."""
    return server_requires and room_e2ee


# Messages only moderators may send (docs/protocol.md, "Moderation").
MODERATOR_ACTIONS = frozenset(
    {
        "admit",
        "deny",
        "admit_all",
        "mute",
        "mute_all",
        "stop_video",
        "stop_screen",
        "remove",
        "lock",
        "end",
        "promote",
        "allow_unencrypted",
        "lower_hand",
    }
)
# What a participant still waiting in the lobby may send (never `key_envelope`: keys are for
# the admitted only).
WAITING_ACTIONS = frozenset({"ping", "leave"})


def may(role: Role, action: str, *, admitted: bool) -> bool:
    """Whether a participant in this role (and admitted or still waiting) may send ``action``."""
    if not admitted:
        return action in WAITING_ACTIONS
    if action in MODERATOR_ACTIONS:
        return role is Role.MODERATOR
    return True


@dataclass(frozen=True)
class Entrant:
    """Who is at the door: what the server established before the meeting decides."""

    role: Role = Role.GUEST
    user_id: int | None = None
    guest_key: str | None = None
    address: str | None = None  # memory only: what a bar on a guest also holds on to
    password_ok: bool | None = None
    invited: bool = False  # a guest with a valid guest link
    moderates_if_first: bool = False  # a room nobody owns, where the first one in moderates


def role_in_meeting(entrant: Entrant, moderator_present: bool) -> Role:
    """The role someone the door admitted has in the meeting: in a room nobody owns, whoever
    comes in while no moderator is present moderates (if the server allows it). Decided only
    after :func:`decide_entry` admitted them, so that it never skips the room's rules."""
    if entrant.moderates_if_first and not moderator_present:
        return Role.MODERATOR
    return entrant.role
