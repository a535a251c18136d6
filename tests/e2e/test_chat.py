"""The room's chat in Chromium, as two members use it: end-to-end encrypted with MLS (real
ts-mls in both browsers), the server holding only ciphertext, a second device of the same
member joining by itself and reading what comes after, and the chat beside the meeting."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import func, select

from rathaus.chat import mls_wire
from rathaus.db.models import ChatDeviceRow, ChatEventRow, ChatGroupRow, ChatKeyPackageRow
from tests.support import chat
from tests.support.accounts_pages import (
    fill_sign_in,
    forget_accounts,
    member,
    owned_room,
)
from tests.support.browser import OpenPage, poll
from tests.support.chat_pages import message_with, messages, room_page
from tests.support.logs import server_log
from tests.support.pages import violations
from tests.support.rooms import PASSWORD
from tests.support.screens import screenshots
from tests.support.server import RunningServer

GREETING = "Grüß Gott, Mia! Die Vorlage ist fertig."
ANSWER = "Danke, Olga.\nIch sehe sie mir heute an."
LATER = "Noch etwas für das zweite Gerät"


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def key_packages_of(server: RunningServer, user_id: int) -> int:
    """How many key packages of the user's devices wait on the server."""
    async with server.services.chat._sessions() as session:  # the test reads the database
        found = await session.scalar(
            select(func.count())
            .select_from(ChatKeyPackageRow)
            .join(ChatDeviceRow, ChatDeviceRow.id == ChatKeyPackageRow.device_id)
            .where(ChatDeviceRow.user_id == user_id)
        )
    return int(found or 0)


