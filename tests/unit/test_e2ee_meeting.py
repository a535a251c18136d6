"""The meeting's side of end-to-end encryption: the public-key directory in `welcome` and
`participant_joined`, the envelope relay, the E2EE state and the `e2ee_required` door."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

from rathaus.config import MeetingSettings
from rathaus.errors import ClientError
from rathaus.meetings import protocol as p
from rathaus.meetings.access import Entrant, Role
from rathaus.meetings.dispatch import handle
from rathaus.meetings.meeting import Meeting
from rathaus.meetings.participant import Participant
from rathaus.rooms.service import Room
from tests.support.devices import TestDevice, b64url
from tests.support.meetings import FakeMedia, FakePeer

MODERATOR = Entrant(role=Role.MODERATOR)
ENVELOPE = b64url(bytes(range(60)))


def make_meeting(
    room: Room | None = None, **settings: Any
) -> tuple[Meeting, list[tuple[Any, ...]]]:
    audited: list[tuple[Any, ...]] = []

    async def audit(action: str, actor: Participant, target: Participant | None) -> None:
        audited.append((action, actor.name, target.name if target else None))

    meeting = Meeting(
        room or Room("team", "Team"),
        MeetingSettings(**{"e2ee_required": False, **settings}),  # fakes cannot encrypt
        make_media=FakeMedia,  # type: ignore[arg-type]
        ice_servers=lambda pid: [],
        on_empty=lambda meeting: None,
        audit=audit,
    )
    return meeting, audited


def join(name: str, device: dict[str, Any] | None = None, resume: str | None = None) -> p.Join:
    return p.Join(
        type="join",
        name=name,
        resume=resume,
        device=p.Device.model_validate(device) if device else None,
    )


def encrypting(name: str) -> p.Join:
    return join(name, TestDevice.new().public())


def key_envelope(to: str, envelope: str = ENVELOPE) -> p.KeyEnvelope:
    return p.KeyEnvelope(type="key_envelope", to=to, envelope=envelope)


async def refused(code: str, action: Any) -> None:
    with pytest.raises(ClientError) as caught:
        await action
    assert caught.value.code == code


async def test_everyone_learns_everyones_public_keys() -> None:
    meeting, _ = make_meeting()
    anna_device, ben_device = TestDevice.new().public(), TestDevice.new().public(e2ee=False)
    anna_peer, ben_peer, carl_peer = FakePeer(), FakePeer(), FakePeer()
    await meeting.join(anna_peer, join("Anna", anna_device))
    await meeting.join(ben_peer, join("Ben", ben_device))
    await meeting.join(carl_peer, join("Carl"))
    assert anna_peer.last("welcome")["self"]["device"] == anna_device
    assert [x["device"] for x in carl_peer.last("welcome")["participants"]] == [
        anna_device,
        ben_device,
    ]
    joined = [m["participant"] for m in anna_peer.frames if m["type"] == "participant_joined"]
    assert [x["device"] for x in joined] == [ben_device, None]


async def test_an_envelope_reaches_its_recipient_only_and_unchanged() -> None:
    meeting, _ = make_meeting()
    peers = [FakePeer() for _ in range(3)]
    anna, ben, _carl = [
        await meeting.join(peer, encrypting(name)) for peer, name in zip(peers, "ABC", strict=True)
    ]
    before = [len(peer.frames) for peer in peers]
    await handle(meeting, anna, key_envelope(ben.id))
    assert peers[1].frames[-1] == {"type": "key_envelope", "from": anna.id, "envelope": ENVELOPE}
    assert [len(peer.frames) - n for peer, n in zip(peers, before, strict=True)] == [0, 1, 0]


async def test_envelopes_to_nobody_or_oneself_are_refused() -> None:
    meeting, _ = make_meeting()
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    await refused("unknown_participant", handle(meeting, anna, key_envelope("abcdef")))
    await refused("unknown_participant", handle(meeting, anna, key_envelope(anna.id)))


async def test_the_lobby_neither_sends_nor_receives_envelopes() -> None:
    meeting, _ = make_meeting(Room("team", "Team", lobby=True))
    olga = await meeting.join(FakePeer(), encrypting("Olga"), MODERATOR)
    waiting_peer = FakePeer()
    waiting = await meeting.join(waiting_peer, encrypting("Gast"))
    await refused("unknown_participant", handle(meeting, olga, key_envelope(waiting.id)))
    await refused("not_admitted", handle(meeting, waiting, key_envelope(olga.id)))
    assert waiting_peer.types() == ["lobby"]


async def test_a_detached_recipient_gets_the_newest_envelopes_when_it_resumes() -> None:
    meeting, _ = make_meeting(resume_grace=5)
    anna_peer = FakePeer()
    anna = await meeting.join(anna_peer, encrypting("Anna"))
    ben = await meeting.join(FakePeer(), encrypting("Ben"))
    meeting.detach(anna, anna_peer, clean=False)
    sent = [b64url(bytes([i]) * 40) for i in range(3)]
    for envelope in sent:
        await handle(meeting, ben, key_envelope(anna.id, envelope))
    again = FakePeer()
    await meeting.join(again, join("Anna", resume=anna.resume_token))
    assert again.types() == ["welcome", "key_envelope", "key_envelope"]
    assert [f["envelope"] for f in again.frames[1:]] == sent[1:]  # the two newest, in order


async def test_envelopes_per_sender_are_limited() -> None:
    meeting, _ = make_meeting(max_participants=2)
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    ben = await meeting.join(FakePeer(), encrypting("Ben"))
    for _ in range(100):
        await handle(meeting, anna, key_envelope(ben.id))
    await refused("rate_limited", handle(meeting, anna, key_envelope(ben.id)))
    await asyncio.sleep(0.1)  # 20 per second come back
    await handle(meeting, anna, key_envelope(ben.id))


def key_envelopes(*to: str) -> p.KeyEnvelopes:
    return p.KeyEnvelopes.model_validate(
        {"type": "key_envelopes", "envelopes": [{"to": t, "envelope": ENVELOPE} for t in to]}
    )


async def test_a_rotation_in_a_large_meeting_goes_out_in_batches() -> None:
    """150 people: every one of them gets Anna's new key, from two messages of hers, twice over
    (two leaves in a row), within the sender's budget."""
    meeting, _ = make_meeting(max_participants=200)
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    peers = [FakePeer() for _ in range(149)]
    ids = [(await meeting.join(peer, encrypting(f"P{i}"))).id for i, peer in enumerate(peers)]
    for _ in range(2):
        await handle(meeting, anna, key_envelopes(*ids[:100]))
        await handle(meeting, anna, key_envelopes(*ids[100:]))
    for peer in peers:
        got = [f for f in peer.frames if f["type"] == "key_envelope"]
        assert got == [{"type": "key_envelope", "from": anna.id, "envelope": ENVELOPE}] * 2


