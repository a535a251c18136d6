"""One live meeting: its participants, the lobby, their messages, and what everyone is told."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

from rathaus.config import MeetingSettings
from rathaus.e2ee.relay import KeyRelay, encrypts, meeting_state
from rathaus.errors import ClientError, ErrorCode, MediaUnavailable
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm
from rathaus.meetings.access import (
    Decision,
    Entrant,
    Outcome,
    Role,
    RoomAccess,
    decide_entry,
    e2ee_required,
    role_in_meeting,
)
from rathaus.meetings.hands import HandQueue
from rathaus.meetings.participant import Participant, ParticipantState, Peer
from rathaus.meetings.reactions import ReactionBudget
from rathaus.meetings.server_messages import IceServer, encode
from rathaus.rooms.service import Room

if TYPE_CHECKING:
    from rathaus.meetings.media import MediaListener, MeetingMedia

log = logging.getLogger(__name__)

MAX_KNOWN_GUESTS = 10_000

Audit = Callable[[str, Participant, "Participant | None"], Awaitable[None]]


async def _no_audit(action: str, actor: Participant, target: Participant | None) -> None:
    return None


class MeetingFull(ClientError):
    code = ErrorCode.MEETING_FULL
    status = 403


class UnknownParticipant(ClientError):
    code = ErrorCode.UNKNOWN_PARTICIPANT
    status = 404


class LobbyFull(ClientError):
    code = ErrorCode.LOBBY_FULL
    status = 403


class ResumeFailed(ClientError):
    code = ErrorCode.RESUME_FAILED


class Refused(ClientError):
    """Entry or an action refused by the meeting's rules (the code says why)."""

    status = 403


