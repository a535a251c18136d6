"""The meeting's own defences: resume tokens bound to a browser, a lobby that cannot lock out the
room's moderators, rooms nobody owns that keep their rules, bars that hold for guests, and no
media resources before someone is let in."""

import asyncio
from typing import cast

import pytest

from rathaus.errors import ClientError
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.dispatch import handle
from rathaus.meetings.participant import ParticipantState
from rathaus.rooms.service import Room
from tests.support.meetings import FakeMedia, FakePeer, join, make_meeting

MODERATOR = Entrant(role=Role.MODERATOR, user_id=1)


async def refusal(coro: object) -> str:
    with pytest.raises(ClientError) as info:
        await coro  # type: ignore[misc]
    return info.value.code


# --- resume tokens -------------------------------------------------------------------------------


async def test_a_resume_token_from_another_browser_resumes_nothing() -> None:
    meeting, _ = make_meeting()
    peer = FakePeer()
    anna = await meeting.join(peer, join("Anna"), Entrant(guest_key="anna"))
    meeting.detach(anna, peer, clean=False)
    stolen = join("Anna", resume=anna.resume_token)
    assert await refusal(meeting.join(FakePeer(), stolen, Entrant(guest_key="eve"))) == (
        "resume_failed"
    )
    assert await refusal(meeting.join(FakePeer(), stolen, Entrant(user_id=7))) == "resume_failed"
    assert await refusal(meeting.join(FakePeer(), stolen, Entrant())) == "resume_failed"
    again = await meeting.join(FakePeer(), stolen, Entrant(guest_key="anna"))
    assert again is anna and anna.state is ParticipantState.JOINED


async def test_a_member_resumes_by_their_account_not_by_someone_elses() -> None:
    meeting, _ = make_meeting()
    peer = FakePeer()
    ben = await meeting.join(peer, join("Ben"), Entrant(role=Role.MEMBER, user_id=5))
    meeting.detach(ben, peer, clean=False)
    token = join("Ben", resume=ben.resume_token)
    other = Entrant(role=Role.MEMBER, user_id=6)
    assert await refusal(meeting.join(FakePeer(), token, other)) == "resume_failed"
    assert await meeting.join(FakePeer(), token, Entrant(role=Role.MEMBER, user_id=5)) is ben


async def test_without_a_browser_key_a_connected_participant_cannot_be_taken_over() -> None:
    meeting, _ = make_meeting()
    first = FakePeer()
    bot = await meeting.join(first, join("Bot"))
    token = join("Bot", resume=bot.resume_token)
    assert await refusal(meeting.join(FakePeer(), token)) == "resume_failed"
    assert first.closed is None and "bye" not in first.types()
    meeting.detach(bot, first, clean=False)  # its connection dropped: now it may resume
    assert await meeting.join(FakePeer(), token) is bot


# --- the lobby and the limits --------------------------------------------------------------------


async def test_a_full_lobby_keeps_out_knockers_but_never_the_moderators() -> None:
    meeting, _ = make_meeting(room=Room("team", "Team", lobby=True), max_waiting=2)
    for name in ("A", "B"):
        await meeting.join(FakePeer(), join(name))
    assert len(meeting.waiting) == 2
    assert await refusal(meeting.join(FakePeer(), join("C"))) == "lobby_full"
    owner = await meeting.join(FakePeer(), join("Owner"), MODERATOR)
    assert owner.state is ParticipantState.JOINED


async def test_waiting_people_do_not_fill_the_meeting() -> None:
    meeting, _ = make_meeting(room=Room("team", "Team", lobby=True), max_participants=2)
    owner = await meeting.join(FakePeer(), join("Owner"), MODERATOR)
    waiting = [await meeting.join(FakePeer(), join(f"W{i}")) for i in range(3)]
    assert len(meeting.waiting) == 3  # more waiting than seats: the moderator chooses
    meeting.admit(waiting[0])
    with pytest.raises(ClientError) as info:
        meeting.admit(waiting[1])
    assert info.value.code == "meeting_full"
    assert waiting[1].id in meeting.waiting  # still waiting, nothing lost
    assert owner.state is ParticipantState.JOINED


