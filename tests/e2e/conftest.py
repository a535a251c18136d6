"""Debian's Chromium, driven by Playwright, with fake camera, microphone and screen."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

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


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is needed: make test installs it", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


@pytest.fixture
async def open_page(browser: Browser, server: RunningServer) -> AsyncIterator[OpenPage]:
    """``await open_page(path)``: a page in a browser profile of its own, like another person's."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    async def open_(path: str, locale: str = "en-US") -> Page:
        context = await browser.new_context(locale=locale, viewport={"width": 1280, "height": 800})
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((server.http, server.ws, "data:", "blob:"))
                else problems.append(f"request to another host: {request.url}")
            ),
        )
        await page.goto(server.http + path)
        return page

    yield open_
    for context in contexts:
        await context.close()
    assert not problems, problems
