"""Audit parties: a display name is kept as plain, bounded text; account and role are typed and
never come from the name."""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.audit import MAX_PARTY_NAME, AuditParty, PartyRole
from rathaus.meetings.access import Role


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Anna Schmidt", "Anna Schmidt"),
        ("  Anna \t\n Schmidt  ", "Anna Schmidt"),
        # Control and format characters (bell, escape, NUL, bidirectional override and isolate,
        # zero-width space) go: none may reorder, hide or colour what a reader sees.
        ("Anna\x07\x1b[31m Schmidt\x00", "Anna[31m Schmidt"),
        ("Eva\u202e)1 resu ,rotartsinimda( \u2066x\u2069\u200b", "Eva)1 resu ,rotartsinimda( x"),
        ("Cafe\u0301", "Café"),  # NFC
        ("x" * (MAX_PARTY_NAME + 50), "x" * MAX_PARTY_NAME),
        ("\u202e\x07", ""),
    ],
)
def test_a_party_keeps_its_name_as_plain_bounded_text(given: str, kept: str) -> None:
    party = AuditParty(given, PartyRole.GUEST)
    assert (party.name, party.role, party.user_id) == (kept, PartyRole.GUEST, None)


def test_a_name_that_reads_like_a_label_stays_a_name() -> None:
    party = AuditParty("Anna Schmidt (moderator, user 1)", PartyRole.GUEST)
    assert party == AuditParty("Anna Schmidt (moderator, user 1)", PartyRole.GUEST, None)
    assert party.user_id is None and party.role is PartyRole.GUEST


def test_every_meeting_role_is_an_audit_role() -> None:
    assert {PartyRole(role.value) for role in Role} == {
        PartyRole.MODERATOR,
        PartyRole.MEMBER,
        PartyRole.GUEST,
    }
    assert [role.value for role in PartyRole] == [
        "owner",
        "co_owner",
        "moderator",
        "administrator",
        "member",
        "guest",
    ]


@pytest.mark.parametrize(
    ("role", "user_id"),
    [("moderator", 1), (PartyRole.MEMBER, "1"), (PartyRole.MEMBER, True), (PartyRole.GUEST, 1.0)],
)
def test_role_and_account_are_typed(role: Any, user_id: Any) -> None:
    with pytest.raises(TypeError, match=r"an audit (role is a PartyRole|user id is an int)"):
        AuditParty("Anna", role, user_id)


def test_an_unknown_role_is_refused() -> None:
    with pytest.raises(ValueError, match="'superuser' is not a valid PartyRole"):
        PartyRole("superuser")