class Meeting:
    """Also the ``MediaListener`` of its ``MeetingMedia``."""

    def __init__(
        self,
        room: Room,
        settings: MeetingSettings,
        make_media: Callable[[MediaListener], MeetingMedia],
        ice_servers: Callable[[str], list[IceServer]],
        on_empty: Callable[[Meeting], None],
        audit: Audit = _no_audit,
    ) -> None:
        self.room = room
        self._settings = settings
        self.media = make_media(self)
        self._ice_servers = ice_servers
        self._on_empty = on_empty
        self.audit = audit
        self.participants: dict[str, Participant] = {}
        self.waiting: dict[str, Participant] = {}  # the lobby, in order of arrival
        self.locked = False
        # When the first participant came in (monotonic): the meeting's duration for everyone.
        self.started: float | None = None
        self.barred_users: set[int] = set()
        self.barred_guests: set[str] = set()
        self.barred_addresses: set[str] = set()  # of barred guests
        # Guest keys of everyone admitted so far: known browsers behind a barred address are
        # not suspected of being the barred guest with cleared cookies.
        self.known_guests: set[str] = set()
        self.closed = False
        # Joins under way: the meeting is not released while one is still at the door.
        self._entering = 0
        # End-to-end encryption: a moderator may let in devices that cannot encrypt. Whether it is
        # required is fixed for the meeting's life: clients decide to encrypt by their `welcome`,
        # so a change of the room's setting takes effect in its next meeting.
        self.e2ee_required = e2ee_required(settings.e2ee_required, room.e2ee)
        self.allow_unencrypted = False
        self._e2ee_shown = self.e2ee_state()
        self.keys = KeyRelay(settings.max_participants)
        self.hands = HandQueue()
        self.reactions = ReactionBudget()

    # --- entering: the door, the lobby, resuming -------------------------------------------------

    def access(self) -> RoomAccess:
        return RoomAccess(
            guests_allowed=self.room.guests_allowed,
            lobby=self.room.lobby,
            has_password=self.room.has_password,
            locked=self.locked,
            moderator_present=self.moderator_present(),
        )

    def running_for(self) -> float:
        """Seconds since the first participant came in (0 before)."""
        return 0.0 if self.started is None else round(time.monotonic() - self.started, 1)

    def moderator_present(self) -> bool:
        return any(
            x.is_moderator and x.state is ParticipantState.JOINED
            for x in self.participants.values()
        )

    def _moderated(self) -> bool:
        """A moderator is in the meeting, or only briefly away (detached, may resume): no one
        new becomes moderator of a room nobody owns meanwhile."""
        return any(x.is_moderator for x in self.participants.values())

    def _barred(self, entrant: Entrant) -> bool:
        """By account, and by browser: a barred member who signs out, or a barred guest who
        signs in, is still the same browser."""
        return (entrant.user_id is not None and entrant.user_id in self.barred_users) or (
            entrant.guest_key is not None and entrant.guest_key in self.barred_guests
        )

    def _suspect(self, entrant: Entrant) -> bool:
        """A guest new to this meeting from the address of a barred guest (who may have
        cleared their cookies)."""
        return (
            entrant.user_id is None
            and entrant.address in self.barred_addresses
            and entrant.guest_key not in self.known_guests
        )

    @contextlib.contextmanager
    def at_the_door(self) -> Iterator[None]:
        """While someone is at the door (the server checks who they are, Janus is asked for the
        meeting's room), the meeting is not released even if it is empty."""
        self._entering += 1
        try:
            yield
        finally:
            self._entering -= 1

    def bar(self, participant: Participant) -> None:
        """Keep a removed participant out of this meeting: a member by account, a guest by
        browser; a guest new to the meeting from the same address (cleared cookies, another
        browser) waits in the lobby for a moderator, even where the room has none, rather than
        being refused: other people may share that address (an office, a public network)."""
        if participant.user_id is not None:
            self.barred_users.add(participant.user_id)
        if participant.guest_key is not None:
            self.barred_guests.add(participant.guest_key)
        if participant.user_id is None and participant.address:
            self.barred_addresses.add(participant.address)  # members: offices share addresses

    async def join(
        self, peer: Peer, message: p.Join, entrant: Entrant | None = None
    ) -> Participant:
        if self.closed:
            raise MediaUnavailable("the meeting is closing; try again")
        entrant = entrant or Entrant()
        if message.resume:
            participant = self._resume(peer, message.resume, entrant)
            self._welcome(participant, resumed=True)
            self.keys.resumed(participant)
            return participant
        decision = self._decide(entrant)
        try:
            self._check_encryption(message.device)
        except Refused:
            # The moderators may want to let them in: they learn who could not encrypt.
            self.to_moderators(encode(sm.E2eeRefused(name=message.name)))
            raise
        if decision.outcome is Outcome.ADMIT:
            await self.media.start()  # Janus resources only for someone the door let in
            if self.closed:
                raise MediaUnavailable("the meeting has ended")
            # The meeting may have been locked, or this person barred, meanwhile: decide again.
            decision = self._decide(entrant)
        # From here on nothing awaits: the decision, the role and the room's limits hold.
        waits = decision.outcome is Outcome.WAIT
        role = entrant.role if waits else role_in_meeting(entrant, self._moderated())
        self._check_room(role, waits=waits)
        participant = Participant(
            name=message.name,
            peer=peer,
            role=role,
            user_id=entrant.user_id,
            guest_key=entrant.guest_key,
            address=entrant.address,
            device=message.device,
        )
        if decision.outcome is Outcome.WAIT:
            participant.state = ParticipantState.WAITING
            self.waiting[participant.id] = participant
            participant.send(encode(sm.Lobby(status=self._lobby_status())))
            self.to_moderators(encode(sm.Knock(participant=participant.info())))
        else:
            self._admit(participant)
        return participant

    def _decide(self, entrant: Entrant) -> Decision:
        """The door's rules for this entrant as the meeting is now; raises for a refusal."""
        decision = decide_entry(
            entrant.role,
            self.access(),
            password_ok=entrant.password_ok,
            barred=self._barred(entrant),
            invited=entrant.invited,
            suspect=self._suspect(entrant),
        )
        if decision.outcome is Outcome.REFUSE:
            assert decision.code is not None
            raise Refused(_REFUSALS[decision.code], code=decision.code)
        return decision

    def _check_room(self, role: Role, *, waits: bool) -> None:
        """Room for one more: the lobby has a limit of its own, so that waiting people never
        fill the meeting; moderators are never turned away as "full" and never wait."""
        if role is Role.MODERATOR:
            return
        if waits and len(self.waiting) >= self._settings.max_waiting:
            raise LobbyFull("too many people are waiting; try again later")
        if not waits and len(self.participants) >= self._settings.max_participants:
            raise MeetingFull("the meeting is full")

    def _check_encryption(self, device: p.Device | None) -> None:
        """Where E2EE is required, a device that cannot encrypt (moderators' too) stays out
        unless a moderator allows unencrypted participants."""
        if self.e2ee_required and not self.allow_unencrypted and not encrypts(device):
            raise Refused(
                "this meeting is end-to-end encrypted and this browser cannot encrypt",
                code=ErrorCode.E2EE_REQUIRED,
            )

    def may_enter(self, participant: Participant) -> bool:
        try:
            self._check_encryption(participant.device)
        except Refused:
            return False
        return True

    def e2ee_state(self) -> sm.E2eeState:
        return meeting_state(
            self.participants.values(),
            required=self.e2ee_required,
            allow_unencrypted=self.allow_unencrypted,
        )

    def show_e2ee(self, exclude: Participant | None = None) -> None:
        """Tell everyone when the meeting's encryption changes."""
        state = self.e2ee_state()
        if state != self._e2ee_shown:
            self._e2ee_shown = state
            self.broadcast(encode(sm.E2eeStateChanged(**state.model_dump())), exclude=exclude)

    def _lobby_status(self) -> str:
        return "waiting" if self.moderator_present() else "no_moderator"

    def admit(self, participant: Participant) -> None:
        """Let a waiting participant in (a moderator's decision)."""
        if participant.id not in self.waiting:
            raise Refused("this participant is not waiting", code=ErrorCode.UNKNOWN_PARTICIPANT)
        self._check_encryption(participant.device)  # unencrypted ones disallowed meanwhile
        self._check_room(participant.role, waits=False)
        del self.waiting[participant.id]
        participant.move(ParticipantState.JOINED)
        self.to_moderators(encode(sm.KnockEnded(id=participant.id)))
        self._admit(participant)

    def _admit(self, participant: Participant) -> None:
        if participant.guest_key and len(self.known_guests) < MAX_KNOWN_GUESTS:
            self.known_guests.add(participant.guest_key)
        had_moderator = self.moderator_present()
        if self.started is None:
            self.started = time.monotonic()
        participant.state = ParticipantState.JOINED
        self.participants[participant.id] = participant
        self.broadcast(
            encode(sm.ParticipantJoined(participant=participant.info())), exclude=participant
        )
        self.show_e2ee(exclude=participant)  # the newcomer learns it from `welcome`
        self._welcome(participant, resumed=False)
        if not had_moderator and self.moderator_present():
            self._to_waiting(encode(sm.Lobby(status="waiting")))

    def _welcome(self, participant: Participant, *, resumed: bool) -> None:
        participant.send(
            encode(
                sm.Welcome(
                    self_=participant.info(),
                    resume=participant.resume_token,
                    resumed=resumed,
                    participants=[o.info() for o in self._present() if o is not participant],
                    feeds=[f for f in self.media.feeds() if f.participant != participant.id],
                    ice_servers=self._ice_servers(participant.id),
                    media_available=self.media.available,
                    locked=self.locked,
                    e2ee=self.e2ee_state(),
                    e2ee_required=self.e2ee_required,
                    waiting=[w.info() for w in self.waiting.values()]
                    if participant.is_moderator
                    else [],
                    hands=self.hands.listed(),
                    running_for=self.running_for(),
                )
            )
        )

    def _resume(self, peer: Peer, token: str, entrant: Entrant) -> Participant:
        """The token is bound to the browser that got it (its sign-in or guest key): a token
        from elsewhere resumes nothing. Without either, a participant still connected cannot be
        taken over, only one whose connection dropped."""
        for participant in self.participants.values():
            # (as bytes: compare_digest refuses str with non-ASCII characters, a TypeError)
            if hmac.compare_digest(participant.resume_token.encode(), token.encode()):
                break
        else:
            raise ResumeFailed("nothing to resume; join afresh")
        same_browser = (participant.user_id, participant.guest_key) == (
            entrant.user_id,
            entrant.guest_key,
        )
        anonymous = entrant.user_id is None and entrant.guest_key is None
        connected = participant.state is ParticipantState.JOINED and participant.peer is not None
        if not same_browser or (anonymous and connected):
            raise ResumeFailed("nothing to resume; join afresh")
        if participant.grace_timer is not None:
            participant.grace_timer.cancel()
            participant.grace_timer = None
        old = participant.peer
        if participant.state is ParticipantState.JOINED and old is not None and old is not peer:
            old.send(encode(sm.Bye(reason="replaced")))
            old.close(1000, "replaced")
        if participant.state is ParticipantState.DETACHED:
            participant.move(ParticipantState.JOINED)
        participant.peer = peer
        return participant

    # --- leaving -----------------------------------------------------------------------------

    def detach(self, participant: Participant, peer: Peer, *, clean: bool) -> None:
        """The participant's connection closed; a clean close leaves, any other waits to resume.
        Someone waiting in the lobby loses their place either way."""
        if participant.peer is not peer:
            return
        if participant.state is ParticipantState.WAITING:
            participant.peer = None
            self._leave_lobby(participant)
            return
        if participant.state is not ParticipantState.JOINED:
            return
        participant.peer = None
        if clean or self._settings.resume_grace == 0:
            asyncio.get_running_loop().create_task(self.leave(participant))
            return
        participant.move(ParticipantState.DETACHED)
        participant.grace_timer = asyncio.get_running_loop().call_later(
            self._settings.resume_grace,
            lambda: asyncio.get_running_loop().create_task(self.leave(participant)),
        )

    def _leave_lobby(self, participant: Participant, reason: str | None = None) -> None:
        if self.waiting.pop(participant.id, None) is None:
            return
        if reason is not None and participant.peer is not None:
            participant.send(encode(sm.Bye(reason=reason)))
            participant.peer.close(1000, reason)
            participant.peer = None
        participant.move(ParticipantState.LEFT)
        self.to_moderators(encode(sm.KnockEnded(id=participant.id)))
        self.release_if_empty()

    def release_if_empty(self) -> None:
        """Nobody in the meeting, nobody waiting and nobody at the door: the meeting (and its
        Janus room) ends."""
        if not (self.participants or self.waiting or self._entering or self.closed):
            self._on_empty(self)

    def deny(self, participant: Participant) -> None:
        if participant.id not in self.waiting:
            raise Refused("this participant is not waiting", code=ErrorCode.UNKNOWN_PARTICIPANT)
        self._leave_lobby(participant, reason="denied")

    async def leave(self, participant: Participant, reason: str = "left") -> None:
        if participant.state is ParticipantState.WAITING:
            self._leave_lobby(participant, reason)
            return
        if participant.state is ParticipantState.LEFT:
            return
        if participant.peer is not None:
            participant.send(encode(sm.Bye(reason=reason)))
            participant.peer.close(1000, reason)
            participant.peer = None
        participant.move(ParticipantState.LEFT)
        if participant.grace_timer is not None:
            participant.grace_timer.cancel()
        self.participants.pop(participant.id, None)
        self.broadcast(encode(sm.ParticipantLeft(id=participant.id)))
        self.keys.forget(participant.id)
        self.raise_hand(participant, False)
        self.reactions.forget(participant.id)
        self.show_e2ee()
        if participant.is_moderator and not self.moderator_present():
            self._to_waiting(encode(sm.Lobby(status="no_moderator")))
        await self.media.remove_participant(participant.id)
        if not self.participants:
            for waiting in list(self.waiting.values()):
                self._leave_lobby(waiting, reason="ended")
            self.release_if_empty()

    async def close(self, reason: str = "shutdown") -> None:
        self.closed = True
        for waiting in list(self.waiting.values()):
            self._leave_lobby(waiting, reason)
        for participant in list(self.participants.values()):
            await self.leave(participant, reason)
        await self.media.close()
        self._on_empty(self)  # closed already: the registry only forgets the meeting

    # --- raised hands and reactions ------------------------------------------------------------

    def raise_hand(self, participant: Participant, raised: bool) -> bool:
        """The participant's hand up or down (their button or phone keys, or a moderator's
        `lower_hand`); everyone gets the new queue. Whether anything changed."""
        hands = self.hands
        changed = hands.raise_(participant.id) if raised else hands.lower(participant.id)
        if changed:
            self.broadcast(encode(sm.Hands(hands=hands.listed())))
        return changed

    def react(self, participant: Participant, reaction: p.Reaction) -> None:
        """Shown to everyone, the sender included; beyond the sender's budget: RateLimited."""
        self.reactions.take(participant.id)
        self.broadcast(encode(sm.Reacted(participant=participant.id, reaction=reaction)))

    # --- what everyone is told (MediaListener) ---------------------------------------------------

    def _present(self) -> list[Participant]:
        return list(self.participants.values())

    def broadcast(self, frame: str, exclude: Participant | None = None) -> None:
        for participant in self._present():
            if participant is not exclude:
                participant.send(frame)

    def to_moderators(self, frame: str) -> None:
        for participant in self._present():
            if participant.is_moderator:
                participant.send(frame)

    def _to_waiting(self, frame: str) -> None:
        for participant in self.waiting.values():
            participant.send(frame)

    def feed_up(self, feed: sm.FeedInfo) -> None:
        owner = self.participants.get(feed.participant)
        self.broadcast(encode(sm.FeedAdded(feed=feed)), exclude=owner)

    def feed_down(self, feed_id: str) -> None:
        self.broadcast(encode(sm.FeedRemoved(id=feed_id)))

    def talking(self, participant_id: str, talking: bool) -> None:
        self.broadcast(encode(sm.Talking(participant=participant_id, talking=talking)))

    def media_lost(self) -> None:
        log.warning("meeting lost its media service")
        self.broadcast(encode(sm.MediaUnavailable()))

    def media_restored(self) -> None:
        log.info("meeting media service restored")
        self.broadcast(encode(sm.MediaRestored()))


_REFUSALS = {
    ErrorCode.BARRED: "you were removed from this meeting",
    ErrorCode.GUESTS_NOT_ALLOWED: "this room is for signed-in members only",
    ErrorCode.MEETING_LOCKED: "the meeting is locked",
    ErrorCode.WRONG_PASSWORD: "the room password is wrong",
    ErrorCode.PASSWORD_REQUIRED: "this room needs a password",
}
