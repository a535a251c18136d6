"""What the chat shows of the others beyond their messages, in Chromium: "Read by" only for a
member who switched it on for herself (on her home), and "… is typing" only on a server whose
operator switched typing indicators on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.support.accounts_pages import forget_accounts, member, owned_room
from tests.support.browser import OpenPage, page_opener, poll
from tests.support.chat_pages import message_with, room_page
from tests.support.pages import violations
from tests.support.screens import screenshots
from tests.support.server import RunningServer, running_server, server_settings, shared_janus


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


@pytest.fixture
async def typing_server(server: RunningServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A Rathaus of its own whose operator switched typing indicators on."""
    settings = server_settings(
        tmp_path, janus=shared_janus(server), chat={"typing_indicators": True}
    )
    async with running_server(settings) as running:
        yield running
        await forget_accounts(running)


async def room_of_two(server: RunningServer) -> tuple[str, str, str]:
    """A room of Olga's with Mia as a member: (room, Olga's user name, Mia's)."""
    room = await owned_room(server, "Olga Owner")
    mia = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    return room.slug, room.username, mia


async def send(page: Page, text: str) -> None:
    await page.get_by_role("textbox", name="Message").fill(text)
    await page.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(page, text)).to_have_count(1)


async def test_read_by_only_for_a_member_who_shares_it(
    open_page: OpenPage, server: RunningServer
) -> None:
    slug, olga_name, mia_name = await room_of_two(server)
    olga = await room_page(open_page, slug, olga_name)
    mia = await room_page(open_page, slug, mia_name)
    await send(olga, "Erste Vorlage")
    await expect(message_with(mia, "Erste Vorlage")).to_have_count(1)  # read: it is on screen
    chat = server.services.chat
    room = await chat.rooms.get(slug)
    mia_user = await server.services.accounts.user_named(mia_name)
    await poll(lambda: chat.read_seq(room, mia_user), lambda seq: seq > 0, "Mia's marker", 10)
    await olga.reload()  # what her page is told afresh
    await expect(olga.get_by_role("log", name="Messages")).to_be_visible()
    await expect(olga.locator("#chat-status")).to_be_hidden(timeout=15_000)
    await expect(message_with(olga, "Erste Vorlage")).to_have_count(1)
    await expect(olga.get_by_text("Read by")).to_have_count(0)  # Mia's marker is hers

    # Mia switches it on, on her home
    await mia.goto(f"{server.http}/?lang=en")
    share = mia.get_by_role("checkbox", name="Show others how far I have read")
    await expect(share).to_be_enabled()
    await expect(share).not_to_be_checked()  # off by default
    await expect(mia.get_by_text("Nobody sees whether you are typing or online.")).to_be_visible()
    await share.check()
    await expect(mia.get_by_role("status").filter(has_text="Saved.")).to_have_count(1)
    await screenshots(mia, "home-chat-privacy")
    assert await violations(mia) == []
    await mia.reload()
    await expect(share).to_be_checked()

    await mia.goto(f"{server.http}/r/{slug}?lang=en")
    await expect(mia.get_by_role("log", name="Messages")).to_be_visible()
    await send(olga, "Zweite Vorlage")
    await expect(message_with(mia, "Zweite Vorlage")).to_have_count(1)
    await expect(message_with(olga, "Zweite Vorlage")).to_contain_text("Read by Mia Member")
    await expect(olga.get_by_text("Read by Mia Member")).to_have_count(1)  # at the newest only
    await screenshots(olga, "chat-read-by")
    assert await violations(olga) == []

    # She switches it off again: Olga's open page forgets her marker at once
    await mia.goto(f"{server.http}/?lang=en")
    await expect(share).to_be_checked()
    await share.uncheck()
    await expect(mia.get_by_role("status").filter(has_text="Saved.")).to_have_count(1)
    await expect(olga.get_by_text("Read by")).to_have_count(0)


async def test_typing_shows_where_the_server_has_it(
    browser: Browser, typing_server: RunningServer
) -> None:
    slug, olga_name, mia_name = await room_of_two(typing_server)
    async with page_opener(browser, typing_server) as open_page:
        olga = await room_page(open_page, slug, olga_name)
        mia = await room_page(open_page, slug, mia_name)
        await expect(mia.get_by_text("Devices that can read along: 2.")).to_be_visible()
        await olga.get_by_role("textbox", name="Message").fill("Ich schreibe gerade")
        typing = mia.get_by_text("Olga Owner is typing …")
        await expect(typing).to_be_visible()
        await screenshots(mia, "chat-typing")
        assert await violations(mia) == []
        await olga.get_by_role("textbox", name="Message").press("Enter")
        await expect(message_with(mia, "Ich schreibe gerade")).to_have_count(1)
        await expect(typing).to_be_hidden()  # her message came: she stopped