async def test_admit_all_into_a_meeting_that_fills_up_admits_what_fits_and_says_so() -> None:
    meeting, _ = make_meeting(room=Room("team", "Team", lobby=True), max_participants=2)
    audited: list[str] = []

    async def audit(action: str, actor: object, target: object) -> None:
        audited.append(action)

    meeting.audit = audit  # type: ignore[assignment]
    owner_peer = FakePeer()
    owner = await meeting.join(owner_peer, join("Owner"), MODERATOR)
    first, second = [await meeting.join(FakePeer(), join(n)) for n in ("A", "B")]
    assert await refusal(handle(meeting, owner, p.AdmitAll(type="admit_all"))) == "meeting_full"
    assert first.state is ParticipantState.JOINED and second.id in meeting.waiting
    assert audited == ["admit_all"]
    assert owner_peer.last("moderation")["action"] == "admit_all"


async def test_moderators_get_into_a_full_meeting() -> None:
    meeting, _ = make_meeting(max_participants=2)
    await meeting.join(FakePeer(), join("A"))
    await meeting.join(FakePeer(), join("B"))
    assert await refusal(meeting.join(FakePeer(), join("C"))) == "meeting_full"
    owner = await meeting.join(FakePeer(), join("Owner"), MODERATOR)
    assert owner.state is ParticipantState.JOINED


# --- rooms nobody owns ---------------------------------------------------------------------------

FIRST = Entrant(moderates_if_first=True)


async def test_the_first_one_in_an_unowned_room_moderates_after_passing_its_rules() -> None:
    meeting, _ = make_meeting()
    first = await meeting.join(FakePeer(), join("First"), FIRST)
    second = await meeting.join(FakePeer(), join("Second"), FIRST)
    assert (first.role, second.role) == (Role.MODERATOR, Role.GUEST)


async def test_being_first_skips_neither_the_password_nor_members_only_nor_the_lobby() -> None:
    protected = make_meeting(room=Room("a", "A", has_password=True))[0]
    assert await refusal(protected.join(FakePeer(), join("First"), FIRST)) == "password_required"
    members = make_meeting(room=Room("b", "B", guests_allowed=False))[0]
    assert await refusal(members.join(FakePeer(), join("First"), FIRST)) == "guests_not_allowed"
    lobby, _ = make_meeting(room=Room("c", "C", lobby=True))
    first = await lobby.join(FakePeer(), join("First"), FIRST)
    assert first.state is ParticipantState.WAITING and first.role is Role.GUEST


async def test_a_right_password_lets_the_first_one_in_as_moderator() -> None:
    meeting, _ = make_meeting(room=Room("a", "A", has_password=True))
    entrant = Entrant(moderates_if_first=True, password_ok=True)
    first = await meeting.join(FakePeer(), join("First"), entrant)
    assert first.role is Role.MODERATOR


# --- bars ----------------------------------------------------------------------------------------


async def test_a_barred_guest_who_clears_cookies_waits_for_a_moderator() -> None:
    meeting, _ = make_meeting()
    await meeting.join(FakePeer(), join("Mod"), MODERATOR)
    guest = await meeting.join(FakePeer(), join("Eve"), Entrant(guest_key="k1", address="a1"))
    colleague = Entrant(guest_key="k3", address="a1")
    await meeting.leave(await meeting.join(FakePeer(), join("Kai"), colleague))
    meeting.bar(guest)
    await meeting.leave(guest, "removed")
    fresh = Entrant(guest_key="k2", address="a1")  # new cookie, same address: the lobby
    assert (await meeting.join(FakePeer(), join("Eve"), fresh)).state is ParticipantState.WAITING
    old = Entrant(guest_key="k1", address="a2")  # same cookie, new address
    assert await refusal(meeting.join(FakePeer(), join("Eve"), old)) == "barred"
    # A guest who was in the meeting before the bar, from that address, comes back as before.
    back = await meeting.join(FakePeer(), join("Kai"), colleague)
    assert back.state is ParticipantState.JOINED
    # A member signed in from that address is not a guest: the bar is on the guest.
    member = Entrant(role=Role.MEMBER, user_id=9, guest_key="k2", address="a1")
    assert (await meeting.join(FakePeer(), join("Max"), member)).state is ParticipantState.JOINED


