"""Guest links: valid until the second they expire and not one second longer, for their room
only, refused when tampered with or signed for another purpose; and an invited guest still
meets the lobby and the password at the door (access.decide_entry)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.errors import ErrorCode
from rathaus.meetings.access import Decision, Outcome, Role, RoomAccess, decide_entry
from rathaus.rooms import invites as invites_module
from rathaus.rooms.invites import InviteCheck, Invites
from rathaus.secrets_store import Signer
from tests.support.devices import b64url

KEY = b"k" * 32
SIGNER = Signer(KEY, "guest-link")
INVITES = Invites(SIGNER)
NOW = 1_700_000_000.0  # a unix time
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


class Clock:
    """Stands in for the ``time`` module: ``time()`` is whatever ``now`` is set to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_a_link_says_when_it_expires() -> None:
    assert INVITES.create("council", hours=2, now=NOW)[1] == NOW + 7200
    assert INVITES.create("council", hours=0.5, now=NOW)[1] == NOW + 1800
    assert INVITES.create("council", hours=1, now=1000.9)[1] == 4600  # whole seconds


def test_a_link_is_valid_until_its_expiry_and_expired_from_then_on() -> None:
    token, expires = INVITES.create("council", hours=24, now=NOW)
    assert INVITES.check(token, "council", now=NOW) is InviteCheck.VALID
    assert INVITES.check(token, "council", now=expires - 1) is InviteCheck.VALID
    assert INVITES.check(token, "council", now=expires - 0.001) is InviteCheck.VALID
    assert INVITES.check(token, "council", now=expires) is InviteCheck.EXPIRED
    assert INVITES.check(token, "council", now=expires + 0.001) is InviteCheck.EXPIRED
    assert INVITES.check(token, "council", now=expires + 90 * 86400) is InviteCheck.EXPIRED


def test_a_link_made_already_expired_is_expired() -> None:
    token, _ = INVITES.create("council", hours=0, now=NOW)
    assert INVITES.check(token, "council", now=NOW) is InviteCheck.EXPIRED


def test_without_now_the_wall_clock_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(NOW)
    monkeypatch.setattr(invites_module, "time", clock)
    token, expires = INVITES.create("council", hours=1)
    assert expires == NOW + 3600
    assert INVITES.check(token, "council") is InviteCheck.VALID
    assert INVITES.check(token, "council", now=expires) is InviteCheck.EXPIRED  # given wins
    clock.now = expires
    assert INVITES.check(token, "council") is InviteCheck.EXPIRED
    assert INVITES.check(token, "council", now=NOW) is InviteCheck.VALID
    # and a time given to create wins over the clock too
    assert INVITES.create("council", hours=1, now=0)[1] == 3600


@pytest.mark.parametrize("room", ["council-2", "counci", "Council", "council ", "other", ""])
def test_a_link_is_for_its_own_room_only(room: str) -> None:
    token, _ = INVITES.create("council", hours=1, now=NOW)
    assert INVITES.check(token, room, now=NOW) is InviteCheck.INVALID


def flipped(token: str, i: int) -> str:
    """The token with its i-th character changed in the top bit of the six it stands for (a
    bit every base64 character carries, even the last one of the MAC)."""
    char = token[i]
    other = B64URL[B64URL.index(char) ^ 32] if char in B64URL else "A"
    return token[:i] + other + token[i + 1 :]


def test_every_changed_character_makes_a_link_invalid() -> None:
    token, _ = INVITES.create("council", hours=1, now=NOW)
    for i in range(len(token)):
        tampered = flipped(token, i)
        assert tampered != token
        assert INVITES.check(tampered, "council", now=NOW) is InviteCheck.INVALID, i


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1],
        lambda token: token + "A",
        lambda token: token.partition(".")[0],
        lambda token: token.partition(".")[2],
        lambda token: token.replace(".", ""),
        lambda token: "." + token.partition(".")[2],
        lambda token: token.partition(".")[0] + ".",
        lambda token: "",
    ],
)
def test_cut_or_extended_links_are_invalid(tamper: Callable[[str], str]) -> None:
    token, _ = INVITES.create("council", hours=1, now=NOW)
    assert INVITES.check(tamper(token), "council", now=NOW) is InviteCheck.INVALID


