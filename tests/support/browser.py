"""Debian's Chromium, driven by Playwright, with fake camera, microphone and screen.

The fixtures that use these (``browser``, ``open_page``, ``open_e2ee_page``) are in
``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

from tests.support.server import RunningServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
    "--allow-loopback-in-peer-connection",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
]

OpenPage = Callable[..., Awaitable[Page]]
T = TypeVar("T")


@contextlib.asynccontextmanager
async def page_opener(
    browser: Browser, server: RunningServer, *, console_errors_with: str | None = None
) -> AsyncIterator[OpenPage]:
    """``await open_(path)``: a page on ``server`` in a browser profile of its own, like another
    person's. Page errors, requests to any other host and (if asked) console errors containing
    ``console_errors_with`` fail the test."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if console_errors_with and message.type == "error" and console_errors_with in message.text:
            problems.append(f"console: {message.text}")

    async def open_(
        path: str, locale: str = "en-US", before: Callable[[Page], Awaitable[None]] | None = None
    ) -> Page:
        """``before`` prepares the page before it loads (init scripts, WebSocket routes)."""
        context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("console", console)
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((server.http, server.ws, "data:", "blob:"))
                else problems.append(f"request to another host: {request.url}")
            ),
        )
        if before is not None:
            await before(page)
        await page.goto(server.http + path)
        return page

    try:
        yield open_
    finally:  # a failing test closes its pages too
        for context in contexts:
            await context.close()
    assert not problems, problems


async def poll(
    read: Callable[[], Awaitable[T]], check: Callable[[T], bool], what: str, timeout: float
) -> T:
    """Read until ``check`` holds; fail with the last reading after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if check(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}: {value}")
        await asyncio.sleep(0.2)
