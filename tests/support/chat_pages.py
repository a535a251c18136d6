"""The chat on a room's page, in Chromium: open it signed in and ready, find its messages."""

from __future__ import annotations

from playwright.async_api import Locator, Page, WebSocket, expect

from tests.support.accounts_pages import sign_in
from tests.support.browser import OpenPage


async def room_page(
    open_page: OpenPage, slug: str, username: str, frames: list[str] | None = None
) -> Page:
    """The room's page, signed in on its pre-join screen; the chat is ready to write. With
    ``frames``: every WebSocket frame the page sends or receives is kept there."""

    def watch(socket: WebSocket) -> None:
        assert frames is not None
        socket.on("framesent", lambda f: frames.append(str(f)))
        socket.on("framereceived", lambda f: frames.append(str(f)))

    async def record(page: Page) -> None:
        if frames is not None:
            page.on("websocket", watch)

    page = await open_page(f"/r/{slug}?lang=en", before=record)
    await sign_in(page, username)
    # The status line is hidden before the chat starts too: first the log, then "ready".
    await expect(page.get_by_role("log", name="Messages")).to_be_visible()
    await expect(page.locator("#chat-status")).to_be_hidden(timeout=15_000)
    return page


def messages(page: Page) -> Locator:
    return (
        page.get_by_role("log")  # "Messages" / "Nachrichten"
        .get_by_role("listitem")
        .filter(has=page.locator(".message-text"))
    )


def message_with(page: Page, text: str) -> Locator:
    """The message whose own text (not a quote of it; an attachment's: its file name) is
    ``text``."""
    return messages(page).filter(has=page.locator(".message-text").get_by_text(text, exact=True))
