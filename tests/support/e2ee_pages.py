"""The meeting page's end-to-end encryption in Chromium: its E2EE state
(``window.rathaus.state().e2ee``), the frames it decrypts and the safety code it shows."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import poll
from tests.support.meeting_ui import close_dialog, open_dialog
from tests.support.pages import WAIT
from tests.support.pages import room as new_room


def room() -> str:
    """A new room name for an E2EE meeting."""
    return new_room("e-")


async def e2ee(page: Page) -> dict[str, Any]:
    return dict((await page.evaluate("() => window.rathaus.state()"))["e2ee"])


async def wait_e2ee(page: Page, what: str, check: Any) -> dict[str, Any]:
    return await poll(lambda: e2ee(page), check, what, WAIT / 1000)


def received(stats: dict[str, Any] | None, kind: str) -> int:
    """Frames decrypted and passed on by the receivers of one kind."""
    if not stats:
        return 0
    return sum(
        t["frames"]
        for t in stats["transforms"].values()
        if t["role"] == "receiver" and t["kind"] == kind
    )


async def decrypting(page: Page, receivers: int) -> dict[str, Any]:
    """Every one of ``receivers`` remote participants' video is being decrypted."""
    return await wait_e2ee(
        page,
        f"decrypted video from {receivers}",
        lambda s: (
            s["stats"] is not None
            and s["stats"]["decrypted"] > 0
            and sum(
                1
                for t in s["stats"]["transforms"].values()
                if t["role"] == "receiver" and t["kind"] == "video" and t["frames"] > 0
            )
            >= receivers
        ),
    )


async def safety_code(page: Page, participants: int) -> str:
    """The code shown in the "Safety code" region of the "Encryption" panel (opened from "More",
    and closed again), read out digit by digit as its description."""
    state = await wait_e2ee(page, "a safety code", lambda s: s["safetyCode"] is not None)
    panel = await open_dialog(page, "Encryption")
    region = panel.get_by_role("region", name="Safety code")
    await expect(region).to_be_visible(timeout=WAIT)
    code = state["safetyCode"]
    await expect(region).to_contain_text(code)
    spoken = ", ".join(" ".join(group) for group in code.split(" "))
    await expect(region).to_have_accessible_description(spoken)
    assert len(code.split(" ")) == 5
    await close_dialog(page, panel)
    return str(code)


async def same_codes(pages: list[Page]) -> str:
    """All pages show the same code (waiting while someone's join or leave settles)."""
    deadline = time.monotonic() + WAIT / 1000
    while True:
        codes = [await safety_code(page, len(pages)) for page in pages]
        if len(set(codes)) == 1:
            return codes[0]
        if time.monotonic() > deadline:
            pytest.fail(f"safety codes differ: {codes}")
        await asyncio.sleep(0.3)
