"""Attachments in the end-to-end encrypted chat, in Chromium: Olga attaches a picture and a text
file, Mia sees the picture's thumbnail (made in Olga's browser), opens it full size and downloads
the text, byte for byte; the blob store holds ciphertext only; a blob altered on the server is
caught by Mia's browser; deleting the message deletes its blob."""

from __future__ import annotations

import secrets
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import FilePayload, Page, expect
from sqlalchemy import select

from rathaus.db.models import ChatEventRow
from tests.support.accounts_pages import forget_accounts, member, owned_room
from tests.support.browser import OpenPage, poll
from tests.support.chat_pages import message_with, room_page
from tests.support.pages import violations
from tests.support.screens import screenshots
from tests.support.server import RunningServer

PICTURE = "Lageplan Rathaus.png"
NOTE = "Vermerk.txt"


@pytest.fixture(autouse=True)
async def _no_accounts_left(server: RunningServer) -> AsyncIterator[None]:
    yield
    await forget_accounts(server)


def png(width: int, height: int) -> bytes:
    """A real PNG (8-bit RGB): a colour gradient, so that the thumbnail shows something."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 160)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def attach(page: Page, name: str, mime: str, data: bytes) -> None:
    """Through the composer's "Attach file" and the browser's file chooser, as a person does."""
    async with page.expect_file_chooser() as chosen:
        await page.get_by_role("button", name="Attach file").click()
    chooser = await chosen.value
    await chooser.set_files(files=[FilePayload(name=name, mimeType=mime, buffer=data)])


def blobs_of(server: RunningServer, room_id: int) -> dict[str, bytes]:
    folder = server.settings.server.data_dir / "blobs" / str(room_id)
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


async def test_files_and_pictures_end_to_end_encrypted(
    open_page: OpenPage, server: RunningServer, tmp_path: Path
) -> None:
    room = await owned_room(server, "Olga Owner")
    mia_name = await member(server, "Mia Member")
    owner = await server.services.accounts.user_named(room.username)
    mia_user = await server.services.accounts.user_named(mia_name)
    await server.services.rooms.set_role(room.slug, owner, mia_user, "member")
    room_id = (await server.services.rooms.get(room.slug)).id
    olga = await room_page(open_page, room.slug, room.username)
    mia = await room_page(open_page, room.slug, mia_name)

    secret = f"Vertraulich: Kassenprüfung {secrets.token_hex(8)}"
    note = (secret + "\nZweite Zeile, äöü ß.\n").encode()
    picture = png(64, 48)
    await attach(olga, PICTURE, "image/png", picture)
    await expect(message_with(olga, PICTURE)).to_have_count(1)
    await attach(olga, NOTE, "text/plain", note)
    await expect(message_with(olga, NOTE)).to_have_count(1)
    await expect(olga.locator("#composer-status")).to_have_text("")
    await expect(olga.locator("#composer-error")).to_have_text("")

    # Mia sees the thumbnail, made in Olga's browser (a JPEG inside the encrypted message)
    shown = message_with(mia, PICTURE)
    thumbnail = shown.get_by_alt_text(PICTURE)
    await expect(thumbnail).to_be_visible()
    assert (await thumbnail.get_attribute("src") or "").startswith("data:image/jpeg;base64,")
    await expect(shown).to_contain_text("Olga Owner")
    text = message_with(mia, NOTE)
    await expect(text).to_contain_text(f"{len(note)} B")
    await screenshots(mia, "chat-attachment")
    assert await violations(mia) == []

    # She downloads the text: decrypted and checked in her browser, the same bytes
    async with mia.expect_download() as downloading:
        await text.get_by_role("button", name=f"Download {NOTE}").click()
    download = await downloading.value
    assert download.suggested_filename == NOTE
    saved = tmp_path / NOTE
    await download.save_as(saved)
    assert saved.read_bytes() == note

    # and opens the picture full size: the original picture, decrypted
    await shown.get_by_role("button", name=f"Show {PICTURE} full size").click()
    dialog = mia.get_by_role("dialog", name=PICTURE)
    full = dialog.get_by_role("img", name=PICTURE)
    await expect(full).to_be_visible()
    size = await full.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    assert size == [64, 48]
    assert await violations(mia) == []
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_have_count(0)

    # The server holds ciphertext only: not the text, not the picture, not the names.
    stored = blobs_of(server, room_id)
    assert sorted(len(b) for b in stored.values()) == sorted([len(note) + 16, len(picture) + 16])
    for blob in stored.values():
        assert secret.encode() not in blob and b"Kassenpr" not in blob
        assert b"\x89PNG" not in blob and b"IHDR" not in blob
    async with server.services.chat._sessions() as session:  # the test reads the database
        rows = (await session.scalars(select(ChatEventRow))).all()
    bodies = [row.body or b"" for row in rows if row.room_id == room_id]
    for known in (NOTE.encode(), PICTURE.encode(), secret.encode(), *(k.encode() for k in stored)):
        assert not any(known in body for body in bodies), known

    # A blob altered on the server: Mia's browser refuses it, and says so.
    (name,) = [k for k, v in stored.items() if len(v) == len(note) + 16]
    path = server.settings.server.data_dir / "blobs" / str(room_id) / name
    altered = bytearray(path.read_bytes())
    altered[5] ^= 0x01
    path.write_bytes(bytes(altered))
    await text.get_by_role("button", name=f"Download {NOTE}").click()
    await expect(text.get_by_role("alert")).to_contain_text("The file was altered")

    # Olga deletes her message: its blob goes with it.
    await message_with(olga, NOTE).get_by_role("button", name="Delete").click()
    await olga.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(mia.get_by_role("log", name="Messages")).to_contain_text("Message deleted")
    await poll(lambda: _names(server, room_id), lambda n: name not in n, "the blob deleted", 10)
    assert len(blobs_of(server, room_id)) == 1  # the picture stays


async def _names(server: RunningServer, room_id: int) -> set[str]:
    return set(blobs_of(server, room_id))


async def test_too_large_a_file_is_refused_in_the_composer(
    open_page: OpenPage, server: RunningServer
) -> None:
    room = await owned_room(server, "Olga Owner")
    olga = await room_page(open_page, room.slug, room.username)
    limit = server.settings.chat.max_attachment_bytes
    # The browser knows the limit: a file over it is not even encrypted (a file of 100 MiB made
    # in the page from one MiB a hundred times over, not sent through the file chooser).
    await olga.evaluate(
        """(size) => {
            const input = document.getElementById('attach-input');
            const mib = new Blob([new Uint8Array(1024 * 1024)]);
            const parts = Array.from({length: Math.ceil(size / (1024 * 1024))}, () => mib);
            const transfer = new DataTransfer();
            transfer.items.add(new File(parts, 'Riesig.bin'));
            input.files = transfer.files;
            input.dispatchEvent(new Event('change'));
        }""",
        limit,
    )
    await expect(olga.locator("#composer-error")).to_contain_text("“Riesig.bin” is too large")
    await expect(olga.get_by_role("button", name="Attach file")).to_be_enabled()
    assert blobs_of(server, (await server.services.rooms.get(room.slug)).id) == {}
    # The same button in German, the default language
    await olga.goto(f"{server.http}/r/{room.slug}?lang=de")
    await expect(olga.get_by_role("button", name="Datei anhängen")).to_be_visible()
