"""The pages around the meeting, as a member and a guest use them: the start page, the sign-in
page, the member's home ("New meeting", "My rooms") and a room's settings (lobby, guest links)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect

from tests.support.accounts_pages import fill_sign_in, forget_accounts, member
from tests.support.browser import OpenPage
from tests.support.pages import WAIT, violations
from tests.support.rooms import PASSWORD
from tests.support.screens import screenshots
from tests.support.server import RunningServer


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


def console_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


async def signed_in_home(open_page: OpenPage, username: str) -> Page:
    """From the start page's "Sign in" link, through the sign-in page, home."""
    page = await open_page("/?lang=en")
    await page.get_by_role("link", name="Sign in").click()
    await fill_sign_in(page, username)
    await expect(page.get_by_role("heading", name="Your meetings")).to_be_visible()
    return page


async def room_settings(home: Page, room_name: str) -> None:
    item = home.get_by_role("listitem").filter(has_text=room_name)
    await item.get_by_role("button", name="Room settings").click()
    await expect(home.get_by_role("heading", name="Room settings")).to_be_visible()
    await expect(home.get_by_label("Room name")).to_have_value(room_name)


async def test_a_member_makes_a_room_with_a_lobby_and_a_guest_link_that_can_be_revoked(
    open_page: OpenPage, server: RunningServer
) -> None:
    username = await member(server, "Anna Amt")
    start = await open_page("/?lang=en")
    await expect(start.get_by_role("heading", name="Join a meeting")).to_be_visible()
    await screenshots(start, "start")
    await start.get_by_role("link", name="Sign in").click()
    await screenshots(start, "sign-in")
    await fill_sign_in(start, username)
    home = start
    await expect(home.get_by_role("heading", name="Your meetings")).to_be_visible()
    await expect(home.get_by_text("You have no rooms yet.")).to_be_visible()

    # New meeting: a room of hers, opened at once
    await home.get_by_role("button", name="New meeting").click()
    await expect(home.get_by_role("heading", name="Join the meeting")).to_be_visible()
    await expect(home.locator("#room-name")).to_have_text("Room: Anna Amt's meeting")
    await expect(home.get_by_text("Signed in as Anna Amt")).to_be_visible()
    slug = home.url.split("/r/")[1].split("?")[0]

    # ... listed under My rooms with its link
    await home.get_by_role("link", name="Rathaus").click()  # the installation's name: home
    item = home.get_by_role("listitem").filter(has_text="Anna Amt's meeting")
    await expect(item).to_contain_text(f"{server.http}/r/{slug}")
    await screenshots(home, "home")

    # Settings: members only, with a lobby
    await room_settings(home, "Anna Amt's meeting")
    await home.get_by_label("Room name").fill("Bauausschuss")
    await home.get_by_label("Guests without an account may take part").uncheck()
    await home.get_by_label("Lobby").check()
    await home.get_by_role("button", name="Save").click()
    await expect(home.get_by_role("status")).to_have_text("Saved.")
    room = await server.services.rooms.get(slug)
    assert (room.name, room.guests_allowed, room.lobby) == ("Bauausschuss", False, True)

    # A guest link, copied
    await home.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await home.get_by_label("Valid for").select_option(label="1 day")
    await home.get_by_role("button", name="Create guest link").click()
    await expect(home.get_by_role("status")).to_have_text("The guest link is created.")
    links = home.locator("#links-list").get_by_role("listitem")
    await expect(links).to_have_count(1)
    await links.get_by_role("button", name="Copy link").click()
    await expect(home.get_by_role("status")).to_have_text("Link copied.")
    link = await home.evaluate("navigator.clipboard.readText()")
    assert link.startswith(f"{server.http}/r/{slug}?invite=")
    await screenshots(home, "room-settings")

    # The guest with the link reaches the lobby of the members-only room
    guest = await open_page(link.removeprefix(server.http) + "&lang=en")
    await guest.get_by_role("textbox", name="Your name").fill("Gabi Gast")
    await guest.get_by_role("button", name="Join meeting").click()
    await expect(guest.get_by_role("heading", name="Waiting to be let in")).to_be_visible(
        timeout=WAIT
    )
    await guest.close()

    # Revoked, the link no longer opens the room
    await links.get_by_role("button", name="Revoke").click()
    await expect(home.get_by_role("status")).to_have_text(
        "The guest link is revoked and no longer works."
    )
    await expect(links).to_have_count(0)
    late = await open_page(link.removeprefix(server.http) + "&lang=en")
    await late.get_by_role("textbox", name="Your name").fill("Gabi Gast")
    await late.get_by_role("button", name="Join meeting").click()
    await expect(late.locator("#prejoin-error")).to_have_text(
        "This guest link has been withdrawn. Please ask for a new one.", timeout=WAIT
    )


