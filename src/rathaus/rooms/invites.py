"""Guest links that expire and can be revoked: ``/r/<room>?invite=<token>``, signed with the
installation's key.

The token names its room, its expiry and the id of its link's record (table ``guest_links``).
The token itself is never stored: signing is deterministic, so the record is enough to make the
same link again, and deleting the record revokes it. A guest with a valid link may enter a room
that is otherwise for members only (the lobby and the password still apply).

Everything here is pure: whether a record exists is looked up by the caller and passed to
:func:`decide`.
"""

from __future__ import annotations

import enum
import re
import secrets
import time
from dataclasses import dataclass

from rathaus.secrets_store import Signer

MAX_HOURS = 24 * 90
LINK_ID_BYTES = 12  # 16 url-safe characters
LINK_ID = re.compile(r"[A-Za-z0-9_-]{16}")
_EXPIRY = re.compile(r"[0-9]{1,12}")  # whole unix seconds (str.isdigit would take "²")


class InviteCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    INVALID = "invalid"


@dataclass(frozen=True)
class Invite:
    """What a token says: the room's link name, the unix time it expires, its record's id."""

    room: str
    expires: int
    link_id: str


def new_link_id() -> str:
    return secrets.token_urlsafe(LINK_ID_BYTES)


class Invites:
    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def create(
        self, slug: str, hours: float, now: float | None = None, link_id: str | None = None
    ) -> Invite:
        """A new link for ``slug`` (a fresh id unless given), expiring ``hours`` from now."""
        expires = int((time.time() if now is None else now) + hours * 3600)
        return Invite(slug, expires, link_id or new_link_id())

    def token(self, invite: Invite) -> str:
        return self._signer.sign(f"{invite.room}\n{invite.expires}\n{invite.link_id}")

    def read(self, token: str) -> Invite | None:
        """What the token says, if it is ours and of the current format (room, expiry, id)."""
        value = self._signer.unsign(token)
        if value is None:
            return None
        parts = value.split("\n")
        if len(parts) != 3:
            return None
        room, expires, link_id = parts
        if not room or _EXPIRY.fullmatch(expires) is None or LINK_ID.fullmatch(link_id) is None:
            return None
        return Invite(room, int(expires), link_id)


def decide(
    invite: Invite | None, slug: str, stored_room: str | None, now: float | None = None
) -> InviteCheck:
    """Whether ``invite`` (as read from a token) lets a guest into ``slug``. ``stored_room`` is
    the link name of the room whose record has the invite's id, None if there is no such record.

    Expiry is decided before the record: expired records are deleted, and an expired link
    should say so rather than look revoked."""
    if invite is None or invite.room != slug:
        return InviteCheck.INVALID
    if invite.expires <= (time.time() if now is None else now):
        return InviteCheck.EXPIRED
    if stored_room is None:
        return InviteCheck.REVOKED
    if stored_room != slug:
        return InviteCheck.INVALID
    return InviteCheck.VALID
