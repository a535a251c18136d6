"""The meeting's rules, with the Janus side replaced by a recorder (the edge of the machine)."""

import asyncio
from typing import cast

import pytest

from rathaus.errors import ClientError, InvalidState
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.access import Entrant
from rathaus.meetings.dispatch import handle
from rathaus.meetings.participant import IllegalTransition, ParticipantState
from tests.support.meetings import FakeMedia, FakePeer, join, make_meeting


async def test_a_late_joiner_sees_everyone_and_everyone_sees_the_joiner() -> None:
    meeting, _ = make_meeting()
    anna_peer, ben_peer = FakePeer(), FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    media = cast(FakeMedia, meeting.media)
    media.listener.feed_up(sm.FeedInfo(id="11", participant=anna.id, kind="camera"))
    media._feeds.append(sm.FeedInfo(id="11", participant=anna.id, kind="camera"))
    ben = await meeting.join(ben_peer, join("Ben"))

    welcome = ben_peer.last("welcome")
    assert welcome["self"]["name"] == "Ben"
    assert [x["name"] for x in welcome["participants"]] == ["Anna"]
    assert welcome["feeds"] == [{"id": "11", "participant": anna.id, "kind": "camera"}]
    assert welcome["ice_servers"][0]["username"] == ben.id
    assert anna_peer.last("participant_joined")["participant"]["id"] == ben.id
    assert "feed_added" not in anna_peer.types()  # one's own feed is not offered to oneself


async def test_media_state_is_broadcast_and_publish_answers() -> None:
    meeting, _ = make_meeting()
    anna_peer, ben_peer = FakePeer(), FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    await meeting.join(ben_peer, join("Ben"))
    await handle(meeting, anna, p.MediaState(type="media", audio=False, video=True))
    assert ben_peer.last("participant_updated")["participant"]["audio"] is False
    await handle(meeting, anna, p.Publish(type="publish", kind="camera", sdp="offer"))
    assert anna_peer.last("published") == {
        "type": "published",
        "kind": "camera",
        "sdp": "answer-sdp",
    }


async def test_a_second_join_is_refused() -> None:
    meeting, _ = make_meeting()
    anna = await meeting.join(FakePeer(), join("Anna"))
    with pytest.raises(InvalidState) as info:
        await handle(meeting, anna, join("Anna"))
    assert info.value.code == "already_joined"


async def test_a_clean_close_leaves_at_once() -> None:
    meeting, emptied = make_meeting()
    anna_peer, ben_peer = FakePeer(), FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    await meeting.join(ben_peer, join("Ben"))
    meeting.detach(anna, anna_peer, clean=True)
    await asyncio.sleep(0)
    assert ben_peer.last("participant_left")["id"] == anna.id
    assert anna.state is ParticipantState.LEFT
    assert ("remove", anna.id) in meeting.media.calls  # type: ignore[attr-defined]
    assert not emptied


async def test_a_lost_connection_can_resume_within_the_grace_period() -> None:
    meeting, _ = make_meeting(resume_grace=0.2)
    anna_peer, ben_peer = FakePeer(), FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    await meeting.join(ben_peer, join("Ben"))
    meeting.detach(anna, anna_peer, clean=False)
    assert anna.state is ParticipantState.DETACHED
    new_peer = FakePeer()
    again = await meeting.join(new_peer, join("Anna", resume=anna.resume_token))
    assert again is anna and anna.state is ParticipantState.JOINED
    await asyncio.sleep(0.3)
    assert "participant_left" not in ben_peer.types()
    assert new_peer.last("welcome")["self"]["id"] == anna.id


async def test_without_resume_the_participant_leaves_after_the_grace_period() -> None:
    meeting, emptied = make_meeting(resume_grace=0.05)
    anna_peer = FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    meeting.detach(anna, anna_peer, clean=False)
    await asyncio.sleep(0.15)
    assert anna.state is ParticipantState.LEFT
    assert emptied == [meeting]


async def test_resume_with_a_wrong_token_fails_and_a_second_tab_replaces_the_first() -> None:
    meeting, _ = make_meeting()
    first = FakePeer()
    browser = Entrant(guest_key="anna-browser")
    anna = await meeting.join(first, join("Anna"), browser)
    with pytest.raises(ClientError) as info:
        await meeting.join(FakePeer(), join("Anna", resume="wrong"), browser)
    assert info.value.code == "resume_failed"
    second = FakePeer()
    await meeting.join(second, join("Anna", resume=anna.resume_token), browser)
    assert first.last("bye")["reason"] == "replaced" and first.closed == 1000
    meeting.detach(anna, first, clean=True)  # the old socket closing does not remove Anna
    await asyncio.sleep(0)
    assert anna.state is ParticipantState.JOINED


async def test_full_meeting_is_refused() -> None:
    meeting, _ = make_meeting(max_participants=2)
    await meeting.join(FakePeer(), join("A"))
    await meeting.join(FakePeer(), join("B"))
    with pytest.raises(ClientError) as info:
        await meeting.join(FakePeer(), join("C"))
    assert info.value.code == "meeting_full"


async def test_media_loss_and_talking_are_told_to_everyone() -> None:
    meeting, _ = make_meeting()
    anna_peer = FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"))
    meeting.media_lost()
    meeting.talking(anna.id, True)
    meeting.media_restored()
    assert anna_peer.types()[-3:] == ["media_unavailable", "talking", "media_restored"]


def test_illegal_transitions_raise() -> None:
    from rathaus.meetings.participant import Participant

    participant = Participant(name="A", peer=None)
    participant.move(ParticipantState.LEFT)
    with pytest.raises(IllegalTransition):
        participant.move(ParticipantState.JOINED)


async def test_welcome_says_how_long_the_meeting_has_been_running() -> None:
    """The same duration for everyone: counted from the first participant, not one's own join."""
    meeting, _ = make_meeting()
    anna_peer, ben_peer = FakePeer(), FakePeer()
    await meeting.join(anna_peer, join("Anna"))
    assert anna_peer.last("welcome")["running_for"] < 1
    assert meeting.started is not None
    meeting.started -= 125  # as if Anna had come in two minutes ago
    await meeting.join(ben_peer, join("Ben"))
    assert 125 <= ben_peer.last("welcome")["running_for"] < 126
