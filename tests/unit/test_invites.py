"""Guest links: valid until the second they expire and not one second longer, for their room
only, only while their record exists (not revoked), refused when tampered with, signed for another
purpose or of the old format; and an invited guest still meets the lobby and the password at the
door (access.decide_entry)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rathaus.errors import ErrorCode
from rathaus.meetings.access import Decision, Outcome, Role, RoomAccess, decide_entry
from rathaus.rooms import invites as invites_module
from rathaus.rooms.invites import LINK_ID, Invite, InviteCheck, Invites, decide, new_link_id
from rathaus.secrets_store import Signer
from tests.support.devices import b64url

KEY = b"k" * 32
SIGNER = Signer(KEY, "guest-link")
INVITES = Invites(SIGNER)
NOW = 1_700_000_000.0  # a unix time
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
ID = "Abcdefgh_jklmn-p"  # a link id as new_link_id makes them
# The records of guest_links as the door finds them: link id → its room's link name.
STORED: dict[str, str] = {}


class Clock:
    """Stands in for the ``time`` module: ``time()`` is whatever ``now`` is set to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def made(slug: str = "council", hours: float = 1, now: float | None = NOW) -> tuple[str, Invite]:
    """A new link, stored: its token and what the token says."""
    invite = INVITES.create(slug, hours, now=now)
    STORED[invite.link_id] = slug
    return INVITES.token(invite), invite


def check(
    token: str,
    slug: str = "council",
    now: float | None = NOW,
    stored: dict[str, str] = STORED,
) -> InviteCheck:
    """As the door checks a token: read it, look its id up among the records, decide."""
    invite = INVITES.read(token)
    return decide(invite, slug, stored.get(invite.link_id) if invite else None, now)


def test_a_link_says_when_it_expires() -> None:
    assert INVITES.create("council", hours=2, now=NOW).expires == NOW + 7200
    assert INVITES.create("council", hours=0.5, now=NOW).expires == NOW + 1800
    assert INVITES.create("council", hours=1, now=1000.9).expires == 4600  # whole seconds


def test_a_link_is_valid_until_its_expiry_and_expired_from_then_on() -> None:
    token, invite = made(hours=24)
    expires = invite.expires
    assert check(token, now=NOW) is InviteCheck.VALID
    assert check(token, now=expires - 1) is InviteCheck.VALID
    assert check(token, now=expires - 0.001) is InviteCheck.VALID
    assert check(token, now=expires) is InviteCheck.EXPIRED
    assert check(token, now=expires + 0.001) is InviteCheck.EXPIRED
    assert check(token, now=expires + 90 * 86400) is InviteCheck.EXPIRED


def test_a_link_made_already_expired_is_expired() -> None:
    token, _ = made(hours=0)
    assert check(token) is InviteCheck.EXPIRED


def test_without_now_the_wall_clock_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(NOW)
    monkeypatch.setattr(invites_module, "time", clock)
    token, invite = made(now=None)
    assert invite.expires == NOW + 3600
    assert check(token, now=None) is InviteCheck.VALID
    assert check(token, now=invite.expires) is InviteCheck.EXPIRED  # given wins
    clock.now = invite.expires
    assert check(token, now=None) is InviteCheck.EXPIRED
    assert check(token, now=NOW) is InviteCheck.VALID
    # and a time given to create wins over the clock too
    assert INVITES.create("council", hours=1, now=0).expires == 3600


@pytest.mark.parametrize("room", ["council-2", "counci", "Council", "council ", "other", ""])
def test_a_link_is_for_its_own_room_only(room: str) -> None:
    token, _ = made()
    assert check(token, room) is InviteCheck.INVALID


# --- the record: a link without one is revoked ------------------------------------------------


def test_a_link_whose_record_is_gone_is_revoked() -> None:
    token, invite = made()
    assert check(token) is InviteCheck.VALID
    assert check(token, stored={}) is InviteCheck.REVOKED
    others = {new_link_id(): "council", invite.link_id.swapcase(): "council"}
    assert check(token, stored=others) is InviteCheck.REVOKED


def test_an_expired_link_says_it_expired_even_once_its_record_is_gone() -> None:
    token, invite = made()
    assert check(token, now=invite.expires, stored={}) is InviteCheck.EXPIRED


def test_a_record_of_another_room_opens_neither_room() -> None:
    """Ids are random, so this takes a forged record; still, the token and the record must
    both name the room."""
    token, invite = made()
    elsewhere = {invite.link_id: "other"}
    assert check(token, "council", stored=elsewhere) is InviteCheck.INVALID
    assert check(token, "other", stored=elsewhere) is InviteCheck.INVALID


