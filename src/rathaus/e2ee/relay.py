"""The envelope relay and the meeting's E2EE state.

Rathaus passes key envelopes from one participant's device to another's and cannot open them:
they are encrypted in the browser to the recipient's X25519 key. Envelopes live only in memory,
on their way; they are never stored or logged. The one interface through which keys travel, so
that MLS (RFC 9420) can replace the per-sender envelopes later.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rathaus.errors import RateLimited
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.participant import Participant, ParticipantState
from rathaus.meetings.ratelimit import TokenBucket

# A sender's budget: every participant's key to everyone, twice at once (a leave makes everybody
# rotate), and once every ROTATIONS_EVERY seconds on end; never less than the small meeting's.
MIN_ENVELOPES_PER_SECOND, MIN_BURST, ROTATIONS_EVERY = 20.0, 100.0, 10.0
HELD_PER_SENDER = 2  # envelopes kept for a detached recipient, per sender (the newest ones)


def encrypts(device: p.Device | None) -> bool:
    return device is not None and device.e2ee


def meeting_state(
    participants: Iterable[Participant], *, required: bool, allow_unencrypted: bool
) -> sm.E2eeState:
    """End-to-end encrypted only in a meeting that requires it (clients encrypt only then), and
    only while every admitted participant's device encrypts."""
    return sm.E2eeState(
        encrypted=required and all(encrypts(x.device) for x in participants),
        allow_unencrypted=allow_unencrypted,
    )


class KeyRelay:
    """Forwards envelopes within one meeting, and keeps the newest ones for a recipient whose
    connection dropped until it resumes (or leaves)."""

    def __init__(self, max_participants: int) -> None:
        self._rate = max(MIN_ENVELOPES_PER_SECOND, max_participants / ROTATIONS_EVERY)
        self._burst = max(MIN_BURST, 2.0 * max_participants)
        self._buckets: dict[str, TokenBucket] = {}
        self._held: dict[str, dict[str, deque[str]]] = {}  # recipient → sender → frames

    def _take(self, sender: Participant, what: str) -> None:
        """One from the sender's budget, which envelopes and key requests share."""
        bucket = self._buckets.setdefault(sender.id, TokenBucket(self._rate, self._burst))
        if not bucket.take():
            raise RateLimited(f"too many {what}; slow down")

    def forward(self, sender: Participant, recipient: Participant, envelope: str) -> None:
        self._take(sender, "key envelopes")
        frame = sm.encode(sm.KeyEnvelopeFrom(from_=sender.id, envelope=envelope))
        if recipient.state is ParticipantState.DETACHED:
            held = self._held.setdefault(recipient.id, {})
            held.setdefault(sender.id, deque(maxlen=HELD_PER_SENDER)).append(frame)
        else:
            recipient.send(frame)

    def request(self, sender: Participant, recipient: Participant) -> None:
        """A key request, from the same budget as envelopes. Not held for a detached recipient:
        the requester asks again if its frames still do not decrypt."""
        self._take(sender, "key requests")
        if recipient.state is not ParticipantState.DETACHED:
            recipient.send(sm.encode(sm.KeyRequestFrom(from_=sender.id)))

    def resumed(self, recipient: Participant) -> None:
        """Deliver what arrived for the participant while its connection was down."""
        for frames in self._held.pop(recipient.id, {}).values():
            for frame in frames:
                recipient.send(frame)

    def forget(self, participant_id: str) -> None:
        """The participant left: nothing more for it or from it."""
        self._buckets.pop(participant_id, None)
        self._held.pop(participant_id, None)
        for held in self._held.values():
            held.pop(participant_id, None)
