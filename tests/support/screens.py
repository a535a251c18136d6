"""Screenshots of the main screens, at desktop and at phone width, for a person to look at:
build/screenshots/<name>-desktop.png and -phone.png (RATHAUS_SCREENSHOTS sets the folder)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.async_api import Page, ViewportSize

FOLDER = Path(os.environ.get("RATHAUS_SCREENSHOTS", "build/screenshots"))
PHONE: ViewportSize = {"width": 390, "height": 844}


async def screenshots(page: Page, name: str) -> None:
    """Saves the page as it is now, then at phone width; the page keeps its own size after.
    (Playwright makes the folder.)"""
    size = page.viewport_size
    await page.screenshot(path=FOLDER / f"{name}-desktop.png")
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=FOLDER / f"{name}-phone.png")
    if size is not None:
        await page.set_viewport_size(size)
