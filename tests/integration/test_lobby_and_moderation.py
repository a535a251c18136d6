"""The lobby really gates, the door's rules hold, and moderators' actions take effect — through
Rathaus's signaling and a real Janus, with aiortc participants."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from rathaus.audit import AuditParty, PartyRole
from tests.support.bot import Bot, wait_until
from tests.support.network import MEDIA_IP
from tests.support.rooms import PASSWORD, owned_room, saw, signed_in, unique
from tests.support.server import RunningServer
from tests.support.waits import drain, quiet_for

pytestmark = pytest.mark.janus

RED = (220, 30, 30)
MODERATOR_ACTIONS: list[dict[str, Any]] = [
    {"type": "admit", "id": "ab"},
    {"type": "deny", "id": "ab"},
    {"type": "admit_all"},
    {"type": "mute", "id": "ab"},
    {"type": "mute_all"},
    {"type": "stop_video", "id": "ab"},
    {"type": "stop_screen", "id": "ab"},
    {"type": "remove", "id": "ab", "bar": True},
    {"type": "lock", "locked": True},
    {"type": "end"},
    {"type": "promote", "id": "ab"},
    {"type": "lower_hand", "id": "ab"},
]


async def test_a_waiting_guest_gets_nothing_until_admitted(server: RunningServer) -> None:
    slug, owner = await owned_room(server, lobby=True)
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    guest = Bot(server.ws, slug, "Gast", cookies={"rathaus_guest": unique("g")})
    _, member_cookies = await signed_in(server, "Mia Member")
    try:
        welcome = await olga.join()
        assert welcome["self"]["role"] == "moderator"
        await olga.publish(RED, 440)
        await guest.knock()
        assert (await guest.expect("lobby"))["status"] == "waiting"
        knock = await olga.expect("knock")
        guest_id = knock["participant"]["id"]
        assert knock["participant"]["name"] == "Gast"

        # Whatever it tries, the waiting guest gets no media and learns nothing of the meeting.
        for attempt in (
            {"type": "subscribe", "feed": "1"},
            {"type": "publish", "kind": "camera", "sdp": "v=0"},
            {"type": "media", "audio": True, "video": True},
            {"type": "admit", "id": guest_id},
        ):
            await guest.send(attempt)
            assert (await guest.expect("error"))["code"] == "not_admitted"
        mia = Bot(server.ws, slug, "Mia", cookies=member_cookies)
        await mia.knock()  # members wait too, with the lobby on
        await olga.expect("knock")
        await quiet_for(0.5)  # nothing arrives later either
        assert {m["type"] for m in guest.messages} <= {"pong"}

        await olga.send({"type": "admit", "id": guest_id})
        inside = await guest.expect("welcome")
        assert [p["name"] for p in inside["participants"]] == ["Olga"]
        feed = inside["feeds"][0]
        assert feed["participant"] == welcome["self"]["id"]
        got = await guest.subscribe(feed["id"])
        await wait_until(lambda: got.video_frames > 0, what="the moderator's video")
        assert (await olga.expect("moderation"))["action"] == "admit"
        entries = await server.services.audit.recent(room=slug)
        assert [(e.action, e.actor.name, e.actor.role, e.target) for e in entries] == [
            ("admit", "Olga", PartyRole.MODERATOR, AuditParty("Gast", PartyRole.GUEST)),
            # the owner's setting, by `owned_room`
            ("room_lobby_on", "Olga Owner", PartyRole.OWNER, None),
        ]
        await mia.close()
    finally:
        await olga.close()
        await guest.close()


async def test_before_the_moderator_comes_the_guest_waits(server: RunningServer) -> None:
    slug, owner = await owned_room(server, lobby=True)
    guest = Bot(server.ws, slug, "Früh")
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    try:
        await guest.knock()
        assert (await guest.expect("lobby"))["status"] == "no_moderator"
        welcome = await olga.join()
        assert [w["name"] for w in welcome["waiting"]] == ["Früh"]
        assert (await guest.expect("lobby"))["status"] == "waiting"
        await olga.close()  # the only moderator leaves: the guest is told
        assert (await guest.expect("lobby"))["status"] == "no_moderator"
    finally:
        await guest.close()


async def test_reconnecting_or_a_second_tab_knocks_again(server: RunningServer) -> None:
    slug, owner = await owned_room(server, lobby=True)
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    first = Bot(server.ws, slug, "Gast")
    try:
        await olga.join()
        await first.knock()
        await first.expect("lobby")
        first_id = (await olga.expect("knock"))["participant"]["id"]
        await first.close(abort=True)  # a network loss: the place in the lobby is gone
        assert (await olga.expect("knock_ended"))["id"] == first_id

        again = Bot(server.ws, slug, "Gast")
        await again.knock(resume="a-token-from-somewhere")  # no way around the door
        assert (await again.expect("error"))["code"] == "resume_failed"
        await again.knock()
        await again.expect("lobby")
        second_id = (await olga.expect("knock"))["participant"]["id"]
        await olga.send({"type": "admit", "id": second_id})
        await again.expect("welcome")

        tab = Bot(server.ws, slug, "Gast")  # the admitted guest opens a second tab
        await tab.knock()
        assert (await tab.expect("lobby"))["status"] == "waiting"
        await tab.close()
        await again.close()
    finally:
        await olga.close()


async def test_denied(server: RunningServer) -> None:
    slug, owner = await owned_room(server, lobby=True)
    olga, guest = Bot(server.ws, slug, "Olga", cookies=owner), Bot(server.ws, slug, "Nein")
    try:
        await olga.join()
        await guest.knock()
        guest_id = (await olga.expect("knock"))["participant"]["id"]
        await olga.send({"type": "deny", "id": guest_id})
        assert (await guest.expect("bye"))["reason"] == "denied"
        assert guest.ws is not None
        await asyncio.wait_for(guest.ws.wait_closed(), 5)
    finally:
        await olga.close()
        await guest.close()


async def test_room_password_and_lockout(server: RunningServer) -> None:
    slug, owner = await owned_room(server, password="Rathaus 2026!")
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    try:
        await olga.join()  # the owner needs no password
        guest = Bot(server.ws, slug, "Gast")
        await guest.knock()
        assert (await guest.expect("error"))["code"] == "password_required"
        for _ in range(5):
            await guest.knock(password="falsch")
            assert (await guest.expect("error"))["code"] == "wrong_password"
        await guest.knock(password="Rathaus 2026!")
        assert (await guest.expect("error"))["code"] == "locked"  # for a few minutes
        await guest.close()

        # The lockout holds per address; a moderator is not affected by it.
        other = Bot(server.ws, slug, "Olga 2", cookies=owner)
        assert (await other.join())["self"]["role"] == "moderator"
        await other.close()
    finally:
        await olga.close()


async def test_the_right_password_lets_in(server: RunningServer) -> None:
    slug, _ = await owned_room(server, password="Rathaus 2026!")
    guest = Bot(server.ws, slug, "Gast")
    try:
        assert (await guest.join(password="Rathaus 2026!"))["self"]["role"] == "guest"
    finally:
        await guest.close()


async def test_members_only_rooms(server: RunningServer) -> None:
    slug, _ = await owned_room(server, guests_allowed=False)
    _, member = await signed_in(server, "Mia Member")
    guest, mia = Bot(server.ws, slug, "Gast"), Bot(server.ws, slug, "Mia", cookies=member)
    try:
        await guest.knock()
        assert (await guest.expect("error"))["code"] == "guests_not_allowed"
        assert (await mia.join())["self"]["role"] == "member"
    finally:
        await guest.close()
        await mia.close()


async def test_removed_and_barred(server: RunningServer) -> None:
    slug, owner = await owned_room(server)
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    barred = {"rathaus_guest": unique("g")}
    guest = Bot(server.ws, slug, "Störer", cookies=barred)
    other = Bot(server.ws, slug, "Ben", source=MEDIA_IP)  # from another address
    try:
        await olga.join()
        await other.join()
        target = (await guest.join())["self"]["id"]
        await olga.send({"type": "remove", "id": target, "bar": True})
        assert (await guest.expect("bye"))["reason"] == "removed"
        assert (await other.expect("participant_left"))["id"] == target
        shown = await other.expect("moderation")
        assert (shown["action"], shown["target"]) == ("remove", target)

        back = Bot(server.ws, slug, "Störer", cookies=barred)
        await back.knock()
        assert (await back.expect("error"))["code"] == "barred"
        await back.close()
        # Cookies cleared: the same address gets to the lobby only, and the moderator decides.
        fresh = Bot(server.ws, slug, "Störer", cookies={"rathaus_guest": unique("g")})
        await fresh.knock()
        assert (await fresh.expect("lobby"))["status"] == "waiting"
        knock = await olga.expect("knock")
        await olga.send({"type": "deny", "id": knock["participant"]["id"]})
        assert (await fresh.expect("bye"))["reason"] == "denied"
        await fresh.close()

        await olga.send({"type": "remove", "id": other.welcome["self"]["id"], "bar": False})
        await other.expect("bye")
        again = Bot(server.ws, slug, "Ben", source=MEDIA_IP)
        assert (await again.join())["self"]["name"] == "Ben"  # not barred: may come back
        await again.close()
        actions = [e.action for e in await server.services.audit.recent(room=slug)]
        assert actions == ["remove", "deny", "remove_and_bar"]
    finally:
        await olga.close()
        await guest.close()
        await other.close()


async def test_a_moderators_mute_stops_the_sound_at_janus(server: RunningServer) -> None:
    slug, owner = await owned_room(server)
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    speaker, listener = Bot(server.ws, slug, "Laut"), Bot(server.ws, slug, "Hör")
    try:
        await olga.join()
        await listener.join()
        welcome = await speaker.join()
        await speaker.publish(RED, 440)
        feed = (await listener.expect("feed_added"))["feed"]
        got = await listener.subscribe(feed["id"])
        await wait_until(lambda: got.dominant_hz() is not None, what="the tone")

        await olga.send({"type": "mute", "id": welcome["self"]["id"]})
        assert "by" in await speaker.expect("muted")
        updated = await listener.expect("participant_updated")
        assert updated["participant"]["audio"] is False
        await drain(0.5)  # packets in flight
        frames = len(got.audio_seen)
        await quiet_for(1.5)  # (almost) no audio any more
        assert len(got.audio_seen) - frames < 5, "audio still flows after the mute"

        # Only the speaker can switch the microphone on again; then the tone comes back.
        await speaker.send({"type": "media", "audio": True, "video": True})
        before = len(got.audio_seen)
        await wait_until(lambda: len(got.audio_seen) > before + 25, what="the tone again")
        assert abs((got.dominant_hz() or 0) - 440) < 15
    finally:
        await olga.close()
        await speaker.close()
        await listener.close()


async def test_stop_screen_lock_promote_and_end(server: RunningServer) -> None:
    slug, owner = await owned_room(server)
    olga, gast = Bot(server.ws, slug, "Olga", cookies=owner), Bot(server.ws, slug, "Gast")
    try:
        await olga.join()
        gast_id = (await gast.join())["self"]["id"]
        await gast.publish((10, 10, 200), 330, kind="screen")
        screen = (await olga.expect("feed_added"))["feed"]
        await olga.send({"type": "stop_screen", "id": gast_id})
        await gast.expect("screen_stopped")
        assert (await olga.expect("feed_removed"))["id"] == screen["id"]

        await olga.send({"type": "lock", "locked": True})
        assert (await gast.expect("meeting_updated"))["locked"] is True
        late = Bot(server.ws, slug, "Spät")
        await late.knock()
        assert (await late.expect("error"))["code"] == "meeting_locked"
        await late.close()

        await olga.send({"type": "promote", "id": gast_id})
        promoted = await gast.expect("participant_updated")
        assert promoted["participant"]["role"] == "moderator"
        await gast.send({"type": "lock", "locked": False})  # now allowed
        await olga.expect("meeting_updated", locked=False)

        await gast.send({"type": "end"})
        assert (await olga.expect("bye"))["reason"] == "ended"
        assert (await gast.expect("bye"))["reason"] == "ended"
    finally:
        await olga.close()
        await gast.close()


async def test_a_guest_named_like_the_owner_is_audited_as_a_guest(server: RunningServer) -> None:
    """Issue 8: a guest who calls themselves after the owner, with the suffix the old log wrote
    after a name, is muted, promoted and then locks the meeting. Administrators read the guest
    as a guest without an account, then as a moderator without one; the name is only a name."""
    slug, owner = await owned_room(server)
    owner_id = (await server.services.rooms.get(slug)).owner_id
    forged = f"Olga Owner (moderator, user {owner_id})"
    olga, anna = Bot(server.ws, slug, "Olga", cookies=owner), Bot(server.ws, slug, forged)
    try:
        await olga.join()
        anna_id = (await anna.join())["self"]["id"]
        await olga.send({"type": "mute", "id": anna_id})
        await olga.expect("moderation", action="mute")
        await olga.send({"type": "promote", "id": anna_id})
        await olga.expect("moderation", action="promote")
        await anna.send({"type": "lock", "locked": True})
        assert (await olga.expect("moderation", action="lock"))["by"] == anna_id
    finally:
        await olga.close()
        await anna.close()

    accounts = server.services.accounts
    admin = await accounts.create_user(unique("u"), PASSWORD, "Ada Admin", admin=True)
    token, _ = await accounts.sign_in(admin.username, PASSWORD, "tests")
    async with httpx.AsyncClient(base_url=server.http, cookies={"rathaus_session": token}) as http:
        response = await http.get("/api/audit", params={"room": slug})
    assert response.status_code == 200, response.text
    olga_party = {"user_id": owner_id, "role": "moderator", "name": "Olga"}
    as_guest = {"user_id": None, "role": "guest", "name": forged}
    as_moderator = {"user_id": None, "role": "moderator", "name": forged}
    entries = response.json()[::-1]
    assert [(e["actor"], e["action"], e["target"], e["detail"]) for e in entries] == [
        (olga_party, "mute", as_guest, None),
        (olga_party, "promote", as_moderator, None),  # the target with the role it now has
        (as_moderator, "lock", None, None),
    ]


async def test_no_moderator_action_is_allowed_to_others(server: RunningServer) -> None:
    slug, owner = await owned_room(server)
    olga = Bot(server.ws, slug, "Olga", cookies=owner)
    _, member = await signed_in(server, "Mia")
    guest, mia = Bot(server.ws, slug, "Gast"), Bot(server.ws, slug, "Mia", cookies=member)
    try:
        await olga.join()
        await guest.join()
        await mia.join()
        for bot in (guest, mia):
            for action in MODERATOR_ACTIONS:
                await bot.send(action)
                error = await bot.expect("error")
                assert (error["code"], error["ref"]) == ("forbidden", action["type"])
        await quiet_for(0.3)  # none of the refused actions took effect
        assert not saw(olga, "bye", "moderation", "meeting_updated", "muted")
    finally:
        for bot in (olga, guest, mia):
            await bot.close()


async def test_refused_or_waiting_visitors_leave_no_meeting_behind(server: RunningServer) -> None:
    meetings = server.services.meetings._meetings
    slug, _ = await owned_room(server, password="Rathaus 2026!")
    refused = Bot(server.ws, slug, "Gast")
    await refused.knock()
    assert (await refused.expect("error"))["code"] == "password_required"
    await refused.close()
    assert slug not in meetings

    slug, _ = await owned_room(server, lobby=True)
    waiting = Bot(server.ws, slug, "Gast")
    await waiting.knock()
    await waiting.expect("lobby")
    assert slug in meetings
    await waiting.close()
    await wait_until(lambda: slug not in meetings, timeout=5, what="the empty meeting to end")


async def test_pages_of_other_sites_cannot_open_a_meeting_socket(server: RunningServer) -> None:
    from websockets.asyncio.client import connect
    from websockets.typing import Origin

    async with connect(f"{server.ws}/ws/rooms/team", origin=Origin("http://evil.test")) as ws:
        error = json.loads(await ws.recv())
        assert error["code"] == "forbidden"
        await ws.wait_closed()
        assert ws.close_code == 4400
