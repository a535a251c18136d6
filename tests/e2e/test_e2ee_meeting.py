"""End-to-end encrypted meetings in Chromium, through a real Janus: a Rathaus of its own with
``meeting.e2ee_required``, whose media Janus relays as SFrame ciphertext only."""

from __future__ import annotations

import asyncio

from playwright.async_api import Page, expect

from tests.support.browser import OpenPage
from tests.support.e2ee_pages import (
    decrypting,
    e2ee,
    received,
    room,
    safety_code,
    same_codes,
    wait_e2ee,
)
from tests.support.meeting_ui import close_dialog, open_dialog
from tests.support.pages import audio_is_heard, join, video_is_playing, violations
from tests.support.waits import quiet_for


async def install_clock(page: Page) -> None:
    """Playwright's clock: it runs at real pace until a test moves it on."""
    await page.clock.install()


async def test_two_people_in_an_encrypted_meeting(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna")
    ben = await join(open_e2ee_page, name, "Ben", lang="de")
    # Announced politely on joining (the status live region), and shown for as long as it holds.
    await expect(ben.locator("#status")).to_have_text("Ende-zu-Ende-verschlüsselt")
    await video_is_playing(anna, "Ben")
    await video_is_playing(ben, "Anna")
    await audio_is_heard(anna, "Ben")  # the fake microphone's beeps, decrypted
    await audio_is_heard(ben, "Anna")
    for page in (anna, ben):
        state = await decrypting(page, 1)
        assert received(state["stats"], "audio") > 0
        assert state["on"] and state["encrypted"]
        assert not state["stats"]["dropped"].get("auth"), state["stats"]["dropped"]
        assert state["stats"]["encrypted"] > 0
    await expect(anna.locator("#e2ee-indicator")).to_have_text("End-to-end encrypted")
    await expect(ben.locator("#e2ee-indicator")).to_have_text("Ende-zu-Ende-verschlüsselt")
    ben_code = await ben.evaluate("() => window.rathaus.state().e2ee.safetyCode")
    assert ben_code == await safety_code(anna, 2)
    panel = await open_dialog(ben, "Verschlüsselung", more="Mehr")
    await expect(panel.get_by_role("region", name="Sicherheitscode")).to_contain_text(ben_code)
    assert await violations(ben) == []  # the panel open
    await close_dialog(ben, panel)
    # WCAG 2.1 AA with the E2EE state and the safety code shown
    assert await violations(anna) == []
    assert await violations(ben) == []


async def test_three_then_one_leaves(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna")
    ben = await join(open_e2ee_page, name, "Ben")
    two = await same_codes([anna, ben])
    carl = await join(open_e2ee_page, name, "Carl")
    pages = {"Anna": anna, "Ben": ben, "Carl": carl}
    for me, page in pages.items():
        for other in pages:
            if other != me:
                await video_is_playing(page, other)
        await decrypting(page, 2)
        await expect(page.locator("#e2ee-indicator")).to_have_text("End-to-end encrypted")
    three = await same_codes([anna, ben, carl])
    assert three != two

    kids = {me: (await e2ee(page))["stats"]["senderKid"] for me, page in pages.items()}
    await carl.get_by_role("button", name="Leave meeting").click()
    # Carl had Anna's and Ben's keys: both rotate to keys Carl never gets.
    for me, page in (("Anna", anna), ("Ben", ben)):
        await wait_e2ee(
            page,
            "a new own key after Carl left",
            lambda s, me=me: s["stats"] and s["stats"]["senderKid"] not in (None, kids[me]),
        )
    assert await same_codes([anna, ben]) == two
    # Frames under the new keys keep arriving and playing.
    before = {
        me: received((await e2ee(page))["stats"], "video")
        for me, page in (("Anna", anna), ("Ben", ben))
    }
    await video_is_playing(anna, "Ben")
    await video_is_playing(ben, "Anna")
    for me, page in (("Anna", anna), ("Ben", ben)):
        await wait_e2ee(
            page,
            f"more video frames decrypted by {me}",
            lambda s, me=me: received(s["stats"], "video") > before[me],
        )


async def test_a_shared_screen_is_encrypted_too(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna")
    ben = await join(open_e2ee_page, name, "Ben")
    await decrypting(ben, 1)
    await anna.get_by_role("button", name="Share screen", exact=True).click()
    await video_is_playing(ben, "Screen of Anna")
    # Ben decrypts two video tracks of Anna's now: her camera and her screen.
    await decrypting(ben, 2)
    # Anna's page counts its own encrypted frames too (its stats arrive a moment later).
    await wait_e2ee(
        anna,
        "two video tracks encrypted",
        lambda s: (
            sum(
                1
                for t in s["stats"]["transforms"].values()
                if t["role"] == "sender" and t["kind"] == "video" and t["frames"] > 0
            )
            == 2
        ),
    )


async def test_keys_rotate_every_fifteen_minutes(open_e2ee_page: OpenPage) -> None:
    name = room()
    anna = await join(open_e2ee_page, name, "Anna", before=install_clock)
    ben = await join(open_e2ee_page, name, "Ben")
    await decrypting(ben, 1)
    kid = (await e2ee(anna))["stats"]["senderKid"]
    # Anna's page lives 15 minutes on (timers only; the media keeps its real pace).
    await anna.clock.fast_forward("15:01")
    await anna.clock.fast_forward(2000)  # the new key's activation delay
    await wait_e2ee(anna, "a rotated key", lambda s: s["stats"]["senderKid"] not in (None, kid))
    new_kid = (await e2ee(anna))["stats"]["senderKid"]
    await wait_e2ee(ben, "Anna's new key", lambda s: new_kid in s["stats"]["receiverKids"])
    before = received((await e2ee(ben))["stats"], "video")
    await wait_e2ee(
        ben,
        "more of Anna's video frames decrypted",
        lambda s: received(s["stats"], "video") > before,
    )
    await video_is_playing(ben, "Anna")


def epoch(kid: str) -> int:
    return int(kid) & 0xFFFF_FFFF


async def test_leaves_at_once_make_one_rotation(open_e2ee_page: OpenPage) -> None:
    """The end of a meeting: those who stay rotate once for all who left together, not once each
    (in a meeting of 200, each rotation is 200 envelopes from every participant)."""
    name = room()
    pages = {n: await join(open_e2ee_page, name, n) for n in ("Anna", "Ben", "Carl")}
    anna = pages["Anna"]
    await decrypting(anna, 2)
    kid = (await e2ee(anna))["stats"]["senderKid"]
    await asyncio.gather(
        *(pages[n].get_by_role("button", name="Leave meeting").click() for n in ("Ben", "Carl"))
    )
    await wait_e2ee(anna, "a new key", lambda s: s["stats"]["senderKid"] != kid)
    await quiet_for(2)  # a second rotation would have come by now
    assert epoch((await e2ee(anna))["stats"]["senderKid"]) == epoch(kid) + 1
    assert (await e2ee(anna))["stats"]["receiverKids"] == []
