"""A mixed meeting: an end-to-end encrypted meeting that a browser without encoded transforms may
join only once a moderator allows it; for as long as it is present, everyone sees that the meeting
is not end-to-end encrypted, and everyone sees and hears everyone, in Chromium through Janus."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.browser import OpenPage
from tests.support.e2ee_pages import decrypting, e2ee, room, wait_e2ee
from tests.support.meeting_ui import open_more
from tests.support.pages import WAIT, join, shows_the_picture_of, violations
from tests.support.waits import drain, quiet_for

# Makes the page a browser that cannot encrypt media (no WebRTC encoded transforms at all).
WITHOUT_ENCODED_TRANSFORMS = """
delete window.RTCRtpScriptTransform;
delete RTCRtpSender.prototype.createEncodedStreams;
delete RTCRtpReceiver.prototype.createEncodedStreams;
"""


async def without_encoded_transforms(page: Page) -> None:
    await page.add_init_script(WITHOUT_ENCODED_TRANSFORMS)


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
    allow = (await open_more(anna)).get_by_role(
        "button", name="Allow participants without encryption"
    )
    await expect(allow).to_have_attribute("aria-pressed", "false")
    ben_more = await open_more(ben)  # a moderator's entry: not Ben's
    await expect(ben_more.get_by_role("button", name="Encryption", exact=True)).to_be_visible()
    await expect(
        ben_more.get_by_role("button", name="Allow participants without encryption")
    ).to_be_hidden()
    await ben.keyboard.press("Escape")
    await allow.click()  # a toggle: "More" stays open
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
    await drain(1)  # frames in flight from plain mode
    before = {page: await e2ee(page) for page in (anna, ben)}
    await quiet_for(2)  # no plain frame any more (and decrypted ones go on)
    for page in (anna, ben):
        after = await e2ee(page)
        assert after["stats"]["plain"] == before[page]["stats"]["plain"], after["stats"]
        assert after["stats"]["decrypted"] > before[page]["stats"]["decrypted"]
    await shows_the_picture_of(ben, anna, "Anna")
    await shows_the_picture_of(anna, ben, "Ben")
