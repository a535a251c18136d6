"""WCAG 2.1 A/AA checks with axe-core (from npm, run inside the page) on every screen."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.support.browser import OpenPage
from tests.support.pages import WAIT, join, room, violations


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_screen_meets_wcag_21_aa(open_page: OpenPage, lang: str) -> None:
    name = room("a-")
    prejoin = await open_page(f"/r/{name}?lang={lang}")
    await expect(prejoin.locator("#prejoin")).to_be_visible()
    assert await violations(prejoin) == []

    anna = await join(open_page, name, "Anna")
    await join(open_page, name, "Ben")
    await expect(anna.get_by_role("group", name="Ben", exact=True)).to_have_count(1, timeout=WAIT)
    assert await violations(anna) == []

    await anna.get_by_role("button", name="Leave meeting").click()
    await expect(anna.get_by_role("heading", name="You left the meeting")).to_be_visible()
    assert await violations(anna) == []


async def test_the_start_and_not_found_pages_meet_wcag_21_aa(open_page: OpenPage) -> None:
    for path in ("/", "/?lang=en", "/r/NOT-A-ROOM"):
        page = await open_page(path)
        assert await violations(page) == [], path