def test_a_link_with_a_later_expiry_needs_the_key() -> None:
    token, expires = INVITES.create("council", hours=1, now=NOW)
    _, mac = token.split(".")
    data = b64url(f"council\n{expires + 86400}".encode())
    assert INVITES.check(f"{data}.{mac}", "council", now=NOW) is InviteCheck.INVALID


@pytest.mark.parametrize(
    "signer",
    [Signer(KEY, "oidc-pending"), Signer(b"l" * 32, "guest-link"), Signer(KEY, "guest-link ")],
)
def test_a_link_signed_with_another_key_or_for_another_purpose_is_invalid(signer: Signer) -> None:
    token, _ = Invites(signer).create("council", hours=1, now=NOW)
    assert INVITES.check(token, "council", now=NOW) is InviteCheck.INVALID


@pytest.mark.parametrize(
    "value",
    ["council", "council\n", "council\nsoon", "council\n-5", "council\n1e12", "\n99999999999"],
)
def test_a_signed_value_without_a_room_and_a_whole_expiry_is_invalid(value: str) -> None:
    assert INVITES.check(SIGNER.sign(value), "council", now=NOW) is InviteCheck.INVALID


def test_what_the_signer_signs_is_room_and_expiry() -> None:
    token, expires = INVITES.create("council", hours=1, now=NOW)
    assert SIGNER.unsign(token) == f"council\n{expires}"
    assert INVITES.check(SIGNER.sign(f"council\n{expires}"), "council", now=NOW) is (
        InviteCheck.VALID
    )


# --- at the door: the link opens a members-only room to a guest, and nothing else -------------


def room(*, lobby: bool = False, password: bool = False, locked: bool = False) -> RoomAccess:
    """A room for members only."""
    return RoomAccess(
        guests_allowed=False,
        lobby=lobby,
        has_password=password,
        locked=locked,
        moderator_present=True,
    )


def door(
    link: str | None,
    access: RoomAccess,
    password_ok: bool | None = None,
    barred: bool = False,
) -> Decision:
    """The door's decision for a guest who brings ``link`` (or none) to room "council"."""
    invited = link is not None and INVITES.check(link, "council", now=NOW) is InviteCheck.VALID
    return decide_entry(Role.GUEST, access, password_ok=password_ok, barred=barred, invited=invited)


LINK = INVITES.create("council", hours=1, now=NOW)[0]
EXPIRED = INVITES.create("council", hours=1, now=NOW - 7200)[0]
OTHER_ROOM = INVITES.create("other", hours=1, now=NOW)[0]


def test_a_valid_link_lets_a_guest_into_a_members_only_room() -> None:
    assert door(LINK, room()) == Decision(Outcome.ADMIT)


@pytest.mark.parametrize("link", [None, EXPIRED, OTHER_ROOM, LINK[:-1], "nonsense"])
def test_without_a_valid_link_a_guest_stays_out(link: str | None) -> None:
    assert door(link, room()) == Decision(Outcome.REFUSE, ErrorCode.GUESTS_NOT_ALLOWED)


def test_an_invited_guest_still_waits_in_the_lobby() -> None:
    assert door(LINK, room(lobby=True)) == Decision(Outcome.WAIT)


def test_an_invited_guest_still_needs_the_password() -> None:
    protected = room(password=True)
    assert door(LINK, protected) == Decision(Outcome.REFUSE, ErrorCode.PASSWORD_REQUIRED)
    assert door(LINK, protected, password_ok=False) == Decision(
        Outcome.REFUSE, ErrorCode.WRONG_PASSWORD
    )
    assert door(LINK, protected, password_ok=True) == Decision(Outcome.ADMIT)


def test_an_invited_guest_with_the_password_still_waits_in_the_lobby() -> None:
    both = room(lobby=True, password=True)
    assert door(LINK, both) == Decision(Outcome.REFUSE, ErrorCode.PASSWORD_REQUIRED)
    assert door(LINK, both, password_ok=True) == Decision(Outcome.WAIT)


def test_a_link_opens_neither_a_locked_meeting_nor_a_bar() -> None:
    assert door(LINK, room(locked=True), password_ok=True) == Decision(
        Outcome.REFUSE, ErrorCode.MEETING_LOCKED
    )
    assert door(LINK, room(), barred=True) == Decision(Outcome.REFUSE, ErrorCode.BARRED)
