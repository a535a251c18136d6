"""Raised hands (an ordered queue) and reactions (an allow-list and a budget per participant),
through the meeting's rules with the Janus side replaced by a recorder."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rathaus.errors import BadMessage, ClientError, RateLimited
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.dispatch import handle
from rathaus.meetings.hands import HandQueue
from rathaus.meetings.meeting import Meeting
from rathaus.meetings.participant import Participant, ParticipantState
from rathaus.meetings.reactions import ReactionBudget
from rathaus.rooms.service import Room
from tests.support.meetings import FakePeer, join, make_meeting

MODERATOR = Entrant(role=Role.MODERATOR, user_id=1)


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def queue(peer: FakePeer) -> list[tuple[str, int]]:
    """The last `hands` this peer got, as (participant id, position)."""
    return [(h["participant"], h["position"]) for h in peer.last("hands")["hands"]]


def raise_hand(raised: bool) -> p.RaiseHand:
    return p.RaiseHand(type="raise_hand", raised=raised)


def react(reaction: Any) -> p.React:
    return p.React(type="react", reaction=reaction)


async def three(meeting: Meeting) -> tuple[list[Participant], list[FakePeer]]:
    peers = [FakePeer(), FakePeer(), FakePeer()]
    people = [
        await meeting.join(peers[0], join("Olga"), MODERATOR),
        await meeting.join(peers[1], join("Anna"), Entrant(guest_key="anna")),
        await meeting.join(peers[2], join("Ben"), Entrant(guest_key="ben")),
    ]
    return people, peers


async def test_hands_keep_the_order_they_were_raised_in() -> None:
    meeting, _ = make_meeting()
    clock = Clock()
    meeting.hands = HandQueue(clock)
    (_, anna, ben), (olga_peer, anna_peer, _) = await three(meeting)

    await handle(meeting, ben, raise_hand(True))
    clock.now += 5
    await handle(meeting, anna, raise_hand(True))
    assert queue(olga_peer) == [(ben.id, 1), (anna.id, 2)]
    assert [h["raised_at"] for h in olga_peer.last("hands")["hands"]] == [1000.0, 1005.0]

    # Raising again keeps Ben's place and tells nobody anything new.
    sent = len(anna_peer.frames)
    await handle(meeting, ben, raise_hand(True))
    assert len(anna_peer.frames) == sent

    # Lowering moves those behind up; lowering a hand that is down changes nothing.
    await handle(meeting, ben, raise_hand(False))
    assert queue(anna_peer) == [(anna.id, 1)]
    await handle(meeting, ben, raise_hand(False))
    assert len(anna_peer.frames) == sent + 1
    clock.now += 5
    await handle(meeting, ben, raise_hand(True))
    assert queue(olga_peer) == [(anna.id, 1), (ben.id, 2)]  # back at the end of the queue


async def test_a_joiner_and_a_resumed_participant_find_the_hands_in_welcome() -> None:
    meeting, _ = make_meeting(resume_grace=5)
    anna_peer = FakePeer()
    anna = await meeting.join(anna_peer, join("Anna"), Entrant(guest_key="anna"))
    assert anna_peer.last("welcome")["hands"] == []
    await handle(meeting, anna, raise_hand(True))

    ben_peer = FakePeer()
    await meeting.join(ben_peer, join("Ben"))
    assert [(h["participant"], h["position"]) for h in ben_peer.last("welcome")["hands"]] == [
        (anna.id, 1)
    ]

    meeting.detach(anna, anna_peer, clean=False)  # a lost connection keeps the hand up
    assert anna.state is ParticipantState.DETACHED and meeting.hands.is_raised(anna.id)
    again = FakePeer()
    await meeting.join(again, join("Anna", resume=anna.resume_token), Entrant(guest_key="anna"))
    assert again.last("welcome")["hands"][0]["participant"] == anna.id


async def test_leaving_lowers_the_hand() -> None:
    meeting, _ = make_meeting()
    (_, anna, ben), (olga_peer, _, ben_peer) = await three(meeting)
    await handle(meeting, anna, raise_hand(True))
    await handle(meeting, ben, raise_hand(True))
    await meeting.leave(anna)
    assert queue(olga_peer) == [(ben.id, 1)]
    assert ben_peer.types()[-2:] == ["participant_left", "hands"]
    assert not meeting.hands.is_raised(anna.id)


async def test_only_moderators_lower_the_hands_of_others() -> None:
    meeting, _ = make_meeting()
    audited: list[tuple[str, str, str | None]] = []

    async def audit(action: str, actor: Participant, target: Participant | None) -> None:
        audited.append((action, actor.name, target.name if target else None))

    meeting.audit = audit
    (olga, anna, ben), (olga_peer, anna_peer, ben_peer) = await three(meeting)
    await handle(meeting, anna, raise_hand(True))
    await handle(meeting, ben, raise_hand(True))

    with pytest.raises(ClientError) as refused:
        await handle(meeting, ben, p.LowerHand(type="lower_hand", id=anna.id))
    assert refused.value.code == "forbidden"
    assert queue(olga_peer) == [(anna.id, 1), (ben.id, 2)]

    await handle(meeting, olga, p.LowerHand(type="lower_hand", id=anna.id))
    assert queue(ben_peer) == [(ben.id, 1)]
    shown = anna_peer.last("moderation")
    assert (shown["action"], shown["by"], shown["target"]) == ("lower_hand", olga.id, anna.id)
    assert audited == [("lower_hand", "Olga", "Anna")]

    # A hand that is down already (another moderator was quicker): no action, nothing shown.
    moderation = len([f for f in ben_peer.frames if f["type"] == "moderation"])
    await handle(meeting, olga, p.LowerHand(type="lower_hand", id=anna.id))
    assert len([f for f in ben_peer.frames if f["type"] == "moderation"]) == moderation
    assert len(audited) == 1

    with pytest.raises(ClientError) as gone:
        await handle(meeting, olga, p.LowerHand(type="lower_hand", id="abcdef"))
    assert gone.value.code == "unknown_participant"


async def test_a_participant_in_the_lobby_raises_no_hand() -> None:
    meeting, _ = make_meeting(room=Room("team", "Team", lobby=True))
    await meeting.join(FakePeer(), join("Olga"), MODERATOR)
    waiting = await meeting.join(FakePeer(), join("Gast"))
    assert waiting.state is ParticipantState.WAITING
    for message in (raise_hand(True), react("party")):
        with pytest.raises(ClientError) as refused:
            await handle(meeting, waiting, message)
        assert refused.value.code == "not_admitted"
    assert meeting.hands.listed() == []


def test_the_hand_is_a_plain_method_without_a_websocket() -> None:
    """A telephone participant (``*1``) has no socket: the meeting's method is all it needs."""
    meeting, _ = make_meeting()
    caller = Participant(name="Telefon", peer=None)
    meeting.participants[caller.id] = caller
    assert meeting.raise_hand(caller, True) is True
    assert meeting.raise_hand(caller, True) is False
    assert [h.participant for h in meeting.hands.listed()] == [caller.id]
    assert meeting.raise_hand(caller, False) is True


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "react", "reaction": "👍"}',  # names on the wire, never the emoji
        '{"type": "react", "reaction": "poop"}',
        '{"type": "react", "reaction": "Thumbs_up"}',
        '{"type": "react", "reaction": null}',
        '{"type": "react"}',
        '{"type": "react", "reaction": "heart", "to": "abc"}',
        '{"type": "raise_hand", "raised": "yes"}',
        '{"type": "raise_hand", "raised": 1}',
        '{"type": "lower_hand", "id": "<b>"}',
    ],
)
def test_anything_off_the_allow_list_is_a_bad_message(frame: str) -> None:
    with pytest.raises(BadMessage) as refused:
        p.parse_client_message(frame)
    assert refused.value.code == "bad_message"


