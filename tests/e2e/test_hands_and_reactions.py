"""Raised hands and reactions in Chromium and in Firefox, through Rathaus and a real Janus.

In these ad-hoc rooms the first one in (Anna, Fiona) moderates; the others are guests.
"""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page, expect

from tests.support.browser import OpenPage
from tests.support.firefox import FirefoxPage
from tests.support.firefox_pages import TILE, join_in_firefox
from tests.support.pages import WAIT, join, room, violations
from tests.support.screens import PHONE, screenshots


def tile(page: Page, name: str) -> Any:
    return page.locator("#grid").get_by_role("group", name=name, exact=True)


def hand(page: Page, name: str, position: int) -> Any:
    return tile(page, name).get_by_role("img", name=f"Hand raised ({position})", exact=True)


def status(page: Page) -> Any:
    """The page's live region (polite), where announcements go."""
    return page.locator("#status")


async def test_hands_go_up_in_order_and_come_down(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")  # the moderator
    ben = await join(open_page, name, "Ben")
    ben_hand = ben.get_by_role("button", name="Raise hand", exact=True)
    anna_hand = anna.get_by_role("button", name="Raise hand", exact=True)
    await expect(ben_hand).to_have_attribute("aria-pressed", "false")

    await ben_hand.click()
    await expect(ben_hand).to_have_attribute("aria-pressed", "true")
    await expect(hand(anna, "Ben", 1)).to_be_visible(timeout=WAIT)
    await expect(hand(anna, "Ben", 1)).to_contain_text("1")  # the order, not only for AT
    await expect(status(anna)).to_have_text("Ben raised their hand.")  # told to moderators
    await expect(hand(ben, "Ben", 1)).to_be_visible()  # on one's own tile too

    await anna_hand.click()
    await expect(hand(ben, "Anna", 2)).to_be_visible(timeout=WAIT)
    await expect(status(ben)).not_to_have_text("Anna raised their hand.")  # Ben moderates not

    carla = await join(open_page, name, "Carla")  # a late joiner sees the queue
    await expect(hand(carla, "Ben", 1)).to_be_visible(timeout=WAIT)
    await expect(hand(carla, "Anna", 2)).to_be_visible()

    await ben_hand.click()  # Ben lowers his own; Anna moves up
    await expect(ben_hand).to_have_attribute("aria-pressed", "false")
    await expect(hand(ben, "Anna", 1)).to_be_visible(timeout=WAIT)
    await expect(tile(anna, "Ben").locator(".hand")).to_be_hidden()

    await ben_hand.click()  # up again, now behind Anna
    await expect(hand(anna, "Ben", 2)).to_be_visible(timeout=WAIT)
    await tile(anna, "Ben").get_by_role("button", name="More actions for Ben").click()
    await tile(anna, "Ben").get_by_role("button", name="Lower hand", exact=True).click()
    await expect(ben_hand).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    await expect(status(ben)).to_have_text("A moderator lowered your hand.")
    await expect(status(carla)).to_have_text("Anna lowered the hand of Ben.")
    await expect(tile(carla, "Ben").locator(".hand")).to_be_hidden()
    await expect(hand(carla, "Anna", 1)).to_be_visible()

    # A guest has no "Lower hand": moderators only (the server refuses others with forbidden).
    await tile(ben, "Anna").get_by_role("button", name="More actions for Anna").click()
    menu = tile(ben, "Anna").locator(".tile-menu")
    assert await menu.get_by_role("button").all_inner_texts() == ["Pin"]
    await ben.keyboard.press("Escape")
    await anna.get_by_role("button", name="Leave meeting").click()  # leaving takes the hand down
    await expect(tile(carla, "Anna")).to_have_count(0, timeout=WAIT)
    assert (await carla.evaluate("window.rathaus.state()"))["hands"] == []


async def test_a_reaction_floats_over_the_senders_tile_for_everyone(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await expect(tile(anna, "Ben")).to_have_count(1, timeout=WAIT)
    reactions = anna.get_by_role("button", name="Reactions", exact=True)
    popup = anna.get_by_role("group", name="Reactions", exact=True)

    # By keyboard: the popup opens on the first emoji; Escape closes it and returns the focus.
    await reactions.focus()
    await anna.keyboard.press("Enter")
    await expect(reactions).to_have_attribute("aria-expanded", "true")
    await expect(popup.get_by_role("button", name="Thumbs up")).to_be_focused()
    assert await violations(anna) == []  # the open popup too
    await anna.keyboard.press("Escape")
    await expect(popup).to_be_hidden()
    await expect(reactions).to_be_focused()
    await expect(reactions).to_have_attribute("aria-expanded", "false")

    await anna.keyboard.press("Enter")
    await anna.keyboard.press("ArrowRight")
    await expect(popup.get_by_role("button", name="Applause")).to_be_focused()
    await anna.keyboard.press("Enter")
    await expect(popup).to_be_hidden()
    await expect(reactions).to_be_focused()

    floating = tile(ben, "Anna").locator(".reaction-float")
    await expect(floating).to_have_text("👏", timeout=WAIT)
    await expect(floating).to_have_attribute("aria-hidden", "true")  # said in words instead:
    await expect(status(ben)).to_have_text("Anna reacts: Applause")
    await expect(tile(anna, "Anna").locator(".reaction-float")).to_have_count(1)  # the sender's
    await expect(status(anna)).not_to_have_text("Anna reacts: Applause")
    await expect(floating).to_have_count(0, timeout=5_000)  # and it goes again

    # With reduced motion the reaction stands still (rathaus.css switches animations off).
    await ben.emulate_media(reduced_motion="reduce")
    await popup_choice(anna, "Heart")
    await expect(floating).to_have_text("❤️", timeout=WAIT)
    assert await floating.evaluate("el => getComputedStyle(el).animationName") == "none"

    # Too many at once: the server refuses the rest, and the sender hears why (briefly).
    await anna.evaluate(
        """() => { for (let i = 0; i < 8; i++) {
            document.getElementById('reactions-button').click();
            document.querySelector('#reactions-popup [data-reaction=party]').click();
        } }"""
    )
    await expect(status(anna)).to_have_text(
        "Too many reactions at once. Please wait a moment.", timeout=WAIT
    )
    await expect(anna.locator("#notice")).to_be_hidden()  # no lasting notice for it


async def popup_choice(page: Page, label: str) -> None:
    await page.get_by_role("button", name="Reactions", exact=True).click()
    await page.get_by_role("group", name="Reactions").get_by_role("button", name=label).click()


async def test_german_names_and_the_phone_toolbar(open_page: OpenPage) -> None:
    name = room()
    dora = await join(open_page, name, "Dora", lang="de")
    emil = await join(open_page, name, "Emil", lang="de")
    await emil.get_by_role("button", name="Hand heben", exact=True).click()
    await expect(hand_de(dora, "Emil", 1)).to_be_visible(timeout=WAIT)
    await expect(status(dora)).to_have_text("Emil hat die Hand gehoben.")
    await emil.get_by_role("button", name="Reaktionen", exact=True).click()
    await (
        emil.get_by_role("group", name="Reaktionen")
        .get_by_role("button", name="Daumen hoch")
        .click()
    )
    await expect(status(dora)).to_have_text("Emil reagiert: Daumen hoch", timeout=WAIT)
    assert await violations(emil) == []

    # On a phone the toolbar shows icons only, in one row, and keeps every button's name.
    await emil.set_viewport_size(PHONE)
    toolbar = emil.get_by_role("toolbar")
    buttons = toolbar.get_by_role("button")
    tops = {round((await b.bounding_box() or {"y": -1})["y"]) for b in await buttons.all()}
    assert len(tops) == 1, f"the guest's toolbar wraps at {PHONE['width']} px: {tops}"
    for label in ("Mikrofon", "Kamera", "Hand heben", "Reaktionen", "Besprechung verlassen"):
        await expect(toolbar.get_by_role("button", name=label, exact=True)).to_be_visible()
    assert await violations(emil) == []


def hand_de(page: Page, name: str, position: int) -> Any:
    return tile(page, name).get_by_role("img", name=f"Hand gehoben ({position})", exact=True)


async def test_screenshots_of_a_raised_hand_and_a_reaction(open_page: OpenPage) -> None:
    name = room()
    anna = await join(open_page, name, "Anna")
    ben = await join(open_page, name, "Ben")
    await ben.get_by_role("button", name="Raise hand", exact=True).click()
    await anna.get_by_role("button", name="Raise hand", exact=True).click()
    await expect(hand(ben, "Anna", 2)).to_be_visible(timeout=WAIT)
    await ben.emulate_media(reduced_motion="reduce")  # the reaction fully shown, standing still
    await popup_choice(anna, "Celebration")
    await expect(tile(ben, "Anna").locator(".reaction-float")).to_have_count(1, timeout=WAIT)
    await screenshots(ben, "meeting-hand-and-reaction")
    await ben.get_by_role("button", name="Reactions", exact=True).click()
    await screenshots(ben, "meeting-reactions-open")
    await screenshots(anna, "meeting-moderator-toolbar")


async def test_hands_and_reactions_in_firefox(firefox: FirefoxPage, open_page: OpenPage) -> None:
    name = room()
    await join_in_firefox(firefox, name, "Fiona")  # first in: she moderates
    chris = await join(open_page, name, "Chris")
    chris_hand = chris.get_by_role("button", name="Raise hand", exact=True)
    await chris_hand.click()
    await firefox.wait_for(
        TILE + "const h = tile?.querySelector('.hand');"
        "return h && !h.hidden && h.getAttribute('aria-label') === arguments[1];",
        "Chris",
        "Hand raised (1)",
        what="Chris's raised hand in Firefox",
    )
    await firefox.wait_for(
        "return document.getElementById('status').textContent === 'Chris raised their hand.';",
        what="the announcement of Chris's hand",
    )
    label = await firefox.js("return document.getElementById('hand-button').textContent.trim()")
    assert label == "Raise hand"
    await firefox.click("#hand-button")
    await expect(hand(chris, "Fiona", 2)).to_be_visible(timeout=WAIT)

    await firefox.click("#reactions-button")
    await firefox.wait_for(
        "return document.activeElement?.getAttribute('aria-label') === 'Thumbs up';",
        what="the focus on the first reaction",
    )
    await firefox.click("#reactions-popup [data-reaction=thumbs_up]")
    await expect(tile(chris, "Fiona").locator(".reaction-float")).to_have_text("👍", timeout=WAIT)
    await expect(status(chris)).to_have_text("Fiona reacts: Thumbs up")
    await firefox.wait_for(
        TILE + "return tile?.querySelector('.reaction-float')?.textContent === '👍';",
        "Fiona",
        what="Fiona's own reaction over her tile in Firefox",
    )
    # Lowering Chris's hand from Firefox, the moderator's way.
    await firefox.click(f"[data-participant-id='{await participant_id(chris)}'] .more")
    await firefox.wait_for(
        "return [...document.querySelectorAll('.tile-menu button')]"
        ".some((b) => b.textContent === 'Lower hand' && b.checkVisibility());",
        what='the tile action "Lower hand"',
    )
    await firefox.js(
        "[...document.querySelectorAll('.tile-menu button')]"
        ".find((b) => b.textContent === 'Lower hand').click();"
    )
    await expect(chris_hand).to_have_attribute("aria-pressed", "false", timeout=WAIT)


async def participant_id(page: Page) -> str:
    return str((await page.evaluate("window.rathaus.state()"))["participantId"])