async def test_a_barred_member_is_kept_out_by_account_not_by_address() -> None:
    meeting, _ = make_meeting()
    await meeting.join(FakePeer(), join("Mod"), MODERATOR)
    member = Entrant(role=Role.MEMBER, user_id=5, address="a1")
    ben = await meeting.join(FakePeer(), join("Ben"), member)
    meeting.bar(ben)
    await meeting.leave(ben, "removed")
    assert await refusal(meeting.join(FakePeer(), join("Ben"), member)) == "barred"
    colleague = Entrant(guest_key="g", address="a1")
    assert (await meeting.join(FakePeer(), join("Guest"), colleague)).state is (
        ParticipantState.JOINED
    )


async def test_a_bar_holds_on_the_browser_across_signing_in_and_out() -> None:
    meeting, _ = make_meeting()
    await meeting.join(FakePeer(), join("Mod"), MODERATOR)
    member = Entrant(role=Role.MEMBER, user_id=5, guest_key="ben-browser", address="a1")
    ben = await meeting.join(FakePeer(), join("Ben"), member)
    meeting.bar(ben)
    await meeting.leave(ben, "removed")
    signed_out = Entrant(guest_key="ben-browser", address="a1")
    assert await refusal(meeting.join(FakePeer(), join("Ben"), signed_out)) == "barred"
    guest = await meeting.join(FakePeer(), join("Eve"), Entrant(guest_key="eve", address="a2"))
    meeting.bar(guest)
    await meeting.leave(guest, "removed")
    signed_in = Entrant(role=Role.MEMBER, user_id=8, guest_key="eve", address="a3")
    assert await refusal(meeting.join(FakePeer(), join("Eve"), signed_in)) == "barred"


class SlowMedia(FakeMedia):
    """A media side whose start takes a moment (Janus creating the room)."""

    started: asyncio.Event

    async def start(self) -> None:
        await asyncio.sleep(0)
        await self.started.wait()
        await super().start()


async def test_a_lock_made_while_the_room_is_created_applies_to_the_joiner() -> None:
    meeting, _ = make_meeting()
    media = cast(FakeMedia, meeting.media)
    media.__class__ = SlowMedia
    cast(SlowMedia, media).started = asyncio.Event()
    joining = asyncio.create_task(meeting.join(FakePeer(), join("Late")))
    await asyncio.sleep(0)  # at the door, waiting for the room
    meeting.locked = True
    cast(SlowMedia, media).started.set()
    assert await refusal(joining) == "meeting_locked"


async def test_nobody_else_becomes_moderator_while_the_moderator_is_briefly_away() -> None:
    meeting, _ = make_meeting()
    peer = FakePeer()
    first = await meeting.join(peer, join("First"), FIRST)
    meeting.detach(first, peer, clean=False)  # connection lost; may resume
    second = await meeting.join(FakePeer(), join("Second"), FIRST)
    assert (first.role, second.role) == (Role.MODERATOR, Role.GUEST)


# --- no Janus before the door opens --------------------------------------------------------------


async def test_refused_and_waiting_people_cost_no_media() -> None:
    meeting, _ = make_meeting(room=Room("team", "Team", lobby=True, has_password=True))
    media = cast(FakeMedia, meeting.media)
    assert await refusal(meeting.join(FakePeer(), join("A"))) == "password_required"
    await meeting.join(FakePeer(), join("B"), Entrant(password_ok=True))  # waits
    assert media.calls == []
    await meeting.join(FakePeer(), join("Mod"), MODERATOR)
    assert media.calls == [("start",)]


async def test_an_empty_meeting_is_kept_while_someone_is_at_the_door() -> None:
    meeting, emptied = make_meeting()
    with meeting.at_the_door():
        meeting.release_if_empty()  # another join was refused meanwhile
        assert emptied == []
    meeting.release_if_empty()
    assert emptied == [meeting]
