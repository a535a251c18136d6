"""A mixed meeting: an end-to-end encrypted meeting that a browser without encoded transforms may
join only once a moderator allows it; for as long as it is present, everyone sees that the meeting
is not end-to-end encrypted, and everyone sees and hears everyone, in Chromium through Janus."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import OpenPage
from tests.e2e.test_accessibility import violations
from tests.e2e.test_e2ee_meeting import WAIT, decrypting, e2ee, join, room, wait_e2ee
from tests.e2e.test_meeting_in_browser import video_is_playing

# Makes the page a browser that cannot encrypt media (no WebRTC encoded transforms at all).
WITHOUT_ENCODED_TRANSFORMS = """
delete window.RTCRtpScriptTransform;
delete RTCRtpSender.prototype.createEncodedStreams;
delete RTCRtpReceiver.prototype.createEncodedStreams;
"""

# The mean colour of a video, over a 4x3 grid: Chromium's fake camera draws a steady background
# with a small moving pattern, so a decoded picture of it matches its sender's own preview, and
# noise decoded from ciphertext does not.
GRID = """async (v) => {
    const canvas = new OffscreenCanvas(4, 3);
    const ctx = canvas.getContext('2d');
    ctx.drawImage(v, 0, 0, 4, 3);
    return Array.from(ctx.getImageData(0, 0, 4, 3).data);
}"""


async def without_encoded_transforms(page: Page) -> None:
    await page.add_init_script(WITHOUT_ENCODED_TRANSFORMS)


async def grid(page: Page, tile_name: str) -> list[int]:
    video = page.get_by_role("group", name=tile_name, exact=True).locator("video")
    return list(await video.evaluate(GRID))


async def shows_the_picture_of(viewer: Page, sender: Page, name: str) -> None:
    """``viewer`` decodes ``name``'s real picture: its tile matches ``sender``'s own preview."""
    await video_is_playing(viewer, name)
    deadline = asyncio.get_running_loop().time() + WAIT / 1000
    while True:
        seen, own = await grid(viewer, name), await grid(sender, name)
        distance = max(abs(a - b) for a, b in zip(seen, own, strict=True))
        if distance < 40:
            return
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{name}'s picture differs by {distance}: {seen} vs {own}")
        await asyncio.sleep(0.3)


def plain(stats: dict[str, Any] | None, role: str) -> int:
    """Frames passed on unencrypted in plain mode by the transforms of ``role``."""
    if not stats:
        return 0
    return sum(t["plain"] for t in stats["transforms"].values() if t["role"] == role)


async def test_a_browser_that_cannot_encrypt_joins_when_a_moderator_allows_it(
    open_e2ee_page: OpenPage,
) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna")  # the first one in moderates
    ben = await join(open_e2ee_page, name, "Ben")
    await decrypting(anna, 1)

    carl = await open_e2ee_page(f"/r/{name}?lang=en", before=without_encoded_transforms)
    await carl.get_by_role("textbox", name="Your name").fill("Carl")
    join_button = carl.get_by_role("button", name="Join meeting")
    await join_button.click()
    await expect(carl.get_by_role("alert")).to_contain_text(
        "this browser cannot encrypt", timeout=WAIT
    )
    await expect(anna.locator("#status")).to_contain_text("Carl could not join", timeout=WAIT)
    allow = anna.get_by_role("button", name="Allow participants without encryption")
    await expect(allow).to_have_attribute("aria-pressed", "false")
    await expect(
        ben.get_by_role("button", name="Allow participants without encryption")
    ).to_be_hidden()
    await allow.click()
    await expect(allow).to_have_attribute("aria-pressed", "true")
    await expect(ben.locator("#status")).to_contain_text("Anna allowed participants", timeout=WAIT)
    # Still end-to-end encrypted: nobody who cannot encrypt is in yet.
    assert (await e2ee(ben))["encrypted"]

    await join_button.click()
    await expect(carl.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    for page in (anna, ben, carl):
        await expect(page.locator("#e2ee-indicator")).to_have_text(
            "Not end-to-end encrypted", timeout=WAIT
        )
    await expect(ben.locator("#status")).to_have_text("Not end-to-end encrypted", timeout=WAIT)
    badge = anna.get_by_text("not encrypted", exact=True)
    await expect(anna.get_by_role("group", name="Carl", exact=True).locator(badge)).to_be_visible()
    await expect(anna.get_by_role("group", name="Ben", exact=True).locator(badge)).to_be_hidden()
    for page in (anna, ben):
        state = await wait_e2ee(
            page,
            "plain mode",
            lambda s: s["on"] and not s["encrypted"] and s["stats"] and s["stats"]["plainMode"],
        )
        assert state["safetyCode"] is not None  # still shown for the devices that have keys
    assert not (await e2ee(carl))["on"]

    # Everyone gets everyone's real picture: the encrypting pages send plain frames now.
    await shows_the_picture_of(carl, anna, "Anna")
    await shows_the_picture_of(carl, ben, "Ben")
    await shows_the_picture_of(anna, carl, "Carl")
    await shows_the_picture_of(ben, anna, "Anna")
    stats = (await e2ee(anna))["stats"]
    assert plain(stats, "sender") > 0 and plain(stats, "receiver") > 0, stats
    assert await violations(anna) == []

    # Carl leaves: end-to-end encrypted again, announced, and the media is ciphertext once more.
    await carl.get_by_role("button", name="Leave meeting").click()
    for page in (anna, ben):
        await expect(page.locator("#e2ee-indicator")).to_have_text(
            "End-to-end encrypted", timeout=WAIT
        )
        await wait_e2ee(page, "strict mode", lambda s: s["stats"] and not s["stats"]["plainMode"])
    await expect(ben.locator("#status")).to_have_text("End-to-end encrypted", timeout=WAIT)
    await asyncio.sleep(1)  # frames in flight from plain mode
    before = {page: await e2ee(page) for page in (anna, ben)}
    await asyncio.sleep(2)
    for page in (anna, ben):
        after = await e2ee(page)
        assert after["stats"]["plain"] == before[page]["stats"]["plain"], after["stats"]
        assert after["stats"]["decrypted"] > before[page]["stats"]["decrypted"]
    await shows_the_picture_of(ben, anna, "Anna")
    await shows_the_picture_of(anna, ben, "Ben")
