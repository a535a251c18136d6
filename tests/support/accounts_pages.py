"""Accounts and owned rooms for browser tests, made directly on the running server, and signing
in on the sign-in page.

The server is shared with every other test, and some of its rules change once any account
exists (e.g. creating rooms through the API then needs a sign-in): ``forget_accounts()``
deletes the accounts made here again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from playwright.async_api import Page, expect

from tests.support.rooms import PASSWORD
from tests.support.server import RunningServer

_made: list[str] = []


@dataclass(frozen=True)
class OwnedRoom:
    slug: str
    username: str
    display_name: str


async def owned_room(
    server: RunningServer, display_name: str = "Olga Owner", **settings: Any
) -> OwnedRoom:
    """A new user (unique name) who owns a new room; ``settings`` go to ``rooms.update``
    (``lobby=True``, ``password="…"``, ``guests_allowed=False``)."""
    username = f"o{uuid.uuid4().hex[:12]}"
    user = await server.services.accounts.create_user(username, PASSWORD, display_name)
    _made.append(username)
    slug = f"m-{uuid.uuid4().hex[:10]}"
    await server.services.rooms.create("Ausschuss", slug, owner_id=user.id)
    if settings:
        await server.services.rooms.update(slug, user, **settings)
    return OwnedRoom(slug, username, display_name)


async def member(server: RunningServer, display_name: str) -> str:
    """A new member account (unique user name, password ``PASSWORD``); its user name."""
    username = f"u{uuid.uuid4().hex[:12]}"
    await server.services.accounts.create_user(username, PASSWORD, display_name)
    _made.append(username)
    return username


async def fill_sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """On the sign-in page (English UI)."""
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("User name", exact=True).fill(username)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()


async def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """From the pre-join screen's "Sign in" link, on the sign-in page, and back (English UI)."""
    await page.get_by_role("link", name="Sign in", exact=True).click()
    await fill_sign_in(page, username, password)
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def forget_accounts(server: RunningServer) -> None:
    """Deletes the accounts made by ``owned_room`` (their rooms stay, without an owner)."""
    while _made:
        await server.services.accounts.delete_user(_made.pop())
