"""The chat history backup, in Chromium: Olga downloads a backup sealed with a passphrase on her
first browser; on a second browser (a new device, which MLS gives no keys of the past) she
imports it on her home and reads the earlier message in the room. The file holds no plain text;
a wrong passphrase is refused and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.support.accounts_pages import fill_sign_in, forget_accounts, owned_room
from tests.support.browser import OpenPage
from tests.support.chat_pages import message_with, room_page
from tests.support.pages import violations
from tests.support.screens import screenshots
from tests.support.server import RunningServer

EARLIER = "Vor der Sicherung: die Vorlage für Dienstag"
PASSPHRASE = "Marienplatz 8, 80331 München"


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


async def import_backup(home: Page, file: Path, passphrase: str) -> None:
    await home.get_by_label("Backup file").set_input_files(file)
    await home.get_by_label("Passphrase of the backup").fill(passphrase)
    await home.get_by_role("button", name="Import backup").click()


async def test_a_backup_brings_the_history_to_a_new_device(
    open_page: OpenPage, server: RunningServer, tmp_path: Path
) -> None:
    room = await owned_room(server, "Olga Owner")
    first = await room_page(open_page, room.slug, room.username)
    await first.get_by_role("textbox", name="Message").fill(EARLIER)
    await first.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(first, EARLIER)).to_have_count(1)

    await first.goto(f"{server.http}/?lang=en")
    await first.get_by_label("Passphrase (at least 12 characters)").fill(PASSPHRASE)
    await first.get_by_label("Repeat the passphrase").fill(PASSPHRASE + "x")
    await first.get_by_role("button", name="Download backup").click()
    await expect(first.get_by_text("The two passphrases differ.")).to_be_visible()
    await first.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
    async with first.expect_download() as downloading:
        await first.get_by_role("button", name="Download backup").click()
    file = tmp_path / "backup.rcb"
    await (await downloading.value).save_as(file)
    await expect(first.get_by_text("Backup saved. Messages: 1, rooms: 1.")).to_be_visible(
        timeout=30_000
    )
    sealed = file.read_bytes()
    assert sealed.startswith(b"RCB1")
    assert EARLIER.encode() not in sealed and room.slug.encode() not in sealed
    await screenshots(first, "home-chat-backup")
    assert await violations(first) == []

    # A second browser: a new device, signed in on its home
    home = await open_page("/?lang=en")
    await home.get_by_role("link", name="Sign in").click()
    await fill_sign_in(home, room.username)
    await expect(home.get_by_role("heading", name="Backup of your chat history")).to_be_visible()
    await import_backup(home, file, "not the passphrase")
    await expect(home.get_by_text("Wrong passphrase, or the file was altered.")).to_be_visible(
        timeout=30_000
    )
    await import_backup(home, file, PASSPHRASE)
    await expect(home.get_by_text("Backup imported. Messages added: 1, rooms: 1.")).to_be_visible(
        timeout=30_000
    )

    await home.goto(f"{server.http}/r/{room.slug}?lang=en")
    await expect(home.get_by_role("log", name="Messages")).to_be_visible()
    await expect(home.locator("#chat-status")).to_be_hidden(timeout=15_000)
    await expect(message_with(home, EARLIER)).to_have_count(1)  # from before this device joined
    await home.get_by_role("textbox", name="Message").fill("Und weiter vom neuen Gerät")
    await home.get_by_role("textbox", name="Message").press("Enter")
    await expect(message_with(home, "Und weiter vom neuen Gerät")).to_have_count(1)
