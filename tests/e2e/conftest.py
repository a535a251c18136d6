"""The browsers' fixtures: Debian's Chromium through Playwright (helpers in
``tests/support/browser.py``) and Debian's Firefox through Selenium (``tests/support/firefox.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.browser import CHROMIUM, CHROMIUM_FLAGS, OpenPage, page_opener
from tests.support.firefox import FirefoxPage, firefox_on
from tests.support.server import RunningServer, running_server, server_settings, shared_janus


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


@pytest.fixture
async def firefox(
    server: RunningServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[FirefoxPage]:
    """A Firefox window on the Rathaus under test; fails if Firefox asked for any other host."""
    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager, should anything call it
    async with firefox_on(server, tmp_path / "geckodriver.log") as page:
        yield page
