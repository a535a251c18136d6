"""The meeting screen's controls in Chromium, as a person reaches them: the toolbar's "More" popup
and its entries, the "Participants" panel with the waiting room at its top, and the dialogs
("Meeting info", "Encryption"); joining as a room's signed-in owner, or knocking at its lobby.

Names are the English ones unless a caller passes the German (``more="Mehr"``)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.support.accounts_pages import OwnedRoom, sign_in
from tests.support.browser import OpenPage
from tests.support.pages import WAIT

Box = dict[str, float]


def more_button(page: Page, more: str = "More") -> Locator:
    return page.get_by_role("toolbar").get_by_role("button", name=more, exact=True)


async def open_more(page: Page, more: str = "More") -> Locator:
    """The "More" popup, opened if it is not (with a click, as a person would)."""
    button = more_button(page, more)
    if await button.get_attribute("aria-expanded") != "true":
        await button.click()
    popup = page.get_by_role("group", name=more, exact=True)
    await expect(popup).to_be_visible()
    return popup


async def more_action(page: Page, name: str, more: str = "More") -> Locator:
    """Clicks the entry ``name`` of "More" (opening it first); the entry, for further checks
    (a toggle keeps the popup open, anything else closes it)."""
    entry = (await open_more(page, more)).get_by_role("button", name=name, exact=True)
    await entry.click()
    return entry


def participants_toggle(page: Page, label: str = "Participants") -> Locator:
    return page.get_by_role("toolbar").get_by_role("button", name=label, exact=True)


def participants_panel(page: Page, label: str = "Participants") -> Locator:
    return page.get_by_role("region", name=label, exact=True)


async def open_participants(page: Page, label: str = "Participants") -> Locator:
    toggle = participants_toggle(page, label)
    if await toggle.get_attribute("aria-expanded") != "true":
        await toggle.click()
    panel = participants_panel(page, label)
    await expect(panel).to_be_visible()
    return panel


def waiting_room(page: Page) -> Locator:
    return page.get_by_role("region", name="Waiting room")


async def open_waiting_room(page: Page) -> Locator:
    """The waiting room, at the top of the participants panel (opened if it is not)."""
    await open_participants(page)
    return waiting_room(page)


async def open_dialog(page: Page, entry: str, more: str = "More") -> Locator:
    """A dialog opened from "More" ("Meeting info", "Encryption"), named like its entry."""
    await more_action(page, entry, more)
    dialog = page.get_by_role("dialog", name=entry, exact=True)
    await expect(dialog).to_be_visible()
    return dialog


async def close_dialog(page: Page, dialog: Locator) -> None:
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()


async def box(locator: Locator) -> Box:
    found = await locator.bounding_box()
    assert found is not None, f"{locator} is not shown"
    return {"x": found["x"], "y": found["y"], "width": found["width"], "height": found["height"]}


def overlap(a: Box, b: Box) -> bool:
    """Whether two boxes share any area (touching edges do not count)."""
    return (
        min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]) > 0.5
        and min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]) > 0.5
    )


async def tile_boxes(page: Page) -> list[Box]:
    """The shown part of every video tile (what scrolls out of its area is not shown)."""
    found: list[Box] = await page.evaluate(
        """() => [...document.querySelectorAll('.tile')].filter((t) => t.checkVisibility())
            .map((t) => {
                const r = t.getBoundingClientRect();
                const a = t.closest('.participants, .stage').getBoundingClientRect();
                const x = Math.max(r.left, a.left), y = Math.max(r.top, a.top);
                return {x, y, width: Math.min(r.right, a.right) - x,
                        height: Math.min(r.bottom, a.bottom) - y};
            }).filter((b) => b.width > 0 && b.height > 0)"""
    )
    return found


async def toolbar_layout(page: Page) -> tuple[Box, list[str], set[int]]:
    """The toolbar's box, its buttons' names in order and their rows (the tops seen)."""
    toolbar = page.get_by_role("toolbar")
    names: list[str] = []
    tops: set[int] = set()
    for button in await toolbar.get_by_role("button").all():
        names.append(str(await button.evaluate("(b) => b.querySelector('.label').textContent")))
        tops.add(round((await box(button))["y"]))
    return await box(toolbar), names, tops


async def joined_as_owner(open_page: OpenPage, room: OwnedRoom) -> Page:
    """The room's owner signs in on the pre-join screen and joins (a moderator)."""
    page = await open_page(f"/r/{room.slug}?lang=en")
    await sign_in(page, room.username)
    await expect(page.get_by_text(f"Signed in as {room.display_name}", exact=True)).to_be_visible()
    await expect(page.get_by_role("textbox", name="Your name")).to_have_value(room.display_name)
    await page.get_by_role("button", name="Join meeting").click()
    await expect(page.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    assert (await state(page))["role"] == "moderator"
    return page


async def start(page: Page, name: str, password: str | None = None) -> None:
    """On the pre-join screen: the name (and password), then "Join meeting"."""
    await page.get_by_role("textbox", name="Your name").fill(name)
    if password is not None:
        await page.get_by_label("Room password").fill(password)
    await page.get_by_role("button", name="Join meeting").click()


async def knock(open_page: OpenPage, slug: str, name: str) -> Page:
    """A guest knocks at the room's lobby, and waits."""
    page = await open_page(f"/r/{slug}?lang=en")
    await start(page, name)
    await expect(page.get_by_role("heading", name="Waiting to be let in")).to_be_visible(
        timeout=WAIT
    )
    return page


async def state(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate("window.rathaus.state()")
    return result
