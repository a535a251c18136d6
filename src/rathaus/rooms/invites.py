"""Guest links that expire: ``/r/<room>?invite=<token>``, signed with the installation's key.

The token names its room and its expiry; nothing is stored. A guest with a valid link may enter
a room that is otherwise for members only (the lobby and the password still apply).
"""

from __future__ import annotations

import enum
import time

from rathaus.secrets_store import Signer

MAX_HOURS = 24 * 90


class InviteCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


class Invites:
    def __init__(self, signer: Signer) -> None:
        self._signer = signer

    def create(self, slug: str, hours: float, now: float | None = None) -> tuple[str, int]:
        """A token for ``slug`` and the unix time it expires."""
        expires = int((time.time() if now is None else now) + hours * 3600)
        return self._signer.sign(f"{slug}\n{expires}"), expires

    def check(self, token: str, slug: str, now: float | None = None) -> InviteCheck:
        value = self._signer.unsign(token)
        if value is None:
            return InviteCheck.INVALID
        invited, _, expires = value.partition("\n")
        if invited != slug or not expires.isdigit():
            return InviteCheck.INVALID
        if int(expires) <= (time.time() if now is None else now):
            return InviteCheck.EXPIRED
        return InviteCheck.VALID
