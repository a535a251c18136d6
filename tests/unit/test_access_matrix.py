"""The whole authorisation matrix: every role, every action, every room setting.

The expected outcome is written out independently of the implementation, as a table a person can
check; any cell where the code allows what the table refuses (or the other way round) fails.
"""

import itertools

import pytest

from rathaus.errors import ErrorCode
from rathaus.meetings.access import (
    MODERATOR_ACTIONS,
    Decision,
    Entrant,
    Outcome,
    Role,
    RoomAccess,
    decide_entry,
    e2ee_required,
    may,
    role_in_meeting,
)

ALL_ACTIONS = sorted(
    MODERATOR_ACTIONS
    | {
        "publish",
        "unpublish",
        "subscribe",
        "answer",
        "unsubscribe",
        "layer",
        "restart",
        "trickle",
        "media",
        "leave",
        "ping",
        "join",
        "key_envelope",
        "key_request",
        "key_envelopes",
        "raise_hand",
        "react",
    }
)
MODERATOR_ONLY = {
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


def expected_entry(
    role: Role,
    access: RoomAccess,
    password_ok: bool | None,
    barred: bool,
    invited: bool,
    suspect: bool,
) -> str:
    """The table, in words: moderators always enter; then bar, guests (unless invited), lock,
    password, lobby (where guests from a barred guest's address wait too)."""
    if role is Role.MODERATOR:
        return "admit"
    if barred:
        return "refuse:barred"
    if role is Role.GUEST and not access.guests_allowed and not invited:
        return "refuse:guests_not_allowed"
    if access.locked:
        return "refuse:meeting_locked"
    if access.has_password and password_ok is None:
        return "refuse:password_required"
    if access.has_password and password_ok is False:
        return "refuse:wrong_password"
    return "wait" if access.lobby or suspect else "admit"


def as_text(decision: Decision) -> str:
    if decision.outcome is Outcome.REFUSE:
        return f"refuse:{decision.code}"
    return decision.outcome.value


CASES = [
    (role, RoomAccess(guests, lobby, password, locked, present), password_ok, barred, inv, sus)
    for role, guests, lobby, password, locked, present, password_ok, barred, inv, sus in (
        itertools.product(
            Role,
            [True, False],
            [True, False],
            [True, False],
            [True, False],
            [True, False],
            [None, False, True],
            [True, False],
            [True, False],
            [True, False],
        )
    )
]


@pytest.mark.parametrize(("role", "access", "password_ok", "barred", "invited", "suspect"), CASES)
def test_entry(
    role: Role,
    access: RoomAccess,
    password_ok: bool | None,
    barred: bool,
    invited: bool,
    suspect: bool,
) -> None:
    decision = decide_entry(
        role, access, password_ok=password_ok, barred=barred, invited=invited, suspect=suspect
    )
    assert as_text(decision) == expected_entry(role, access, password_ok, barred, invited, suspect)


def test_the_matrix_is_complete() -> None:
    assert len(CASES) == 3 * 2**5 * 3 * 2**3
    assert MODERATOR_ACTIONS == MODERATOR_ONLY


@pytest.mark.parametrize(
    ("role", "action", "admitted"),
    list(itertools.product(Role, ALL_ACTIONS, [True, False])),
)
def test_actions(role: Role, action: str, admitted: bool) -> None:
    if not admitted:
        expected = action in ("ping", "leave")  # the lobby: nothing of the meeting
    elif action in MODERATOR_ONLY:
        expected = role is Role.MODERATOR
    else:
        expected = True
    assert may(role, action, admitted=admitted) is expected


# (server's `meeting.e2ee_required`, room's `e2ee`) → the meeting requires E2EE
E2EE_REQUIRED = {
    (True, True): True,
    (True, False): False,  # the room's owners switched it off for this room
    (False, True): False,  # the administrator switched it off for the whole server
    (False, False): False,
}


@pytest.mark.parametrize(("server", "room"), list(E2EE_REQUIRED))
def test_e2ee_is_required_only_where_server_and_room_both_want_it(server: bool, room: bool) -> None:
    assert e2ee_required(server, room) is E2EE_REQUIRED[(server, room)]


def test_without_a_guest_link_or_a_suspicion_nothing_is_assumed() -> None:
    """``invited`` and ``suspect`` default to False: a caller that does not know stays strict
    about guests and does not send anyone to the lobby for nothing."""
    members_only = RoomAccess(False, False, False, False, True)
    open_room = RoomAccess(True, False, False, False, True)
    assert decide_entry(Role.GUEST, members_only, password_ok=None, barred=False) == Decision(
        Outcome.REFUSE, ErrorCode.GUESTS_NOT_ALLOWED
    )
    assert decide_entry(Role.GUEST, open_room, password_ok=None, barred=False) == Decision(
        Outcome.ADMIT
    )


# (entrant's role, moderates if first, a moderator present) → the role in the meeting
ROLES = {
    (role, first, present): Role.MODERATOR if first and not present else role
    for role, first, present in itertools.product(Role, [True, False], [True, False])
}


@pytest.mark.parametrize(("role", "first", "present"), list(ROLES))
def test_role_in_meeting(role: Role, first: bool, present: bool) -> None:
    """Only in a room nobody owns, and only while no moderator is there, does the first one
    in moderate; everyone else keeps the role the door gave them."""
    entrant = Entrant(role=role, moderates_if_first=first)
    assert role_in_meeting(entrant, moderator_present=present) is ROLES[(role, first, present)]


def test_a_guest_first_in_an_owned_room_stays_a_guest() -> None:
    assert role_in_meeting(Entrant(), moderator_present=False) is Role.GUEST