def test_a_link_with_another_id_needs_the_key() -> None:
    token, invite = made()
    mac = token.partition(".")[2]
    other = b64url(f"council\n{invite.expires}\n{new_link_id()}".encode())
    assert check(f"{other}.{mac}") is InviteCheck.INVALID
    # Signed with the key, an id nobody stored is a revoked (or never made) link.
    unknown = f"council\n{invite.expires}\n{new_link_id()}"
    assert check(SIGNER.sign(unknown)) is InviteCheck.REVOKED


def test_link_ids_are_random_and_url_safe() -> None:
    ids = {new_link_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 16 and LINK_ID.fullmatch(i) for i in ids)
    assert (
        INVITES.create("council", hours=1, now=NOW).link_id
        != INVITES.create("council", hours=1, now=NOW).link_id
    )
    assert INVITES.create("council", hours=1, now=NOW, link_id=ID).link_id == ID


def test_the_same_record_makes_the_same_link() -> None:
    """Signing is deterministic: the list of links shows the very token that was handed out."""
    token, invite = made()
    again = Invite(invite.room, invite.expires, invite.link_id)
    assert INVITES.token(again) == token
    assert INVITES.read(token) == invite


# --- tampering, other keys, other formats -----------------------------------------------------


def flipped(token: str, i: int) -> str:
    """The token with its i-th character changed in the top bit of the six it stands for (a
    bit every base64 character carries, even the last one of the MAC)."""
    char = token[i]
    other = B64URL[B64URL.index(char) ^ 32] if char in B64URL else "A"
    return token[:i] + other + token[i + 1 :]


def test_every_changed_character_makes_a_link_invalid() -> None:
    token, _ = made()
    for i in range(len(token)):
        tampered = flipped(token, i)
        assert tampered != token
        assert check(tampered) is InviteCheck.INVALID, i


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
    token, _ = made()
    assert check(tamper(token)) is InviteCheck.INVALID


def test_a_link_with_a_later_expiry_needs_the_key() -> None:
    token, invite = made()
    _, mac = token.split(".")
    data = b64url(f"council\n{invite.expires + 86400}\n{invite.link_id}".encode())
    assert check(f"{data}.{mac}") is InviteCheck.INVALID


@pytest.mark.parametrize(
    "signer",
    [Signer(KEY, "oidc-pending"), Signer(b"l" * 32, "guest-link"), Signer(KEY, "guest-link ")],
)
def test_a_link_signed_with_another_key_or_for_another_purpose_is_invalid(signer: Signer) -> None:
    theirs = Invites(signer)
    invite = theirs.create("council", hours=1, now=NOW)
    STORED[invite.link_id] = "council"
    assert check(theirs.token(invite)) is InviteCheck.INVALID


EXPIRY = int(NOW) + 3600
STORED[ID] = "council"


@pytest.mark.parametrize(
    "value",
    [
        "council",
        "council\n",
        f"council\n{EXPIRY}",  # the old format: room and expiry, no record
        f"council\n{EXPIRY}\n",
        f"council\n{EXPIRY}\n{ID}\n",
        f"council\n{EXPIRY}\n{ID}\n{ID}",
        f"\n{EXPIRY}\n{ID}",
        f"council\nsoon\n{ID}",
        f"council\n-5\n{ID}",
        f"council\n1e12\n{ID}",
        f"council\n{EXPIRY}.5\n{ID}",
        f"council\n²\n{ID}",  # a digit to str.isdigit, not to int()
        f"council\n{'9' * 13}\n{ID}",
        f"council\n\n{ID}",
        f"council\n{EXPIRY}\n{ID[:-1]}",
        f"council\n{EXPIRY}\n{ID}A",
        f"council\n{EXPIRY}\n{ID[:-1]}=",
        f"council\n{EXPIRY}\n{ID[:-1]}.",
        f"council\n{EXPIRY}\n{ID} ",
    ],
)
def test_a_signed_value_without_room_whole_expiry_and_link_id_is_invalid(value: str) -> None:
    assert INVITES.read(SIGNER.sign(value)) is None
    assert check(SIGNER.sign(value)) is InviteCheck.INVALID


def test_what_the_signer_signs_is_room_expiry_and_link_id() -> None:
    token, invite = made()
    assert SIGNER.unsign(token) == f"council\n{invite.expires}\n{invite.link_id}"
    assert check(SIGNER.sign(f"council\n{EXPIRY}\n{ID}")) is InviteCheck.VALID
    assert INVITES.read(SIGNER.sign(f"council\n{EXPIRY}\n{ID}")) == Invite("council", EXPIRY, ID)
    far = "9" * 12  # the longest expiry a token has
    assert check(SIGNER.sign(f"council\n{far}\n{ID}")) is InviteCheck.VALID


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
    invited = link is not None and check(link) is InviteCheck.VALID
    return decide_entry(Role.GUEST, access, password_ok=password_ok, barred=barred, invited=invited)


LINK = made()[0]
EXPIRED = made(now=NOW - 7200)[0]
OTHER_ROOM = made("other")[0]


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