async def test_two_members_chat_end_to_end_encrypted(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")

    frames: list[str] = []
    with server_log() as log:
        olga = await room_page(open_page, room.slug, room.username, frames)
        await expect(olga.get_by_text("No messages yet. Write the first one.")).to_be_visible()
        mia = await room_page(open_page, room.slug, mia_name, frames)
        await chat_between(server, olga, mia, room.slug, frames)
    assert frames, "no WebSocket frames recorded"
    lines = [record.getMessage() for record in log]
    for text in (GREETING, "Ich sehe sie mir heute an"):
        assert not any(text in frame for frame in frames), "plain text on the wire"
        assert not any(text in line for line in lines), "plain text in the log"

    # Olga's second device (another browser profile) joins by itself and reads what follows;
    # what came before shows as unreadable there, never as silently missing.
    second = await room_page(open_page, room.slug, room.username)
    older = second.get_by_text("Older messages cannot be read on this device")
    await expect(older).to_be_visible(timeout=15_000)
    await mia.get_by_role("textbox", name="Message").fill(LATER)
    await mia.get_by_role("textbox", name="Message").press("Enter")
    await expect(messages(second).last).to_contain_text(LATER)
    await expect(messages(olga).last).to_contain_text(LATER)
    assert GREETING not in await second.get_by_role("log", name="Messages").inner_text()

    # A reload keeps what this device read (MLS cannot decrypt a message twice).
    await olga.reload()
    await expect(olga.get_by_role("log", name="Messages")).to_contain_text(GREETING)
    await expect(messages(olga)).to_have_count(3)


async def chat_between(
    server: RunningServer, olga: Page, mia: Page, slug: str, frames: list[str]
) -> None:
    """Olga greets, Mia answers; the server holds only ciphertext."""

    # Enter sends
    await olga.get_by_role("textbox", name="Message").fill(GREETING)
    await olga.get_by_role("textbox", name="Message").press("Enter")
    await expect(messages(olga).last).to_contain_text(GREETING)
    await expect(messages(mia).last).to_contain_text(GREETING)
    await expect(messages(mia).last).to_contain_text("Olga Owner")
    await expect(olga.get_by_role("textbox", name="Message")).to_have_value("")

    # Shift+Enter makes a new line; the button sends
    composer = mia.get_by_role("textbox", name="Message")
    await composer.fill("Danke, Olga.")
    await composer.press("Shift+Enter")
    await composer.press_sequentially("Ich sehe sie mir heute an.")
    await mia.get_by_role("button", name="Send").click()
    await expect(messages(olga).last.locator(".message-text")).to_have_text(ANSWER)
    await expect(messages(olga).last).to_contain_text("Mia Member")
    await expect(messages(mia).last).to_contain_text("You")
    await expect(olga.get_by_role("log", name="Messages")).to_contain_text("Today")
    assert await messages(olga).count() == 2
    await screenshots(mia, "chat-room")
    assert await violations(mia) == []

    # Who can read along, device by device, and the same safety code on both screens
    codes = []
    for page in (olga, mia):
        await page.locator("#chat-devices").click()
        devices = page.locator("#chat-device-list")
        await expect(devices).to_contain_text("Olga Owner, device")
        await expect(devices).to_contain_text("Mia Member, device")
        await expect(page.locator("#chat-safety-code")).to_have_text(
            re.compile(r"^\d{5}( \d{5}){4}$")
        )
        codes.append(await page.locator("#chat-safety-code").inner_text())
    assert codes[0] == codes[1]

    # The server holds ciphertext only: neither text is in any stored event.
    async with server.services.chat._sessions() as session:  # the test reads the database
        rows = (await session.scalars(select(ChatEventRow))).all()
        group = await session.get(ChatGroupRow, (await server.services.rooms.get(slug)).id)
    bodies = [row.body or b"" for row in rows if row.room_id == group.room_id] if group else []
    assert len(bodies) >= 4  # the group, Mia's join, two messages
    for text in (GREETING, "Ich sehe sie mir heute an", "Olga"):
        assert not any(text.encode() in body for body in bodies), text


async def test_the_chat_sits_beside_the_meeting(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, "Olga Owner")
    olga = await room_page(open_page, room.slug, room.username)
    await expect(
        olga.get_by_text('Nobody is in the meeting. "Join meeting" starts it.')
    ).to_be_visible()
    await olga.get_by_role("button", name="Join meeting").click()
    await expect(olga.get_by_role("heading", name="Meeting")).to_be_attached()
    chat_button = olga.get_by_role("button", name="Chat")
    await expect(chat_button).to_have_attribute("aria-expanded", "false")
    await expect(olga.get_by_role("log", name="Messages")).to_be_hidden()
    await chat_button.click()
    await expect(olga.get_by_role("textbox", name="Message")).to_be_focused()
    await olga.keyboard.type("Während der Besprechung")
    await olga.keyboard.press("Enter")
    await expect(messages(olga).last).to_contain_text("Während der Besprechung")
    await expect(olga.get_by_role("region", name="Videos")).to_be_visible()
    await screenshots(olga, "chat-meeting")
    assert await violations(olga) == []
    await olga.get_by_role("button", name="Close chat").click()
    await expect(chat_button).to_be_focused()
    await expect(olga.get_by_role("log", name="Messages")).to_be_hidden()


async def test_reply_react_edit_and_delete(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    olga = await room_page(open_page, room.slug, room.username)
    mia = await room_page(open_page, room.slug, mia_name)

    await olga.get_by_role("textbox", name="Message").fill("Sitzung am Dienstag?")
    await olga.get_by_role("textbox", name="Message").press("Enter")
    question = message_with(mia, "Sitzung am Dienstag?")
    await expect(question).to_have_count(1)

    # Mia replies (quoted) and reacts
    await question.get_by_role("button", name="Reply").click()
    await expect(mia.get_by_text("Reply to Olga Owner: “Sitzung am Dienstag?”")).to_be_visible()
    await mia.get_by_role("textbox", name="Message").fill("Ja, um 10 Uhr.")
    await mia.get_by_role("textbox", name="Message").press("Enter")
    answer = message_with(olga, "Ja, um 10 Uhr.")
    await expect(answer).to_contain_text("Reply to You: “Sitzung am Dienstag?”")
    await question.get_by_role("button", name="React").click()
    await mia.get_by_role("group", name="React").get_by_role("button", name="Thumbs up").click()
    olga_question = message_with(olga, "Sitzung am Dienstag?")
    await expect(
        olga_question.get_by_role("button", name="Thumbs up: 1 (Mia Member)")
    ).to_be_visible()

    # Olga edits her question; both see the new text, marked as edited
    await olga_question.get_by_role("button", name="Edit").click()
    await expect(olga.get_by_role("textbox", name="Message")).to_have_value("Sitzung am Dienstag?")
    await olga.get_by_role("textbox", name="Message").fill("Sitzung am Mittwoch?")
    await olga.get_by_role("textbox", name="Message").press("Enter")
    edited = message_with(mia, "Sitzung am Mittwoch?")
    await expect(edited).to_contain_text("(edited)")
    assert await question.count() == 0
    # Mia may not edit or delete Olga's message; she deletes her own
    await expect(edited.get_by_role("button", name="Edit")).to_have_count(0)
    await expect(edited.get_by_role("button", name="Delete")).to_have_count(0)
    mine = message_with(mia, "Ja, um 10 Uhr.")
    await mine.get_by_role("button", name="Delete").click()
    await mia.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(olga.get_by_role("log", name="Messages")).to_contain_text("Message deleted")
    await expect(mia.get_by_role("log", name="Messages")).to_contain_text("Message deleted")
    await expect(message_with(olga, "Ja, um 10 Uhr.")).to_have_count(0)
    # Formatting as text nodes: bold, code, a link, a mention of Mia; markup stays text
    text = f"**Wichtig** für @{mia_name}: `TOP 3`, https://example.org/vorlage <b>nein</b>"
    await olga.get_by_role("textbox", name="Message").fill(text)
    await olga.get_by_role("textbox", name="Message").press("Enter")
    formatted = messages(mia).filter(has_text="TOP 3")
    await expect(formatted.locator("strong")).to_have_text("Wichtig")
    await expect(formatted.locator("code")).to_have_text("TOP 3")
    await expect(formatted.locator(".mention")).to_have_text("@Mia Member")
    await expect(formatted).to_have_class(re.compile(r"\bmentions-me\b"))
    link = formatted.get_by_role("link", name="https://example.org/vorlage")
    await expect(link).to_have_attribute("rel", "noopener noreferrer nofollow")
    await expect(formatted.locator("b")).to_have_count(0)
    await expect(formatted).to_contain_text("<b>nein</b>")
    await screenshots(olga, "chat-actions")
    assert await violations(olga) == []


async def test_the_home_is_a_conversation_list(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    # Mia signs in on her home: her browser's device is ready to be added to rooms
    home = await open_page("/?lang=en")
    await home.get_by_role("link", name="Sign in").click()
    await fill_sign_in(home, mia_name)
    await expect(home.get_by_role("navigation", name="Conversations")).to_be_visible()
    await poll(lambda: key_packages_of(server, mia_user.id), bool, "Mia's key packages", 15)
    olga = await room_page(open_page, room.slug, room.username)
    await expect(olga.get_by_text("Devices that can read along: 1.")).to_be_visible()
    # Olga adds Mia to the room: Olga's device adds Mia's (offline) device to the group
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    await expect(olga.get_by_text("Devices that can read along: 2.")).to_be_visible()
    await olga.get_by_role("textbox", name="Message").fill("Bitte lesen")
    await olga.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(olga, "Bitte lesen")).to_have_count(1)

    await home.reload()
    conversations = home.get_by_role("navigation", name="Conversations")
    await expect(conversations.get_by_role("link", name="Ausschuss")).to_be_visible()
    await expect(
        conversations.get_by_role("listitem").filter(has_text="Ausschuss")
    ).to_contain_text("1 unread")
    await expect(home).to_have_title(re.compile(r"^\(1\) "))
    await home.get_by_role("searchbox", name="Search rooms").fill("nichts")
    await expect(home.get_by_text("No room matches your search.")).to_be_visible()
    await home.get_by_role("searchbox", name="Search rooms").fill("auss")
    await expect(conversations.get_by_role("link", name="Ausschuss")).to_be_visible()
    await screenshots(home, "conversations")
    assert await violations(home) == []

    # Opening the room reads it: back home, nothing is unread
    await conversations.get_by_role("link", name="Ausschuss").click()
    await expect(message_with(home, "Bitte lesen")).to_have_count(1)
    new_line = home.get_by_role("log").get_by_role("listitem").filter(has_text="New messages")
    await expect(new_line).to_have_count(1)  # just before what she has not read
    await home.go_back()
    await home.reload()
    item = home.get_by_role("navigation", name="Conversations").get_by_role("listitem")
    await expect(item.filter(has_text="Ausschuss")).not_to_contain_text("unread")

    # A direct message to Olga, by her user name: the conversation of the two
    await home.get_by_label("Direct message to (user name)").fill(room.username)
    await home.get_by_role("button", name="New direct message").click()
    await expect(home.get_by_role("log", name="Messages")).to_be_visible()
    await expect(home.locator("#chat-status")).to_be_hidden(timeout=15_000)
    await home.get_by_role("textbox", name="Message").fill("Unter uns")
    await home.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(home, "Unter uns")).to_have_count(1)
    olga_home = await open_page("/?lang=en")
    await olga_home.get_by_role("link", name="Sign in").click()
    await fill_sign_in(olga_home, room.username)
    direct = olga_home.get_by_role("navigation", name="Conversations").get_by_role(
        "link", name="Mia Member"
    )
    await expect(direct).to_be_visible()
    await direct.click()
    await expect(message_with(olga_home, "Unter uns")).to_have_count(0)  # a new device: from now on
    await expect(
        olga_home.get_by_text("Older messages cannot be read on this device")
    ).to_be_visible(timeout=15_000)  # once this device is in the group


async def test_tampered_and_replayed_messages_are_marked(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    olga = await room_page(open_page, room.slug, room.username)
    mia = await room_page(open_page, room.slug, mia_name)
    await olga.get_by_role("textbox", name="Message").fill("Echt")
    await olga.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(mia, "Echt")).to_have_count(1)

    # Someone with Olga's account but not her device (or the server itself) sends a made-up
    # message, and then her real one again: Mia's browser refuses both, visibly.
    http = await chat.sign_in(server.http, room.username)
    intruder = await chat.ChatSocket.open(server.ws, http, await chat.register_device(http))
    await intruder.send({"type": "open", "room": room.slug})
    state = await intruder.next("group", room=room.slug)
    header = mls_wire.group_info_header(chat.unb64(state["group_info"]))
    async with server.services.chat._sessions() as session:  # the test reads the database
        real = await session.scalar(
            select(ChatEventRow.body)
            .where(ChatEventRow.kind == "message")
            .order_by(ChatEventRow.id.desc())
            .limit(1)
        )
    assert real is not None
    for body in (chat.message(header.group_id, header.epoch), real):
        sent = {"type": "send", "room": room.slug, "message": chat.b64(body)}
        assert (await intruder.request(sent))["type"] == "ack"  # the server cannot tell
    marked = messages(mia).filter(has_text="This message could not be decrypted or was altered.")
    await expect(marked).to_have_count(2)
    await expect(message_with(mia, "Echt")).to_have_count(1)  # the real one once
    await intruder.close()
    await http.aclose()
    # Mia's chat goes on after them
    await olga.get_by_role("textbox", name="Message").fill("Weiter")
    await olga.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(mia, "Weiter")).to_have_count(1)


async def test_the_chat_is_accessible_in_german(open_page: OpenPage, server: RunningServer) -> None:
    room = await owned_room(server, "Olga Owner")
    page = await open_page(f"/r/{room.slug}", locale="de-DE")
    await page.get_by_role("link", name="Anmelden", exact=True).click()
    await expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    await page.get_by_label("Benutzername", exact=True).fill(room.username)
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden", exact=True).click()
    await expect(page.get_by_role("log", name="Nachrichten")).to_be_visible()
    await expect(page.locator("#chat-status")).to_be_hidden(timeout=15_000)
    await page.get_by_role("textbox", name="Nachricht").fill("Grüß Gott")
    await page.get_by_role("button", name="Senden").click()
    await expect(message_with(page, "Grüß Gott")).to_have_count(1)
    await expect(messages(page).last.get_by_role("button", name="Antworten")).to_be_attached()
    assert await violations(page) == []
    await page.goto(f"{server.http}/")
    await expect(page.get_by_role("navigation", name="Unterhaltungen")).to_be_visible()
    await screenshots(page, "conversations-de")
    assert await violations(page) == []
