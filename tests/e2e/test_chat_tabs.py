"""One browser, two tabs on a room: the chat device (its MLS secrets) runs in one tab at a time.
The second tab says the chat is open in the other one, offers no composer, and takes over when
that tab closes — never two tabs sending from the same MLS state (the same key and nonce twice)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.support.accounts_pages import forget_accounts, owned_room
from tests.support.browser import OpenPage
from tests.support.chat_pages import message_with, room_page
from tests.support.pages import violations
from tests.support.screens import screenshots
from tests.support.server import RunningServer

OTHER_TAB = "The chat is open in another tab of this browser."


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def test_the_chat_runs_in_one_tab_at_a_time(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Olga Owner")
    first = await room_page(open_page, room.slug, room.username)
    await first.get_by_role("textbox", name="Message").fill("Aus dem ersten Tab")
    await first.get_by_role("button", name="Send").click()
    await expect(message_with(first, "Aus dem ersten Tab")).to_have_count(1)

    second = await first.context.new_page()  # the same browser: the same device
    sockets: list[str] = []
    second.on("websocket", lambda socket: sockets.append(socket.url))
    await second.goto(f"{server.http}/r/{room.slug}?lang=en")
    await expect(second.get_by_text(OTHER_TAB)).to_be_visible()
    await expect(second.get_by_role("textbox", name="Message")).to_be_hidden()
    await screenshots(second, "chat-other-tab")
    assert await violations(second) == []
    assert not [url for url in sockets if url.endswith("/ws/chat")]  # no second chat socket

    await first.close()
    await expect(second.get_by_text(OTHER_TAB)).to_be_hidden(timeout=15_000)
    await expect(second.locator("#chat-status")).to_be_hidden(timeout=15_000)
    # What the first tab read and wrote is this device's: the second tab goes on from it
    await expect(message_with(second, "Aus dem ersten Tab")).to_have_count(1)
    await second.get_by_role("textbox", name="Message").fill("Weiter im zweiten Tab")
    await second.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(second, "Weiter im zweiten Tab")).to_have_count(1)
    assert [url for url in sockets if url.endswith("/ws/chat")]
