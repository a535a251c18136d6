"""The lobby, room passwords and moderation in Chromium, through Rathaus and a real Janus.

Rooms here are owned by a signed-in user (the moderator); everyone else joins as a guest.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest
from playwright.async_api import Page, expect

from tests.support.accounts_pages import fill_sign_in, forget_accounts, owned_room
from tests.support.browser import OpenPage
from tests.support.meeting_ui import (
    joined_as_owner,
    knock,
    more_action,
    more_button,
    open_waiting_room,
    start,
    state,
    waiting_room,
)
from tests.support.pages import WAIT, video_is_playing, violations
from tests.support.rooms import guest_link
from tests.support.screens import screenshots
from tests.support.server import RunningServer
from tests.support.waits import quiet_for


@pytest.fixture(autouse=True)
async def _no_accounts_left_behind(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


WAITING = "Please wait, a moderator will let you in."
NO_MODERATOR = "No moderator is here yet. You will be let in when one arrives."


moderator = joined_as_owner


async def guest(open_page: OpenPage, slug: str, name: str) -> Page:
    page = await open_page(f"/r/{slug}?lang=en")
    await start(page, name)
    await expect(page.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    return page


def tile(page: Page, name: str) -> Any:
    return page.locator("#grid").get_by_role("group", name=name, exact=True)


async def nothing_of_the_meeting(page: Page) -> None:
    """Waiting: no participants, no subscriptions or publications, no remote video."""
    s = await state(page)
    assert s["screen"] == "lobby"
    assert s["participants"] == [] and s["tiles"] == []
    assert s["subscriptions"] == [] and s["publishing"] == {}
    playing = await page.evaluate(
        "[...document.querySelectorAll('video')].filter((v) => v.srcObject).map((v) => v.id)"
    )
    assert playing in ([], ["lobby-video"]), playing


async def tile_action(page: Page, name: str, action: str) -> None:
    await tile(page, name).get_by_role("button", name=f"More actions for {name}").click()
    await tile(page, name).get_by_role("button", name=action, exact=True).click()


async def test_a_guest_waits_with_nothing_until_admitted(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, lobby=True)
    olga = await moderator(open_page, room)
    gustav = await knock(open_page, room.slug, "Gustav")
    await expect(gustav.get_by_text(WAITING)).to_be_visible()
    await expect(gustav.get_by_role("button", name="Leave")).to_be_visible()

    # The participants panel is closed: a notice says who knocks, with a way to the lobby.
    notice = olga.locator("#knock-notice")
    await expect(notice.locator("p")).to_have_text("Gustav is waiting to be let in.", timeout=WAIT)
    await expect(olga.get_by_role("status").first).to_have_text("Gustav is waiting to be let in.")
    await expect(tile(olga, "Gustav")).to_have_count(0)
    await quiet_for(1)  # nothing arrives later either
    await nothing_of_the_meeting(gustav)

    # WCAG 2.1 AA on the waiting screen and on the moderator's view with a knock
    assert await violations(gustav) == []
    assert await violations(olga) == []

    await olga.get_by_role("button", name="Show waiting room").click()
    entry = waiting_room(olga).get_by_role("group", name="Gustav")
    await expect(entry.get_by_role("button", name="Admit", exact=True)).to_be_focused()
    await expect(notice).to_be_hidden()
    assert await violations(olga) == []  # the panel with the waiting room
    await entry.get_by_role("button", name="Admit", exact=True).click()
    await expect(gustav.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    await expect(waiting_room(olga)).to_be_hidden()
    await video_is_playing(gustav, room.display_name)
    await video_is_playing(olga, "Gustav")


async def test_a_moderator_denies_entry(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, lobby=True)
    # back from the OpenID provider with an error: shown, and dropped from the address
    olga = await open_page(f"/r/{room.slug}?lang=en&signin_error=locked")
    await expect(olga.locator("#account-error")).to_have_text(
        "Too many attempts. Please wait a few minutes."
    )
    assert olga.url.endswith(f"/r/{room.slug}?lang=en")
    await olga.get_by_role("link", name="Sign in", exact=True).click()
    await fill_sign_in(olga, room.username, "not the password")
    await expect(
        olga.get_by_role("alert").filter(has_text="Wrong user name or password.")
    ).to_be_visible()
    await olga.close()
    olga = await moderator(open_page, room)
    dora = await knock(open_page, room.slug, "Dora")
    entry = (await open_waiting_room(olga)).get_by_role("group", name="Dora")
    await entry.get_by_role("button", name="Deny", exact=True).click()
    await expect(dora.get_by_text("A moderator did not let you in.")).to_be_visible(timeout=WAIT)
    await expect(dora.get_by_role("heading", name="You were not let in")).to_be_visible()
    await expect(waiting_room(olga)).to_be_hidden()
    assert (await state(olga))["participants"] == []


async def test_no_way_around_the_lobby(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, lobby=True)
    # Before any moderator is there: told so, and waiting
    gustav = await knock(open_page, room.slug, "Gustav")
    await expect(gustav.get_by_text(NO_MODERATOR)).to_be_visible()
    olga = await moderator(open_page, room)
    lobby = await open_waiting_room(olga)
    await expect(lobby.get_by_role("group", name="Gustav")).to_be_visible()
    await expect(gustav.get_by_text(WAITING)).to_be_visible(timeout=WAIT)

    # Reloading the waiting page knocks again (the old knock ends), still waiting
    await gustav.reload()
    await gustav.get_by_role("button", name="Join meeting").click()  # the name is remembered
    await expect(gustav.get_by_text(WAITING)).to_be_visible(timeout=WAIT)
    await quiet_for(0.5)  # nothing of the meeting arrives after the new knock either
    await nothing_of_the_meeting(gustav)
    await expect(waiting_room(olga).get_by_role("group", name="Gustav")).to_have_count(1)

    # Admitted; a second tab of the same browser must knock too
    await waiting_room(olga).get_by_role("button", name="Admit", exact=True).click()
    await expect(gustav.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    second = await gustav.context.new_page()
    await second.goto(f"{server.http}/r/{room.slug}?lang=en")
    await start(second, "Gustav")
    await expect(second.get_by_text(WAITING)).to_be_visible(timeout=WAIT)
    await nothing_of_the_meeting(second)
    await expect(waiting_room(olga).get_by_role("group", name="Gustav")).to_have_count(1)
    # leaving the lobby ends the knock
    await second.get_by_role("button", name="Leave").click()
    await expect(waiting_room(olga)).to_be_hidden(timeout=WAIT)


async def test_the_room_password(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, password="Sesam öffne dich")
    page = await open_page(f"/r/{room.slug}?lang=en")
    await start(page, "Paul")
    alert = page.locator("#prejoin-error")
    await expect(alert).to_have_text("This room needs a password.", timeout=WAIT)
    field = page.get_by_label("Room password")
    await expect(field).to_be_focused()
    await start(page, "Paul", "Sesam")
    await expect(alert).to_have_text("The room password is wrong.", timeout=WAIT)
    await expect(field).to_have_attribute("aria-invalid", "true")
    await start(page, "Paul", "Sesam öffne dich")
    await expect(page.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)

    guesser = await open_page(f"/r/{room.slug}?lang=en")
    button = guesser.get_by_role("button", name="Join meeting")
    await start(guesser, "Gerd")
    await expect(guesser.get_by_label("Room password")).to_be_visible(timeout=WAIT)
    for attempt in range(5):
        await start(guesser, "Gerd", f"guess {attempt}")
        await expect(button).to_be_enabled(timeout=WAIT)
        await expect(guesser.locator("#prejoin-error")).to_have_text("The room password is wrong.")
    await start(guesser, "Gerd", "Sesam öffne dich")
    await expect(guesser.locator("#prejoin-error")).to_have_text(
        "Too many wrong passwords. Please wait a few minutes.", timeout=WAIT
    )


async def test_a_guest_link_opens_a_members_only_room(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, guests_allowed=False)
    olga = await moderator(open_page, room)
    plain = await open_page(f"/r/{room.slug}?lang=en")
    await start(plain, "Gabi")
    await expect(plain.locator("#prejoin-error")).to_have_text(
        "Only signed-in staff may join this room. Please sign in.", timeout=WAIT
    )
    expired = await guest_link(server, room.slug, now=time.time() - 7200)
    late = await open_page(f"/r/{room.slug}?{urlencode({'invite': expired, 'lang': 'en'})}")
    await start(late, "Gabi")
    await expect(late.locator("#prejoin-error")).to_have_text(
        "This guest link has expired. Please ask for a new one.", timeout=WAIT
    )
    await screenshots(late, "guest-link-expired")
    token = await guest_link(server, room.slug, hours=24)
    page = await open_page(f"/r/{room.slug}?{urlencode({'invite': token, 'lang': 'en'})}")
    await start(page, "Gabi")
    await expect(page.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    assert (await state(page))["role"] == "guest"
    await video_is_playing(olga, "Gabi")
    await screenshots(page, "guest-link-meeting")


async def test_removed_with_and_without_a_bar(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server)
    olga = await moderator(open_page, room)
    rita = await guest(open_page, room.slug, "Rita")
    rolf = await guest(open_page, room.slug, "Rolf")

    await tile_action(olga, "Rita", "Remove")
    dialog = olga.get_by_role("dialog", name="Remove Rita from the meeting?")
    await dialog.get_by_role("checkbox", name="Do not let them back in").check()
    await dialog.get_by_role("button", name="Remove", exact=True).click()
    await expect(rita.get_by_text("You were removed from the meeting.")).to_be_visible(timeout=WAIT)
    await expect(tile(olga, "Rita")).to_have_count(0, timeout=WAIT)
    await rita.get_by_role("button", name="Rejoin").click()
    await expect(rita.locator("#prejoin-error")).to_have_text(
        "You were removed from this meeting and cannot join it again.", timeout=WAIT
    )

    await tile_action(olga, "Rolf", "Remove")
    dialog = olga.get_by_role("dialog", name="Remove Rolf from the meeting?")
    await dialog.get_by_role("button", name="Remove", exact=True).click()
    await expect(rolf.get_by_text("You were removed from the meeting.")).to_be_visible(timeout=WAIT)
    await rolf.get_by_role("button", name="Rejoin").click()
    await expect(rolf.get_by_role("button", name="Leave meeting")).to_be_visible(timeout=WAIT)
    await expect(tile(olga, "Rolf")).to_have_count(1, timeout=WAIT)


async def test_mute_and_mute_all(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server)
    olga = await moderator(open_page, room)
    max_ = await guest(open_page, room.slug, "Max")
    mic = max_.get_by_role("button", name="Microphone")
    await expect(mic).to_have_attribute("aria-pressed", "true")

    await tile_action(olga, "Max", "Mute")
    await expect(mic).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    await expect(max_.get_by_text("A moderator muted your microphone.")).to_be_visible()
    await expect(tile(olga, "Max").get_by_role("img", name="Microphone muted")).to_be_visible(
        timeout=WAIT
    )

    await mic.click()  # only the owner switches it on again
    await expect(mic).to_have_attribute("aria-pressed", "true")
    await more_action(olga, "Mute all")
    await expect(mic).to_have_attribute("aria-pressed", "false", timeout=WAIT)
    own = olga.get_by_role("button", name="Microphone")
    await expect(own).to_have_attribute("aria-pressed", "true")


async def test_lock_and_end_the_meeting(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server)
    # Lena first: see test_ending_by_the_first_one_in for why the order matters today
    lena = await guest(open_page, room.slug, "Lena")
    olga = await moderator(open_page, room)

    lock = await more_action(olga, "Lock meeting")  # a toggle: "More" stays open
    await expect(lock).to_have_attribute("aria-pressed", "true", timeout=WAIT)
    await expect(lena.get_by_text("Meeting locked", exact=True)).to_be_visible()
    late = await open_page(f"/r/{room.slug}?lang=en")
    await start(late, "Lutz")
    await expect(late.locator("#prejoin-error")).to_have_text(
        "The meeting is locked: nobody new may join right now.", timeout=WAIT
    )

    await more_action(olga, "End meeting for all")
    dialog = olga.get_by_role("dialog", name="End the meeting for everyone?")
    await expect(dialog).to_be_visible()
    await olga.keyboard.press("Escape")  # cancels; "More" closed when its entry was chosen
    await expect(dialog).to_be_hidden()
    await expect(more_button(olga)).to_be_focused()
    await more_action(olga, "End meeting for all")
    await dialog.get_by_role("button", name="End meeting for all").click()
    for page in (olga, lena):
        await expect(page.get_by_text("The meeting was ended.")).to_be_visible(timeout=WAIT)


async def test_ending_by_the_first_one_in(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server)
    olga = await moderator(open_page, room)
    lena = await guest(open_page, room.slug, "Lena")
    await more_action(olga, "End meeting for all")
    dialog = olga.get_by_role("dialog", name="End the meeting for everyone?")
    await dialog.get_by_role("button", name="End meeting for all").click()
    for page in (olga, lena):
        await expect(page.get_by_text("The meeting was ended.")).to_be_visible(timeout=5000)
