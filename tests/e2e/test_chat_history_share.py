"""Sharing a room's history with a member who joined later, in Chromium: Mia, added after Olga
wrote, cannot read that (MLS gives her device no keys of the past) until Olga, the owner, shares
the history; then Mia's device adds it, marked as coming from Olga's history. Only owners have
the button."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.support.accounts_pages import forget_accounts, member, owned_room
from tests.support.browser import OpenPage
from tests.support.chat_pages import message_with, room_page
from tests.support.pages import violations
from tests.support.screens import screenshots
from tests.support.server import RunningServer

EARLIER = "Vor Mias Zeit: Protokoll der letzten Sitzung"


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def test_an_owner_shares_the_history_with_a_newcomer(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    olga = await room_page(open_page, room.slug, room.username)
    await olga.get_by_role("textbox", name="Message").fill(EARLIER)
    await olga.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(olga, EARLIER)).to_have_count(1)

    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    mia = await room_page(open_page, room.slug, mia_name)
    await expect(mia.get_by_text("Older messages cannot be read on this device")).to_be_visible()
    await expect(message_with(mia, EARLIER)).to_have_count(0)
    await expect(olga.get_by_text("Devices that can read along: 2.")).to_be_visible()
    await mia.get_by_text("Devices that can read along").click()
    await expect(mia.get_by_role("button", name="Share the history")).to_be_hidden()  # a member

    await olga.get_by_text("Devices that can read along").click()
    await olga.get_by_role("button", name="Share the history with the members").click()
    await olga.get_by_role("dialog").get_by_role("button", name="Share").click()
    await expect(olga.get_by_text("History shared (messages: 1).")).to_be_visible(timeout=20_000)

    await expect(mia.get_by_text("Shared the room's history (messages: 1).")).to_be_visible()
    earlier = message_with(mia, EARLIER)
    await expect(earlier).to_have_count(1, timeout=20_000)
    await expect(earlier).to_contain_text("(from the history Olga Owner shared)")
    await screenshots(mia, "chat-history-shared")
    assert await violations(mia) == []
