"""Accounts and owned rooms for tests against the running server, made directly through its
services or signed in over HTTP; and what a bot saw of them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.bot import Bot
from tests.support.server import RunningServer

PASSWORD = "a long password 1"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def signed_in(server: RunningServer, display_name: str) -> tuple[Any, dict[str, str]]:
    """A new member (unique user name), signed in: the user and the session cookie."""
    accounts = server.services.accounts
    user = await accounts.create_user(unique("u"), PASSWORD, display_name)
    token, _ = await accounts.sign_in(user.username, PASSWORD, "tests")
    return user, {"rathaus_session": token}


async def owned_room(server: RunningServer, **settings: Any) -> tuple[str, dict[str, str]]:
    """A room owned by a signed-in member; returns its link name and the owner's cookies."""
    owner, cookies = await signed_in(server, "Olga Owner")
    slug = unique("m-")
    await server.services.rooms.create("Ausschuss", slug, owner_id=owner.id)
    if settings:
        await server.services.rooms.update(slug, owner, **settings)
    return slug, cookies


async def browser_for(server: RunningServer, admin: bool = False) -> tuple[Any, httpx.AsyncClient]:
    """A signed-in member (or administrator) with an HTTP client carrying the CSRF header."""
    user = await server.services.accounts.create_user(unique("u"), PASSWORD, admin=admin)
    http = httpx.AsyncClient(base_url=server.http)
    signed = await http.post("/api/session", json={"username": user.username, "password": PASSWORD})
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    return user, http


async def guest_link(
    server: RunningServer, slug: str, hours: float = 1, now: float | None = None
) -> str:
    """The token of a new guest link for ``slug``, stored like any other (made by a new
    administrator, deleted again: other tests need a server without accounts); ``now`` in the
    past makes one that has expired already."""
    accounts = server.services.accounts
    admin = await accounts.create_user(unique("a"), PASSWORD, admin=True)
    try:
        return (await server.services.guest_links.create(slug, admin, hours, now=now)).token
    finally:
        await accounts.delete_user(admin.username)


def saw(bot: Bot, *types: str) -> list[dict[str, Any]]:
    """The messages of these types that ``bot`` got so far."""
    return [m for m in bot.messages if m["type"] in types]
