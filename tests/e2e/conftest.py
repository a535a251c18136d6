"""Debian's Chromium, driven by Playwright, with fake camera, microphone and screen."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    async_playwright,
)

from tests.support.server import RunningServer, running_server, server_settings, shared_janus

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


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("Debian's chromium is needed: make test installs it", pytrace=False)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        await browser.close()


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


@pytest.fixture
async def open_page(browser: Browser, server: RunningServer) -> AsyncIterator[OpenPage]:
    async with page_opener(browser, server) as open_:
        yield open_


@pytest.fixture
async def e2ee_server(server: RunningServer, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """A Rathaus of its own with ``meeting.e2ee_required`` (the shared one has it off for bots)."""
    settings = server_settings(
        tmp_path,
        janus=shared_janus(server),
        meeting={"e2ee_required": True, "adhoc_rooms": True, "join_attempts_per_minute": 100_000},
    )
    async with running_server(settings) as running:
        yield running


@pytest.fixture
async def open_e2ee_page(browser: Browser, e2ee_server: RunningServer) -> AsyncIterator[OpenPage]:
    """``open_page`` on the E2EE server; E2EE errors in the console fail."""
    async with page_opener(browser, e2ee_server, console_errors_with="e2ee") as open_:
        yield open_


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