async def test_roles_and_the_password_are_set_on_the_settings_page(
    open_page: OpenPage, server: RunningServer
) -> None:
    owner = await member(server, "Olga Owner")
    colleague = await member(server, "Carl Kollege")
    home = await signed_in_home(open_page, owner)
    await home.get_by_role("button", name="New meeting").click()
    await expect(home.get_by_role("heading", name="Join the meeting")).to_be_visible()
    slug = home.url.split("/r/")[1].split("?")[0]
    await home.goto(f"{server.http}/r/{slug}/settings?lang=en")
    await expect(home.get_by_text("The room has no password.")).to_be_visible()

    await home.get_by_label("New room password").fill("geheim 42")
    await home.get_by_role("button", name="Set password").click()
    await expect(home.get_by_role("status")).to_have_text("The room password is set.")
    room = await server.services.rooms.get(slug)
    assert await server.services.rooms.check_password(room, "geheim 42")

    await home.get_by_label("Your colleague's user name").fill(colleague)
    await home.get_by_label("Role", exact=True).select_option("co_owner")
    await home.get_by_role("button", name="Give role").click()
    roles = home.locator("#roles-list").get_by_role("listitem")
    await expect(roles.filter(has_text="Carl Kollege")).to_contain_text("Co-owner")
    await home.get_by_label("Your colleague's user name").fill("nobody-here")
    await home.get_by_role("button", name="Give role").click()
    await expect(home.get_by_role("alert")).not_to_be_empty()

    # The room shows its password field up front now, and the colleague sees it at home
    await home.goto(f"{server.http}/r/{slug}?lang=en")
    await expect(home.get_by_label("Room password")).to_be_visible()
    other = await signed_in_home(open_page, colleague)
    item = other.get_by_role("listitem").filter(has_text="Olga Owner's meeting")
    await expect(item).to_contain_text("Co-owner")

    await home.goto(f"{server.http}/r/{slug}/settings?lang=en")
    await roles.filter(has_text="Carl Kollege").get_by_role("button").click()
    await expect(roles.filter(has_text="Carl Kollege")).to_have_count(0)
    await other.reload()
    await expect(other.get_by_text("You have no rooms yet.")).to_be_visible()


async def test_settings_are_for_the_rooms_owners_only(
    open_page: OpenPage, server: RunningServer
) -> None:
    owner = await member(server, "Olga Owner")
    stranger = await member(server, "Sven Fremd")
    home = await signed_in_home(open_page, owner)
    await home.get_by_role("button", name="New meeting").click()
    await expect(home.get_by_role("heading", name="Join the meeting")).to_be_visible()
    settings = home.url.split("?")[0] + "/settings?lang=en"

    # not signed in: to the sign-in page, and back after it
    anonymous = await open_page(settings.removeprefix(server.http))
    await fill_sign_in(anonymous, stranger)
    await expect(anonymous.get_by_role("heading", name="Room settings")).to_be_visible()
    await expect(anonymous.get_by_role("alert")).to_have_text(
        "Only a room's owners, co-owners and administrators change its settings."
    )
    await expect(anonymous.get_by_label("Room name")).to_be_hidden()


async def test_no_console_errors_on_a_normal_visit(
    open_page: OpenPage, server: RunningServer
) -> None:
    """Not signed in, nothing on the start page or the room page fails (no 401 asked for)."""
    page = await open_page("/?lang=en")
    errors = console_errors(page)
    await page.reload()
    await page.get_by_label("Link or room name").fill("Sprechstunde")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Join the meeting")).to_be_visible()
    await expect(page.locator("#camera-select option").first).to_be_attached()
    assert errors == []


async def test_a_pasted_meeting_link_keeps_its_guest_link(
    open_page: OpenPage, server: RunningServer
) -> None:
    page = await open_page("/?lang=en")
    await page.get_by_label("Link or room name").fill(
        "https://rathaus.example/r/buergerbuero?invite=abc.def"
    )
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("heading", name="Join the meeting")).to_be_visible()
    assert page.url.endswith("/r/buergerbuero?lang=en&invite=abc.def")


@pytest.mark.parametrize("lang", ["de", "en"])
async def test_the_new_pages_meet_wcag_21_aa(
    open_page: OpenPage, server: RunningServer, lang: str
) -> None:
    username = await member(server, "Anna Amt")
    page = await open_page(f"/signin?lang={lang}")
    assert await violations(page) == [], "sign-in"
    await page.locator("#username-input").fill(username)
    await page.locator("#password-input").fill("wrong")
    await page.locator("#signin-button").click()
    await expect(page.locator("#signin-error")).not_to_be_empty()
    assert await violations(page) == [], "sign-in with an error"
    await page.locator("#password-input").fill(PASSWORD)
    await page.locator("#signin-button").click()
    await expect(page.locator("#rooms-empty")).to_be_visible()
    assert await violations(page) == [], "home, no rooms"
    await page.locator("#new-meeting-button").click()
    await expect(page.locator("#prejoin")).to_be_visible()
    await page.goto(f"{server.http}/?lang={lang}")
    await expect(page.locator("#rooms-list li")).to_have_count(1)
    assert await violations(page) == [], "home"
    await page.locator("#rooms-list li button").nth(1).click()
    await expect(page.locator("#room-name-input")).not_to_have_value("")
    await page.locator("#link-create").click()
    await expect(page.locator("#links-list li")).to_have_count(1)
    assert await violations(page) == [], "room settings"