async def test_a_batch_reaches_those_present_and_names_the_missing() -> None:
    meeting, _ = make_meeting()
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    ben_peer = FakePeer()
    ben = await meeting.join(ben_peer, encrypting("Ben"))
    with pytest.raises(ClientError, match="2 of 3 recipients") as caught:
        await handle(meeting, anna, key_envelopes(ben.id, "0123abcd", anna.id))
    assert caught.value.code == "unknown_participant"
    assert ben_peer.last("key_envelope")["from"] == anna.id


async def test_a_batch_over_the_budget_says_how_much_of_it_went_out() -> None:
    meeting, _ = make_meeting(max_participants=50)  # a burst of 100 envelopes
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    ben_peer = FakePeer()
    ben = await meeting.join(ben_peer, encrypting("Ben"))
    await handle(meeting, anna, key_envelopes(*[ben.id] * 60))
    with pytest.raises(ClientError) as caught:
        await handle(meeting, anna, key_envelopes(*[ben.id] * 60))
    assert caught.value.code == "rate_limited"
    relayed = re.match(r"(\d+) of 60 relayed", str(caught.value))
    assert relayed is not None, caught.value
    assert 40 <= int(relayed[1]) < 60  # 40 left of the burst (and what trickled in meanwhile)
    assert ben_peer.types().count("key_envelope") == 60 + int(relayed[1])


@pytest.mark.parametrize("count", [0, p.MAX_ENVELOPES_PER_MESSAGE + 1])
def test_a_batch_has_one_to_a_hundred_envelopes(count: int) -> None:
    frame = {"type": "key_envelopes", "envelopes": [{"to": "ab", "envelope": ENVELOPE}] * count}
    with pytest.raises(ClientError) as caught:
        p.parse_client_message(json.dumps(frame))
    assert caught.value.code == "bad_message"


async def test_the_meeting_is_encrypted_while_everyone_encrypts() -> None:
    meeting, _ = make_meeting(e2ee_required=True)
    meeting.allow_unencrypted = True  # a moderator's decision
    anna_peer, ben_peer = FakePeer(), FakePeer()
    await meeting.join(anna_peer, encrypting("Anna"))
    assert anna_peer.last("welcome")["e2ee"] == {"encrypted": True, "allow_unencrypted": True}
    ben = await meeting.join(ben_peer, join("Ben", TestDevice.new().public(e2ee=False)))
    assert ben_peer.last("welcome")["e2ee"]["encrypted"] is False
    assert "e2ee_state" not in ben_peer.types()  # the newcomer has it from `welcome`
    assert anna_peer.types()[-2:] == ["participant_joined", "e2ee_state"]
    assert anna_peer.last("e2ee_state")["encrypted"] is False
    await meeting.leave(ben)
    assert anna_peer.types()[-2:] == ["participant_left", "e2ee_state"]
    assert anna_peer.last("e2ee_state") == {
        "type": "e2ee_state",
        "encrypted": True,
        "allow_unencrypted": True,
    }
    await meeting.join(FakePeer(), encrypting("Carl"))
    assert anna_peer.types()[-1] == "participant_joined"  # no change, nothing to tell


