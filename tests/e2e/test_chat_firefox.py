"""The room's chat between Firefox ESR and Chromium: the same MLS (ts-mls) in both, each
reading what the other writes. Firefox signs in on the sign-in page and writes with Enter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.support.accounts_pages import forget_accounts, member, owned_room, sign_in
from tests.support.browser import OpenPage
from tests.support.firefox import FirefoxPage
from tests.support.rooms import PASSWORD
from tests.support.server import RunningServer

# The texts of the messages in the "Messages" log, as Firefox shows them.
TEXTS = (
    "return [...document.querySelectorAll('#message-list .message-text')].map((p) => p.textContent)"
)


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def test_firefox_and_chromium_chat_end_to_end_encrypted(
    firefox: FirefoxPage, open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Fiona Firefox")
    chris_name = await member(server, "Chris Chromium")
    owner = await server.services.accounts.user_named(room.username)
    chris_user = await server.services.accounts.user_named(chris_name)
    await server.services.rooms.set_role(room.slug, owner, chris_user, "member")

    await firefox.goto(f"/signin?lang=en&next=/r/{room.slug}")
    await firefox.wait_for(
        "return !document.getElementById('signin-form').hidden", what="the sign-in form"
    )
    await firefox.type_into("#username-input", room.username)
    await firefox.type_into("#password-input", PASSWORD)
    await firefox.click("#signin-button")
    await firefox.wait_for(
        "return location.pathname.startsWith('/r/')"
        " && !document.getElementById('chat-panel').hidden"
        " && document.getElementById('chat-status').hidden",
        what="the room's chat, ready",
        timeout=30,
    )
    log = await firefox.js(
        "const log = document.getElementById('messages');"
        " return [log.getAttribute('role'), log.getAttribute('aria-label')]"
    )
    assert log == ["log", "Messages"]

    chris = await open_page(f"/r/{room.slug}?lang=en")
    await sign_in(chris, chris_name)
    # The status is hidden before the chat starts too: first the panel, then "ready".
    await expect(chris.get_by_role("log", name="Messages")).to_be_visible()
    await expect(chris.locator("#chat-status")).to_be_hidden(timeout=15_000)
    await expect(chris.get_by_text("Devices that can read along: 2.")).to_be_visible()
    await firefox.type_into("#message-input", "Hallo aus Firefox")
    await firefox.press_enter("#message-input")  # Enter sends
    message = (
        chris.get_by_role("log", name="Messages")
        .get_by_role("listitem")
        .filter(has_text="Hallo aus Firefox")
    )
    await expect(message).to_contain_text("Fiona Firefox")
    await chris.get_by_role("textbox", name="Message").fill("Und zurück aus Chromium")
    await chris.get_by_role("button", name="Send").click()
    await firefox.wait_for(
        f"{TEXTS}.includes(arguments[0])", "Und zurück aus Chromium", what="Chris's answer"
    )
    assert await firefox.js(TEXTS) == ["Hallo aus Firefox", "Und zurück aus Chromium"]
