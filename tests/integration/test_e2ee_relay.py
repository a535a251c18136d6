"""End-to-end encryption, the server's part, through Rathaus's real WebSocket: the public-key
directory, the envelope relay, the E2EE state and the `e2ee_required` door — and that Rathaus
keeps and logs no key material (envelopes pass through memory only)."""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.bot import Bot, wait_until
from tests.support.devices import TestDevice, b64url
from tests.support.rooms import browser_for, owned_room, saw, unique
from tests.support.server import RunningServer, running_server, server_settings, shared_janus
from tests.support.waits import quiet_for

pytestmark = pytest.mark.janus


def an_envelope(size: int = 120) -> str:
    return b64url(secrets.token_bytes(size))


# Rathaus servers of their own (on the shared Janus): these tests add accounts, which would change
# what the session's server allows anonymous visitors.


@pytest.fixture(scope="module")
async def plain(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    settings = server_settings(tmp_path_factory.mktemp("e2ee"), janus=shared_janus(server))
    async with running_server(settings) as running:
        yield running


@pytest.fixture(scope="module")
async def strict(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    """With `meeting.e2ee_required` on."""
    settings = server_settings(
        tmp_path_factory.mktemp("e2ee-strict"),
        janus=shared_janus(server),
        meeting={"e2ee_required": True},
    )
    async with running_server(settings) as running:
        yield running


async def close_all(*bots: Bot) -> None:
    for bot in bots:
        await bot.close()


async def test_everyone_learns_everyones_public_keys(strict: RunningServer) -> None:
    slug = unique("e2ee-")
    anna_device, ben_device = TestDevice.new().public(), TestDevice.new().public(e2ee=False)
    anna, ben, carl = (Bot(strict.ws, slug, name) for name in ("Anna", "Ben", "Carl"))
    try:
        welcome = await anna.join(device=anna_device)  # the first one in moderates
        assert welcome["self"]["device"] == anna_device
        assert welcome["e2ee"] == {"encrypted": True, "allow_unencrypted": False}
        await anna.send({"type": "allow_unencrypted", "allowed": True})
        assert (await anna.expect("e2ee_state"))["allow_unencrypted"] is True
        await ben.join(device=ben_device)
        late = await carl.join()  # a client that sends no device (yet)
        assert late["self"]["device"] is None
        assert {x["name"]: x["device"] for x in late["participants"]} == {
            "Anna": anna_device,
            "Ben": ben_device,
        }
        assert late["e2ee"]["encrypted"] is False
        joined = [(await anna.expect("participant_joined"))["participant"] for _ in range(2)]
        assert [x["device"] for x in joined] == [ben_device, None]
        assert (await anna.expect("e2ee_state")) == {
            "type": "e2ee_state",
            "encrypted": False,
            "allow_unencrypted": True,
        }
    finally:
        await close_all(anna, ben, carl)


async def test_a_meeting_that_does_not_require_it_is_never_shown_encrypted(
    plain: RunningServer,
) -> None:
    """Clients encrypt only when `welcome.e2ee_required`: devices able to encrypt are not enough."""
    bot = Bot(plain.ws, unique("e2ee-"), "Anna")
    try:
        welcome = await bot.join(device=TestDevice.new().public())
        assert (welcome["e2ee_required"], welcome["e2ee"]["encrypted"]) == (False, False)
    finally:
        await bot.close()


async def test_an_envelope_reaches_its_recipient_only_and_unchanged(plain: RunningServer) -> None:
    slug = unique("e2ee-")
    anna, ben, carl = (Bot(plain.ws, slug, name) for name in ("Anna", "Ben", "Carl"))
    try:
        anna_id = (await anna.join(device=TestDevice.new().public()))["self"]["id"]
        ben_id = (await ben.join(device=TestDevice.new().public()))["self"]["id"]
        carl_id = (await carl.join(device=TestDevice.new().public()))["self"]["id"]
        envelope = an_envelope(4096)  # the largest allowed
        await anna.send({"type": "key_envelope", "to": ben_id, "envelope": envelope})
        got = await ben.expect("key_envelope")
        assert got == {"type": "key_envelope", "from": anna_id, "envelope": envelope}
        await quiet_for(0.5)  # no copy for anyone else
        assert not saw(carl, "key_envelope", "error") and not saw(anna, "key_envelope", "error")

        await anna.send({"type": "key_envelope", "to": "0123456789abcdef", "envelope": envelope})
        error = await anna.expect("error")
        assert (error["code"], error["ref"]) == ("unknown_participant", "key_envelope")

        # Several at once: each recipient gets its own, as if sent alone.
        to_ben, to_carl = an_envelope(), an_envelope()
        batch = [{"to": ben_id, "envelope": to_ben}, {"to": carl_id, "envelope": to_carl}]
        await anna.send({"type": "key_envelopes", "envelopes": batch})
        assert (await ben.expect("key_envelope"))["envelope"] == to_ben
        assert (await carl.expect("key_envelope"))["envelope"] == to_carl
    finally:
        await close_all(anna, ben, carl)


async def test_a_key_request_reaches_the_sender_of_the_key(plain: RunningServer) -> None:
    """A browser whose frames from Anna stopped decrypting asks Anna for her key again."""
    slug = unique("e2ee-")
    anna, ben, carl = (Bot(plain.ws, slug, name) for name in ("Anna", "Ben", "Carl"))
    try:
        anna_id = (await anna.join(device=TestDevice.new().public()))["self"]["id"]
        ben_id = (await ben.join(device=TestDevice.new().public()))["self"]["id"]
        await carl.join(device=TestDevice.new().public())
        await ben.send({"type": "key_request", "to": anna_id})
        assert await anna.expect("key_request") == {"type": "key_request", "from": ben_id}
        for to, code in ((ben_id, "unknown_participant"), ("00ff", "unknown_participant")):
            await ben.send({"type": "key_request", "to": to})
            error = await ben.expect("error")
            assert (error["code"], error["ref"]) == (code, "key_request")
        await ben.send({"type": "key_request", "to": "not hex"})
        assert (await ben.expect("error"))["code"] == "bad_message"
        await quiet_for(0.3)  # none of the refused requests reaches anyone
        assert not saw(carl, "key_request") and not saw(anna, "error")
    finally:
        await close_all(anna, ben, carl)


async def test_no_envelopes_to_or_from_the_lobby(plain: RunningServer) -> None:
    slug, owner = await owned_room(plain, lobby=True)
    olga, guest = Bot(plain.ws, slug, "Olga", cookies=owner), Bot(plain.ws, slug, "Gast")
    try:
        olga_id = (await olga.join(device=TestDevice.new().public()))["self"]["id"]
        await guest.knock(device=TestDevice.new().public())
        await guest.expect("lobby")
        knock = await olga.expect("knock")
        guest_id = knock["participant"]["id"]
        assert knock["participant"]["device"]["e2ee"] is True  # moderators see who can encrypt

        await olga.send({"type": "key_envelope", "to": guest_id, "envelope": an_envelope()})
        assert (await olga.expect("error"))["code"] == "unknown_participant"
        await guest.send({"type": "key_envelope", "to": olga_id, "envelope": an_envelope()})
        assert (await guest.expect("error"))["code"] == "not_admitted"
        await guest.send({"type": "key_request", "to": olga_id})
        assert (await guest.expect("error"))["code"] == "not_admitted"
        await olga.send({"type": "key_request", "to": guest_id})
        assert (await olga.expect("error"))["code"] == "unknown_participant"
        await quiet_for(0.3)  # none of the refused messages reaches anyone
        assert not saw(olga, "key_envelope", "key_request")
        assert not saw(guest, "key_envelope", "key_request")
    finally:
        await close_all(olga, guest)


async def test_malformed_envelopes_are_refused_and_the_meeting_goes_on(
    plain: RunningServer,
) -> None:
    slug = unique("e2ee-")
    anna, ben = Bot(plain.ws, slug, "Anna"), Bot(plain.ws, slug, "Ben")
    try:
        await anna.join(device=TestDevice.new().public())
        ben_id = (await ben.join(device=TestDevice.new().public()))["self"]["id"]
        too_big = an_envelope(4097)
        for bad in (
            {"envelope": too_big},
            {"envelope": an_envelope() + "="},
            {"envelope": "kein base64!"},
            {"envelope": b64url(b"short")},
            {"envelope": {"ciphertext": an_envelope()}},
            {"envelope": an_envelope(), "from": "ffff"},
            {},
        ):
            await anna.send({"type": "key_envelope", "to": ben_id, **bad})
            error = await anna.expect("error")
            assert (error["code"], error["ref"]) == ("bad_message", "key_envelope")
            assert too_big not in error["message"]
        await anna.send({"type": "key_envelope", "envelope": an_envelope()})
        assert (await anna.expect("error"))["code"] == "bad_message"

        good = an_envelope()
        await anna.send({"type": "key_envelope", "to": ben_id, "envelope": good})
        assert (await ben.expect("key_envelope"))["envelope"] == good
        await anna.send({"type": "media", "audio": False, "video": True})
        assert (await ben.expect("participant_updated"))["participant"]["audio"] is False
        assert not saw(ben, "error", "bye")
    finally:
        await close_all(anna, ben)


async def test_e2ee_required_and_the_moderators_exception(strict: RunningServer) -> None:
    slug, owner = await owned_room(strict)
    olga = Bot(strict.ws, slug, "Olga", cookies=owner)
    anna, phone = Bot(strict.ws, slug, "Anna"), Bot(strict.ws, slug, "Telefon")
    try:
        await olga.knock()  # the moderator's browser cannot encrypt either: refused
        assert (await olga.expect("error"))["code"] == "e2ee_required"
        await olga.join(device=TestDevice.new().public())
        await anna.join(device=TestDevice.new().public())
        for device in (None, TestDevice.new().public(e2ee=False)):
            await phone.knock(device=device)
            assert (await phone.expect("error"))["code"] == "e2ee_required"

        await anna.send({"type": "allow_unencrypted", "allowed": True})
        assert (await anna.expect("error"))["code"] == "forbidden"
        await olga.send({"type": "allow_unencrypted", "allowed": True})
        for bot in (olga, anna):
            state = await bot.expect("e2ee_state")
            assert (state["encrypted"], state["allow_unencrypted"]) == (True, True)
            assert (await bot.expect("moderation"))["action"] == "allow_unencrypted"

        welcome = await phone.join()  # now it may come in, and everyone sees what that means
        assert welcome["e2ee"] == {"encrypted": False, "allow_unencrypted": True}
        for bot in (olga, anna):
            assert (await bot.expect("e2ee_state"))["encrypted"] is False

        await phone.send({"type": "leave"})
        await phone.expect("bye")
        for bot in (olga, anna):
            state = await bot.expect("e2ee_state")
            assert (state["encrypted"], state["allow_unencrypted"]) == (True, True)
        actions = [e.action for e in await strict.services.audit.recent(room=slug)]
        assert actions == ["allow_unencrypted"]
    finally:
        await close_all(olga, anna, phone)


async def test_a_room_with_e2ee_off_lets_devices_in_that_cannot_encrypt(
    strict: RunningServer,
) -> None:
    open_slug, owner = await owned_room(strict, e2ee=False)
    closed_slug, _ = await owned_room(strict)
    phone, refused = Bot(strict.ws, open_slug, "Telefon"), Bot(strict.ws, closed_slug, "Telefon")
    olga = Bot(strict.ws, open_slug, "Olga", cookies=owner)
    try:
        welcome = await phone.join()  # no device at all, on a server that requires E2EE
        assert welcome["e2ee_required"] is False
        assert welcome["e2ee"] == {"encrypted": False, "allow_unencrypted": False}
        assert (await olga.join(device=TestDevice.new().public()))["e2ee_required"] is False

        await refused.knock()  # the same server, a room that keeps E2EE on
        assert (await refused.expect("error"))["code"] == "e2ee_required"
    finally:
        await close_all(phone, refused, olga)


async def test_switching_e2ee_off_applies_to_the_rooms_next_meeting(
    strict: RunningServer,
) -> None:
    _, as_owner = await browser_for(strict)
    slug = (await as_owner.post("/api/rooms", json={"name": unique("Rat ")})).json()["slug"]
    cookies = {"rathaus_session": as_owner.cookies["rathaus_session"]}
    olga, phone = Bot(strict.ws, slug, "Olga", cookies=cookies), Bot(strict.ws, slug, "Telefon")
    try:
        assert (await olga.join(device=TestDevice.new().public()))["e2ee_required"] is True
        changed = await as_owner.patch(f"/api/rooms/{slug}", json={"e2ee": False})
        assert changed.json()["e2ee"] is False
        await phone.knock()  # this meeting's participants encrypt: it stays as it began
        assert (await phone.expect("error"))["code"] == "e2ee_required"

        await olga.send({"type": "leave"})
        await olga.expect("bye")  # the meeting ends with its last participant
        await phone.send({"type": "join", "name": "Telefon"})
        assert (await phone.expect("welcome"))["e2ee_required"] is False
    finally:
        await close_all(olga, phone)
        await as_owner.aclose()


def _stored(data_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()
    }


def _needles(values: list[str]) -> list[bytes]:
    """Each value as text and as the bytes it encodes."""
    needles = []
    for value in values:
        needles.append(value.encode())
        try:
            needles.append(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        except ValueError:
            pass
    return [n for n in needles if len(n) >= 16]


async def test_rathaus_keeps_and_logs_no_key_material(
    strict: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    uvicorn_log = logging.getLogger("uvicorn.error")  # does not propagate to the root logger
    uvicorn_log.addHandler(caplog.handler)
    slug, owner = await owned_room(strict)
    devices = [TestDevice.new() for _ in range(3)]
    bots = [
        Bot(strict.ws, slug, "Olga", cookies=owner),
        Bot(strict.ws, slug, "Anna"),
        Bot(strict.ws, slug, "Ben"),
    ]
    envelopes: list[str] = []
    try:
        ids = [
            (await b.join(device=d.public()))["self"]["id"]
            for b, d in zip(bots, devices, strict=True)
        ]
        for i, sender in enumerate(bots):  # every sender's key to every other device
            for j, recipient_id in enumerate(ids):
                if i != j:
                    envelopes.append(an_envelope())
                    await sender.send(
                        {"type": "key_envelope", "to": recipient_id, "envelope": envelopes[-1]}
                    )
        for bot in bots:
            for _ in range(2):
                await bot.expect("key_envelope")
        bad = an_envelope(5000)
        await bots[1].send({"type": "key_envelope", "to": ids[0], "envelope": bad})
        await bots[1].send({"type": "key_envelope", "to": "abcdef", "envelope": envelopes[0]})
        codes = {(await bots[1].expect("error"))["code"] for _ in range(2)}
        assert codes == {"bad_message", "unknown_participant"}
    finally:
        await close_all(*bots)
        meetings = strict.services.meetings._meetings
        await wait_until(lambda: slug not in meetings, what="the meeting to end")  # logged too
        uvicorn_log.removeHandler(caplog.handler)

    public = [v for d in devices for k, v in d.public().items() if k in ("x25519", "ed25519")]
    private = [v for d in devices for v in d.private_values()]
    stored = _stored(Path(strict.settings.server.data_dir))
    assert any(name.startswith("rathaus.db") for name in stored)
    for name, content in stored.items():  # the database, its journal, all Rathaus keeps
        for needle in _needles([*envelopes, bad, *public, *private]):
            assert needle not in content, f"key material in {name}"

    assert caplog.records, "the log capture saw nothing at all"
    server_side = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    for record in server_side:  # the bots' own client library may log what they send
        text = record.getMessage() + repr(record.args) + str(record.exc_info or "")
        for value in [*envelopes, bad, *private]:
            assert value not in text, f"an envelope or key in the log: {record.name}"


def test_helpers_find_what_they_look_for() -> None:
    value = an_envelope()
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    assert _needles([value]) == [value.encode(), raw]
    assert _needles(["kurz"]) == []
