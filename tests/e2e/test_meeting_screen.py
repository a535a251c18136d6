"""The meeting screen in Chromium, through Rathaus and a real Janus: the toolbar in one row at
every size, "More" by keyboard, the participants panel with the waiting room at its top, notices
of who joins and leaves, the encryption panel, meeting info, and sharing a screen; axe-clean with
each panel open, in German and English.

In the ad-hoc rooms here the first one in (Anna) moderates; the others are guests.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, ViewportSize, expect

from tests.support.accounts_pages import forget_accounts, owned_room
from tests.support.browser import OpenPage
from tests.support.e2ee_pages import decrypting, safety_code
from tests.support.e2ee_pages import room as e2ee_room
from tests.support.meeting_ui import (
    box,
    close_dialog,
    joined_as_owner,
    knock,
    more_button,
    open_dialog,
    open_more,
    open_participants,
    open_waiting_room,
    overlap,
    participants_panel,
    participants_toggle,
    state,
    tile_boxes,
    toolbar_layout,
)
from tests.support.pages import WAIT, join, room, video_is_playing, violations
from tests.support.screens import PHONE, screenshots
from tests.support.server import RunningServer

DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE_TURNED: ViewportSize = {"width": 844, "height": 390}
TOOLBAR = [
    "Microphone",
    "Camera",
    "Share screen",
    "Raise hand",
    "Reactions",
    "Participants",
    "More",
    "Leave meeting",
]


@pytest.fixture(autouse=True)
async def _no_accounts_left_behind(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def nothing_under_anything(page: Page, what: str) -> None:
    """No shown tile overlaps the toolbar or the open participants panel, nor the panel the
    toolbar."""
    toolbar = await box(page.get_by_role("toolbar"))
    panel = participants_panel(page)
    others = [toolbar]
    if await panel.is_visible():
        others.append(await box(panel))
        assert not overlap(others[1], toolbar), f"{what}: the panel overlaps the toolbar"
    tiles = await tile_boxes(page)
    assert tiles, f"{what}: no tile shown"
    for tile in tiles:
        for other in others:
            assert not overlap(tile, other), f"{what}: a tile {tile} lies under {other}"


async def test_one_row_of_controls_and_nothing_under_them(
    open_page: OpenPage, server: RunningServer
) -> None:
    room_ = await owned_room(server, lobby=True)
    olga = await joined_as_owner(open_page, room_)
    gustav = await knock(open_page, room_.slug, "Gustav")
    lobby = await open_waiting_room(olga)
    await lobby.get_by_role("group", name="Gustav").get_by_role("button", name="Admit").click()
    await expect(gustav.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    await knock(open_page, room_.slug, "Greta")  # she waits: the waiting room stays in the panel
    await expect(lobby.get_by_role("group", name="Greta")).to_be_visible(timeout=WAIT)
    people = participants_panel(olga).get_by_role("list", name="Participants")
    await expect(people.get_by_role("listitem")).to_have_count(2)
    above, below = await box(lobby), await box(people)
    assert above["y"] + above["height"] <= below["y"], "the waiting room is not at the top"
    await video_is_playing(olga, "Gustav")

    # Olga (moderator) with the panel and its waiting room open, Gustav (guest) without, then with.
    for page, who in ((olga, "moderator"), (gustav, "guest"), (gustav, "guest, panel open")):
        if who == "guest, panel open":
            await open_participants(gustav)
        for size in (PHONE, PHONE_TURNED, DESKTOP):
            await page.set_viewport_size(size)
            what = f"{who} at {size['width']}x{size['height']}"
            toolbar, names, rows = await toolbar_layout(page)
            # A member of the room has its chat beside the meeting; a guest has none (yet).
            expected = [*TOOLBAR[:-2], "Chat", *TOOLBAR[-2:]] if page is olga else TOOLBAR
            assert names == expected, what
            assert len(rows) == 1, f"{what}: the toolbar wraps: {rows}"
            assert toolbar["height"] <= size["height"] / 5, f"{what}: {toolbar}"
            await nothing_under_anything(page, what)
            # "Leave meeting" stands apart at the end
            more, leave = await box(more_button(page)), await box(page.locator("#leave-button"))
            assert leave["x"] - (more["x"] + more["width"]) >= 8, what
            labels = await page.locator("#toolbar > button:not([hidden]) .label").evaluate_all(
                "(ls) => ls.map((l) => l.getBoundingClientRect().width)"
            )
            if size is DESKTOP:  # short labels under the icons
                assert min(labels) > 20, f"{what}: labels hidden"
            elif size is PHONE:  # icons only (the labels name the buttons)
                assert max(labels) <= 1, f"{what}: labels shown"
    await olga.set_viewport_size(DESKTOP)
    await screenshots(olga, "meeting-participants")


# What "More" offers everyone (moderators find theirs below these).
EVERYONES_ENTRIES = [
    "Meeting info",
    "Encryption",
    "Devices",
    "Sounds when people join or leave",
    "Keyboard shortcuts",
    "Speaker view",
    "Audio only",
    "Only the speaker's video",
]


async def test_more_by_keyboard(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    more = more_button(anna)
    popup = anna.get_by_role("group", name="More", exact=True)
    await expect(more).to_have_attribute("aria-expanded", "false")
    await more.focus()
    await anna.keyboard.press("Enter")
    await expect(more).to_have_attribute("aria-expanded", "true")
    entry = popup.get_by_role("button")
    assert await entry.all_inner_texts() == [
        *EVERYONES_ENTRIES,
        "Mute all",
        "Lock meeting",
        "End meeting for all",
    ]
    await expect(popup.get_by_role("button", name="Meeting info")).to_be_focused()
    for key, focused in (
        ("ArrowDown", "Encryption"),
        ("ArrowDown", "Devices"),
        ("End", "End meeting for all"),
        ("ArrowDown", "Meeting info"),  # round again
        ("ArrowUp", "End meeting for all"),
        ("Home", "Meeting info"),
    ):
        await anna.keyboard.press(key)
        await expect(popup.get_by_role("button", name=focused, exact=True)).to_be_focused()
    await expect(popup.get_by_role("button", name="Leave meeting")).to_have_count(0)
    end = popup.get_by_role("button", name="End meeting for all")
    assert await end.evaluate("(b) => b.classList.contains('danger')")  # red, and apart:
    assert await end.evaluate("(b) => b.previousElementSibling.tagName") == "HR"
    assert await violations(anna) == []
    await screenshots(anna, "meeting-more")
    await anna.keyboard.press("Escape")
    await expect(popup).to_be_hidden()
    await expect(more).to_be_focused()
    await expect(more).to_have_attribute("aria-expanded", "false")

    # A guest finds meeting info and encryption there, nothing of the moderators'.
    ben_popup = await open_more(ben)
    assert await ben_popup.get_by_role("button").all_inner_texts() == EVERYONES_ENTRIES
    for _ in EVERYONES_ENTRIES:  # leaving the popup (past its last entry) closes it
        await ben.keyboard.press("Tab")
    await expect(ben_popup).to_be_hidden()

    # A toggle keeps the popup open to show its state.
    await anna.keyboard.press("Enter")
    await anna.keyboard.press("End")
    await anna.keyboard.press("ArrowUp")
    lock = popup.get_by_role("button", name="Lock meeting")
    await expect(lock).to_be_focused()
    await anna.keyboard.press("Enter")
    await expect(lock).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await expect(popup).to_be_visible()
    await expect(ben.get_by_text("Meeting locked", exact=True)).to_be_visible()


async def test_the_participants_panel(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    carla = await join(open_page, name, "Carla")
    await ben.get_by_role("button", name="Microphone", exact=True).click()
    await ben.get_by_role("button", name="Raise hand", exact=True).click()

    toggle = participants_toggle(anna)
    await expect(toggle).to_have_accessible_name("Participants")
    await expect(toggle).to_have_accessible_description("3 in the meeting", timeout=WAIT)
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    panel = await open_participants(anna)
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await expect(anna.get_by_role("heading", name="Participants")).to_be_focused()
    people = panel.get_by_role("list", name="Participants").get_by_role("listitem")
    await expect(people).to_have_count(3)
    # You first, then the raised hands in their order, then as they came.
    await expect(people.nth(0)).to_contain_text("Anna (you)")
    await expect(people.nth(0)).to_contain_text("Moderator")
    ben_line = people.nth(1)
    await expect(ben_line).to_contain_text("Ben")
    await expect(ben_line).to_contain_text("Guest")
    await expect(ben_line.get_by_role("img", name="Microphone muted")).to_be_visible(timeout=WAIT)
    await expect(ben_line.get_by_role("img", name="Camera on")).to_be_visible()
    await expect(ben_line.get_by_role("img", name="Hand raised (1)")).to_be_visible()
    await expect(people.nth(2).get_by_role("img", name="Microphone on")).to_be_visible()
    assert await violations(anna) == []

    # The moderator's actions on each line; a guest has none.
    await ben_line.get_by_role("button", name="More actions for Ben").click()
    await ben_line.get_by_role("button", name="Lower hand", exact=True).click()
    await expect(ben.get_by_role("button", name="Raise hand", exact=True)).to_have_attribute(
        "aria-pressed", "false", timeout=WAIT
    )
    await expect(ben_line.get_by_role("img", name="Hand raised (1)")).to_be_hidden()
    # A guest may only pin (for themselves).
    carla_line = (await open_participants(carla)).get_by_role("listitem").filter(has_text="Ben")
    await carla_line.get_by_role("button", name="More actions for Ben").click()
    assert await carla_line.locator(".tile-menu").get_by_role("button").all_inner_texts() == ["Pin"]
    await carla.keyboard.press("Escape")

    # Who joins and leaves: said politely, never in the bar at the top.
    dora = await join(open_page, name, "Dora")
    await expect(anna.locator("#roster-live")).to_have_text("Dora joined the meeting.")
    await expect(people).to_have_count(4)
    await expect(toggle).to_have_accessible_description("4 in the meeting")
    await dora.get_by_role("button", name="Leave meeting").click()
    await expect(anna.locator("#roster-live")).to_have_text("Dora left the meeting.", timeout=WAIT)
    await expect(people).to_have_count(3)
    assert (await state(anna))["banner"] is None
    await expect(anna.locator("#status")).to_have_attribute("class", "status")

    # Escape closes the panel; so does its close button (on a phone the panel is a sheet).
    await ben_line.get_by_role("button", name="More actions for Ben").focus()
    await anna.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(toggle).to_be_focused()
    await anna.set_viewport_size(PHONE)
    await open_participants(anna)
    assert await violations(anna) == []
    await anna.get_by_role("button", name="Close the participant list").click()
    await expect(panel).to_be_hidden()
    await expect(toggle).to_be_focused()


LABELS = {
    "en": ("Participants", "More", "Meeting info", "Encryption"),
    "de": ("Teilnehmende", "Mehr", "Infos zur Besprechung", "Verschlüsselung"),
}


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_every_panel_meets_wcag_21_aa(open_page: OpenPage, lang: str) -> None:
    participants, more, info, encryption = LABELS[lang]
    name = room("a-")
    anna = await join(open_page, name, "Anna", lang=lang)
    await join(open_page, name, "Ben", lang=lang)
    for size in (DESKTOP, PHONE):
        await anna.set_viewport_size(size)
        panel = await open_participants(anna, participants)
        await expect(panel.get_by_role("listitem")).to_have_count(2, timeout=WAIT)
        assert await violations(anna) == [], (size, participants)
        await anna.keyboard.press("Escape")
        await open_more(anna, more)
        assert await violations(anna) == [], (size, more)
        await anna.keyboard.press("Escape")
        for entry in (info, encryption):
            dialog = await open_dialog(anna, entry, more)
            assert await violations(anna) == [], (size, entry)
            await close_dialog(anna, dialog)
            await expect(more_button(anna, more)).to_be_focused()


async def test_meeting_info_and_copy_link(open_page: OpenPage, server: RunningServer) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    await anna.context.grant_permissions(["clipboard-read", "clipboard-write"])
    clock = anna.locator("#meeting-clock")
    await expect(clock).to_have_text(re.compile(r"^0:0[1-9]$"), timeout=WAIT)  # counting up
    dialog = await open_dialog(anna, "Meeting info")
    link = f"{server.http}/r/{name}"
    await expect(dialog).to_contain_text(name)
    await expect(dialog).to_contain_text(link)
    duration = dialog.locator("time")
    before = await duration.text_content()
    await expect(duration).not_to_have_text(before or "", timeout=3_000)
    await expect(duration).to_have_text(re.compile(r"^\d+:\d\d$"))
    await dialog.get_by_role("button", name="Copy link", exact=True).click()
    await expect(dialog.get_by_role("status")).to_have_text("Link copied.")
    assert await anna.evaluate("navigator.clipboard.readText()") == link
    await close_dialog(anna, dialog)
    await expect(more_button(anna)).to_be_focused()

    # Someone coming later sees the meeting's duration, not their own.
    await expect(clock).to_have_text(re.compile(r"^0:0[3-9]$"), timeout=WAIT)
    ben = await join(open_page, name, "Ben")
    seconds = int((await ben.locator("#meeting-clock").text_content() or "0:00").split(":")[-1])
    assert seconds >= 3

    # Without end-to-end encryption the encryption panel says what that means, and shows no code.
    badge = anna.get_by_role("button", name="Not end-to-end encrypted")
    await expect(badge).to_have_attribute("aria-haspopup", "dialog")
    await badge.click()
    panel = anna.get_by_role("dialog", name="Encryption")
    await expect(panel).to_contain_text("the server could see and hear them")
    await expect(panel.get_by_role("region", name="Safety code")).to_have_count(0)
    await close_dialog(anna, panel)
    await expect(badge).to_be_focused()


async def test_the_encryption_panel(open_e2ee_page: OpenPage) -> None:
    name = e2ee_room()
    anna = await join(open_e2ee_page, name, "Anna")
    ben = await join(open_e2ee_page, name, "Ben")
    await decrypting(anna, 1)
    badge = anna.get_by_role("button", name="End-to-end encrypted")
    await expect(badge).to_be_visible(timeout=WAIT)
    # A calm badge: green edge, no warning colour.
    assert await badge.evaluate("(b) => getComputedStyle(b).borderTopColor") == "rgb(63, 166, 107)"
    code = await safety_code(anna, 2)  # through "More" → "Encryption"
    assert code == await safety_code(ben, 2)

    await badge.click()
    panel = anna.get_by_role("dialog", name="Encryption")
    await expect(panel).to_be_visible()
    for said in (
        "cannot see or hear them",
        "Compare this code with the others in the meeting: read it out, or compare screens.",
        "If it is the same for everyone, nobody is listening in between.",
        "The code changes whenever someone joins or leaves. Compare it again then.",
    ):
        await expect(panel).to_contain_text(said)
    await expect(panel.get_by_role("region", name="Safety code")).to_contain_text(code)
    assert await violations(anna) == []
    await screenshots(anna, "meeting-encryption")
    await close_dialog(anna, panel)
    await expect(badge).to_be_focused()


async def test_sharing_a_screen(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    share = anna.get_by_role("button", name="Share screen", exact=True)
    await share.click()
    await expect(share).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await expect(anna.get_by_text("You are sharing your screen", exact=True)).to_be_visible()
    await anna.wait_for_function(
        "() => document.getElementById('presenter-video').videoWidth > 0", timeout=WAIT
    )
    stop = anna.get_by_role("button", name="Stop sharing", exact=True)
    await expect(stop).to_be_visible()

    # The viewers may put the shared screen into full screen.
    screen = ben.get_by_role("group", name="Screen of Anna", exact=True)
    await video_is_playing(ben, "Screen of Anna")
    full = screen.get_by_role("button", name="Full screen", exact=True)
    await expect(full).to_have_attribute("aria-pressed", "false")
    await full.click()
    await expect(full).to_have_attribute("aria-pressed", "true")
    assert await ben.evaluate("() => document.fullscreenElement?.dataset.kind") == "screen"
    await full.click()
    await expect(full).to_have_attribute("aria-pressed", "false")
    assert await violations(ben) == []
    assert await violations(anna) == []
    await screenshots(anna, "meeting-presenter")
    await screenshots(ben, "meeting-shared-screen")

    await stop.click()
    await expect(share).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    await expect(anna.get_by_text("You are sharing your screen")).to_be_hidden()
    await expect(share).to_be_focused()
    await expect(screen).to_have_count(0, timeout=WAIT)