async def test_without_the_setting_nobody_is_refused_for_not_encrypting() -> None:
    meeting, _ = make_meeting()
    await meeting.join(FakePeer(), encrypting("Anna"))
    await meeting.join(FakePeer(), join("Ben"))
    # Not encrypted even while everyone could: clients encrypt only in meetings that require it.
    assert not meeting.e2ee_state().encrypted


async def test_e2ee_required_refuses_devices_that_cannot_encrypt() -> None:
    meeting, audited = make_meeting(e2ee_required=True)
    for device in (None, TestDevice.new().public(e2ee=False)):
        for entrant in (None, MODERATOR):  # moderators too
            await refused("e2ee_required", meeting.join(FakePeer(), join("Ohne", device), entrant))
    olga_peer, anna_peer = FakePeer(), FakePeer()
    olga = await meeting.join(olga_peer, encrypting("Olga"), MODERATOR)
    await meeting.join(anna_peer, encrypting("Anna"))

    await handle(meeting, olga, p.AllowUnencrypted(type="allow_unencrypted", allowed=True))
    assert anna_peer.last("e2ee_state") == {
        "type": "e2ee_state",
        "encrypted": True,
        "allow_unencrypted": True,
    }
    assert anna_peer.last("moderation")["action"] == "allow_unencrypted"
    phone_peer = FakePeer()
    phone = await meeting.join(phone_peer, join("Telefon"))
    assert phone_peer.last("welcome")["e2ee"] == {"encrypted": False, "allow_unencrypted": True}
    assert anna_peer.last("e2ee_state")["encrypted"] is False

    # Disallowing again keeps those present (and the meeting visibly unencrypted) ...
    await handle(meeting, olga, p.AllowUnencrypted(type="allow_unencrypted", allowed=False))
    assert anna_peer.last("e2ee_state") == {
        "type": "e2ee_state",
        "encrypted": False,
        "allow_unencrypted": False,
    }
    # ... but lets no one else in; the moderators learn who was refused (the others do not).
    await refused("e2ee_required", meeting.join(FakePeer(), join("Noch einer")))
    assert olga_peer.last("e2ee_refused") == {"type": "e2ee_refused", "name": "Noch einer"}
    assert "e2ee_refused" not in anna_peer.types()
    await meeting.leave(phone)
    assert anna_peer.last("e2ee_state")["encrypted"] is True
    assert audited == [
        ("allow_unencrypted", "Olga", None),
        ("disallow_unencrypted", "Olga", None),
    ]


async def test_only_moderators_allow_unencrypted_participants() -> None:
    meeting, audited = make_meeting(e2ee_required=True)
    await meeting.join(FakePeer(), encrypting("Olga"), MODERATOR)
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    allow = p.AllowUnencrypted(type="allow_unencrypted", allowed=True)
    await refused("forbidden", handle(meeting, anna, allow))
    assert not meeting.allow_unencrypted and audited == []


async def test_the_lobby_holds_unencrypted_ones_once_they_are_disallowed_again() -> None:
    meeting, _ = make_meeting(Room("team", "Team", lobby=True), e2ee_required=True)
    olga = await meeting.join(FakePeer(), encrypting("Olga"), MODERATOR)
    await handle(meeting, olga, p.AllowUnencrypted(type="allow_unencrypted", allowed=True))
    phone = await meeting.join(FakePeer(), join("Telefon"))
    anna = await meeting.join(FakePeer(), encrypting("Anna"))
    await handle(meeting, olga, p.AllowUnencrypted(type="allow_unencrypted", allowed=False))
    await refused("e2ee_required", handle(meeting, olga, p.Admit(type="admit", id=phone.id)))
    await handle(meeting, olga, p.AdmitAll(type="admit_all"))
    assert list(meeting.waiting) == [phone.id]
    assert anna.id in meeting.participants and meeting.e2ee_state().encrypted


@pytest.mark.parametrize(("server", "room"), [(True, True), (True, False), (False, True)])
async def test_the_room_and_the_server_decide_together(server: bool, room: bool) -> None:
    meeting, _ = make_meeting(Room("team", "Team", e2ee=room), e2ee_required=server)
    required = server and room
    assert meeting.e2ee_required is required
    if required:
        await refused("e2ee_required", meeting.join(FakePeer(), join("Telefon")))
        await meeting.join(peer := FakePeer(), encrypting("Anna"))
    else:
        await meeting.join(peer := FakePeer(), join("Telefon"))
    assert peer.last("welcome")["e2ee_required"] is required


async def test_a_changed_room_setting_waits_for_the_next_meeting() -> None:
    meeting, _ = make_meeting(Room("team", "Team", e2ee=False), e2ee_required=True)
    await meeting.join(FakePeer(), join("Telefon"))
    meeting.room = Room("team", "Team", e2ee=True)  # as the registry does at every join
    peer = FakePeer()
    await meeting.join(peer, join("Noch ein Telefon"))  # the ones present do not encrypt
    assert peer.last("welcome")["e2ee_required"] is False
    following, _ = make_meeting(meeting.room, e2ee_required=True)
    await refused("e2ee_required", following.join(FakePeer(), join("Telefon")))
