"""WCAG 2.1 A/AA checks with axe-core (from npm, run inside the page) on every screen."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import OpenPage
from tests.e2e.test_meeting_in_browser import WAIT, join

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


async def violations(page: Page) -> list[dict[str, Any]]:
    if not AXE.is_file():
        pytest.fail("axe-core is missing: make test runs npm ci", pytrace=False)
    # Evaluated through the DevTools protocol, so the page's CSP does not block it.
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.html).slice(0, 3)}))",
        WCAG_AA,
    )
    return list(result)


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_screen_meets_wcag_21_aa(open_page: OpenPage, lang: str) -> None:
    name = f"a-{uuid.uuid4().hex[:10]}"
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
