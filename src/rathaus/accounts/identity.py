"""Who a sign-in says someone is, before Rathaus maps it to an account."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExternalIdentity:
    """An identity confirmed by an identity provider (OpenID Connect) or a directory (LDAP).

    ``provider`` names the configured source (e.g. "oidc" or "ldap"); ``subject`` is its stable,
    unique id for the person (OIDC ``sub``, LDAP entryUUID or DN), never reused for someone else.
    """

    provider: str
    subject: str
    username: str
    display_name: str
    email: str | None = None
    groups: tuple[str, ...] = field(default=())