def test_the_allowed_reactions_parse() -> None:
    for name in ("thumbs_up", "applause", "laugh", "surprise", "heart", "party"):
        message = p.parse_client_message(f'{{"type": "react", "reaction": "{name}"}}')
        assert isinstance(message, p.React) and message.reaction == name


async def test_a_reaction_reaches_everyone_the_sender_included() -> None:
    meeting, _ = make_meeting()
    (_, anna, _), peers = await three(meeting)
    await handle(meeting, anna, react("applause"))
    for peer in peers:
        assert peer.last("reaction") == {
            "type": "reaction",
            "participant": anna.id,
            "reaction": "applause",
        }


async def test_reactions_have_a_budget_per_participant() -> None:
    meeting, _ = make_meeting()
    clock = Clock()
    meeting.reactions = ReactionBudget(clock)
    (_, anna, ben), (olga_peer, _, _) = await three(meeting)

    def seen() -> list[str]:
        return [f["participant"] for f in olga_peer.frames if f["type"] == "reaction"]

    for _ in range(5):
        await handle(meeting, anna, react("thumbs_up"))
    with pytest.raises(RateLimited) as limited:
        await handle(meeting, anna, react("thumbs_up"))
    assert limited.value.code == "rate_limited"
    assert seen() == [anna.id] * 5  # the refused one went to nobody

    await handle(meeting, ben, react("heart"))  # Ben has a budget of his own
    clock.now += 1.0  # one more a second
    await handle(meeting, anna, react("party"))
    with pytest.raises(RateLimited):
        await handle(meeting, anna, react("party"))
    assert seen() == [anna.id] * 5 + [ben.id, anna.id]


async def test_the_budget_of_someone_who_left_is_forgotten() -> None:
    meeting, _ = make_meeting()
    clock = Clock()
    meeting.reactions = ReactionBudget(clock)
    anna = await meeting.join(FakePeer(), join("Anna"))
    for _ in range(5):
        meeting.react(anna, "laugh")
    with pytest.raises(RateLimited):
        meeting.react(anna, "laugh")
    await meeting.join(FakePeer(), join("Ben"))  # keeps the meeting from ending
    await meeting.leave(anna)
    await asyncio.sleep(0)
    assert anna.id not in meeting.reactions._buckets
