"""Whatever a client sends on the signaling socket, before `join` and after it, the server answers
as docs/protocol.md says — an answer or an `error` with a code, or a documented close — logs no
error, does not hang, and goes on serving the others (issue 8: bad input, generally).

Frames come from tests/support/strategies.py (valid messages drawn from the typed models,
mutants of them, garbage). The codec itself is the oracle for what the server must refuse: a
frame that :func:`rathaus.meetings.protocol.parse_client_message` refuses must be answered with
that error's code before the `pong` that follows it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from rathaus.errors import ClientError, ErrorCode
from rathaus.meetings import protocol as p
from rathaus.serving import WS_MAX_SIZE
from tests.support import janus_admin
from tests.support.bot import NO_ICE_SERVERS, Bot, ColourTrack, ToneTrack
from tests.support.logs import problems, server_log
from tests.support.probe import Probe
from tests.support.server import RunningServer
from tests.support.strategies import CLIENT_VALUES, Frame, devices, frames, many_types

FUZZ = settings(
    deadline=None,
    database=None,
    # No shrinking: a failure that waits for a timeout would shrink for minutes. The notes of
    # the failing example list every frame sent and what came back; the blob replays it.
    phases=[Phase.explicit, Phase.generate],
    print_blob=True,
    # The server and the bystander are meant to outlive every example; frames may be large.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
# More examples for a longer hunt: RATHAUS_FUZZ_SCALE=20 make test ARGS=tests/integration/…
SCALE = float(os.environ.get("RATHAUS_FUZZ_SCALE", "1"))
# Janus answers within janus.request_timeout (10 s) or the request fails with media_failed.
ANSWER_TIMEOUT = 15.0
MODERATOR_ACTIONS = {
    "admit", "deny", "admit_all", "mute", "mute_all", "stop_video", "stop_screen", "remove",
    "lock", "end", "promote", "allow_unencrypted", "lower_hand",
}  # fmt: skip
# What a joined participant's request is answered with, if it succeeds (else an error).
SUCCESS = {"published": "publish", "offer": ("subscribe", "restart")}


def room() -> str:
    return f"fuzz-{uuid.uuid4().hex[:10]}"


@dataclass
class Round:
    """One socket: frames before `join`, the `join`, frames after it."""

    before: list[Frame]
    join: dict[str, Any]
    after: list[Frame]


joins = st.fixed_dictionaries(
    {"type": st.just("join"), "name": CLIENT_VALUES[("Join", "name")]},
    optional={"device": devices},
)


@st.composite
def rounds(draw: st.DrawFn) -> Round:
    """At most 46 frames, each followed by a ping: within the socket's burst of 100 messages.
    Valid messages of 4 types before `join` and of 14 types after it (not `leave` or `end`,
    which close the socket), among any frames."""
    before = draw(st.permutations([*draw(many_types(4)), *draw(st.lists(frames(), max_size=6))]))
    typed = draw(many_types(14, but=("leave", "end")))
    after = draw(st.permutations([*typed, *draw(st.lists(frames(), max_size=21))]))
    return Round(before, draw(joins), after)


@pytest.fixture
async def bystander(server: RunningServer) -> AsyncIterator[Bot]:
    """In the meeting first (its moderator), while the fuzzers join it as guests."""
    bot = Bot(server.ws, room(), "Zaungast")
    await bot.join()
    yield bot
    await bot.close()


@pytest.fixture
async def janus_unchanged(server: RunningServer, bystander: Bot) -> AsyncIterator[None]:
    """After all the examples, Janus holds what it held before them (the bystander's meeting):
    every session, handle and room the fuzzing made is gone again."""
    before = await settled_janus_state(server)
    yield
    for _ in range(int(server.settings.meeting.resume_grace * 10) + 100):
        if not server.services.meetings._closing and await janus_state(server) == before:
            return
        await asyncio.sleep(0.1)
    assert await janus_state(server) == before, "(sessions, handles, rooms) left behind"


async def settled_janus_state(server: RunningServer) -> tuple[int, int, int]:
    """Once the meetings of earlier tests are gone (the bystander's the only one left), which
    may take a resume grace: a socket lost without a clean close leaves its participant
    detached for a while."""
    meetings = server.services.meetings
    for _ in range(int(server.settings.meeting.resume_grace * 10) + 50):
        if len(meetings) <= 1 and not meetings._closing:
            break
        await asyncio.sleep(0.1)
    return await janus_state(server)


async def janus_state(server: RunningServer) -> tuple[int, int, int]:
    return await janus_admin.state(server.janus)


@pytest.fixture(scope="module")
async def offer(server: RunningServer) -> str:
    """A real SDP offer (audio and video), which Janus accepts."""
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    pc.addTrack(ToneTrack(440))
    pc.addTrack(ColourTrack((200, 30, 30)))
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


@dataclass
class Player:
    """Plays a round's frames on a probe and checks each answer against the protocol."""

    probe: Probe
    refs: dict[str, str]
    joined: bool = False
    moderator: bool = False
    on_joined: Callable[[], Awaitable[None]] | None = None  # once `welcome` came
    # Requests still to be answered: (type, feed or kind) -> how many.
    pending: collections.Counter[tuple[str, str | None]] = field(
        default_factory=collections.Counter
    )
    accounted: int = 0  # of probe.seen

    async def play(self, frame: Frame) -> None:
        if self.probe.closed:
            return
        wire = frame.wire(self.refs)
        size = len(wire) if isinstance(wire, bytes) else len(wire.encode("utf-8"))
        try:
            message: p.ClientMessage | None = p.parse_client_message(_as_read(wire))
            refused: ClientError | None = None
        except ClientError as exc:
            message, refused = None, exc
        event(f"refused: {refused.code}" if refused else f"valid: {message and message.type}")
        was_joined = self.joined
        if was_joined and message is not None and self._answered(message):
            self.pending[_key(message.type, message)] += 1  # (answered before the pong, maybe)
        got = await self.probe.exchange(wire, pongs=2 if isinstance(message, p.Ping) else 1)
        note(f"sent {wire!r:.300}\n  got {got!r:.300}")
        self._catch_up()
        if size > WS_MAX_SIZE:  # over the transport's limit: closed before it is read
            assert self.probe.close_code == 1009, (self.probe.close_code, got)
            return
        if self.probe.closed:
            self._closed_after_bye()
            return
        if refused is not None:
            assert _error_codes(got) & {refused.code}, (wire[:300], refused.message, got)
        elif not was_joined:
            await self._answered_before_join(message, got)

    async def _answered_before_join(self, message: p.ClientMessage | None, got: list[dict]) -> None:
        """Before `join` everything is answered in order: ping, join, and `not_joined`."""
        if isinstance(message, p.Join):
            outcome = [m for m in got if m["type"] in ("welcome", "lobby", "error")]
            assert outcome, got
            event(f"join answered: {outcome[0]['type']}")
            if outcome[0]["type"] == "welcome":
                self.joined = True
                self.refs["self"] = outcome[0]["self"]["id"]
                self.moderator = outcome[0]["self"]["role"] == "moderator"
                if self.on_joined is not None:
                    await self.on_joined()
        elif not isinstance(message, p.Ping):
            assert ErrorCode.NOT_JOINED in _error_codes(got), got

    def _answered(self, message: p.ClientMessage) -> bool:
        """Requests that always get an answer once joined: the media ones, a second `join`,
        and a moderator's action sent by someone who is none (`forbidden`)."""
        if message.type in MODERATOR_ACTIONS:
            return not self.moderator
        return message.type in ("publish", "subscribe", "restart", "join")

    def _catch_up(self) -> None:
        """Count off the requests answered by what arrived since the last call."""
        for answer in self.probe.seen[self.accounted :]:
            event(f"answer: {answer['type']} {answer.get('code', '')}")
            for key in _answers(answer):
                if self.pending[key] > 0:
                    self.pending[key] -= 1
                    break
        self.accounted = len(self.probe.seen)

    def _closed_after_bye(self) -> None:
        """The server closes a joined socket only after `bye` (leave, end, removed)."""
        assert self.probe.close_code == 1000, (self.probe.close_code, self.probe.seen[-5:])
        assert any(m["type"] == "bye" for m in self.probe.seen), self.probe.seen[-5:]
        self.pending.clear()

    async def settle(self) -> None:
        """Every request answered (Janus's included) and nothing over the rate limit."""
        await self.probe.wait_for(
            lambda: self._settled(), ANSWER_TIMEOUT, f"answers to {dict(+self.pending)}"
        )
        assert ErrorCode.RATE_LIMITED not in _error_codes(self.probe.seen)

    def _settled(self) -> bool:
        self._catch_up()
        return not +self.pending


def _as_read(wire: str | bytes) -> str:
    """The frame as the server reads it (api._receive): binary frames decoded leniently."""
    if isinstance(wire, str):
        return wire
    return "x" * (p.MAX_FRAME + 1) if len(wire) > p.MAX_FRAME else wire.decode("utf-8", "replace")


def _error_codes(got: list[dict]) -> set[str]:
    return {m["code"] for m in got if m["type"] == "error"}


def _key(type_: str, thing: Any) -> tuple[str, str | None]:
    """What ties an answer to its request: the feed or the publication (kind) it is about."""
    if isinstance(thing, dict):
        return type_, thing.get("feed") or thing.get("kind")
    return type_, getattr(thing, "feed", None) or getattr(thing, "kind", None)


def _answers(message: dict) -> list[tuple[str, str | None]]:
    """The requests this server message may answer."""
    if message["type"] == "error" and message["ref"]:
        return [_key(message["ref"], message)]
    request = SUCCESS.get(message["type"])
    if request is None:
        return []
    return [_key(r, message) for r in (request if isinstance(request, tuple) else (request,))]


async def play_round(
    url: str,
    game: Round,
    refs: dict[str, str],
    on_joined: Callable[[], Awaitable[None]] | None = None,
) -> Player:
    player = Player(await Probe.open(url), refs, on_joined=on_joined)
    try:
        for frame in [*game.before, Frame(game.join), *game.after]:
            await player.play(frame)
        await player.settle()
    finally:
        if not player.probe.closed:
            await player.probe.close()
    return player


async def still_serving(server: RunningServer, bystander: Bot) -> None:
    """The bystander still gets its pong, and a newcomer still gets in."""
    bystander.messages.clear()
    await bystander.send({"type": "ping"})
    await bystander.expect("pong", timeout=5)
    newcomer = Bot(server.ws, bystander.url.rsplit("/", 1)[-1], "Neu")
    try:
        await newcomer.join()
    finally:
        await newcomer.close()


@settings(FUZZ, max_examples=int(200 * SCALE))
@given(game=rounds())
@pytest.mark.usefixtures("janus_unchanged")
async def test_any_frame_from_a_guest_is_answered_and_harms_no_one(
    server: RunningServer, bystander: Bot, offer: str, game: Round
) -> None:
    refs = {"target": bystander.welcome["self"]["id"], "offer": offer}
    with server_log() as log:
        player = await play_round(bystander.url, game, refs)
        await still_serving(server, bystander)
    assert not player.moderator  # the bystander moderates this meeting
    assert problems(log) == []


@settings(FUZZ, max_examples=int(120 * SCALE))
@given(game=rounds())
@pytest.mark.usefixtures("janus_unchanged")
async def test_any_frame_from_a_moderator_is_answered_and_harms_no_one_else(
    server: RunningServer, bystander: Bot, offer: str, game: Round
) -> None:
    """The first in a room nobody owns moderates it: mute, remove, lock and end a target."""
    url = f"{server.ws}/ws/rooms/{room()}"
    target = Bot(server.ws, url.rsplit("/", 1)[-1], "Ziel")
    refs = {"offer": offer}

    async def target_joins() -> None:  # right after the fuzzer: before it can lock the door
        refs["target"] = (await target.join())["self"]["id"]

    with server_log() as log:
        try:
            await play_round(url, game, refs, on_joined=target_joins)
        finally:
            await target.close()
        await still_serving(server, bystander)
    assert problems(log) == []


# --- what the fuzzing found -----------------------------------------------------------------------


async def test_a_resume_token_with_non_ascii_characters_resumes_nothing(
    server: RunningServer, bystander: Bot
) -> None:
    """hmac.compare_digest raised TypeError for a token with non-ASCII characters (while anyone
    was in the meeting): the socket died with a traceback instead of `resume_failed`."""
    with server_log() as log:
        probe = await Probe.open(bystander.url)
        resume = await probe.exchange(json.dumps({"type": "join", "name": "A", "resume": "Grüße"}))
        assert [m["code"] for m in resume if m["type"] == "error"] == ["resume_failed"]
        fresh = await probe.exchange(json.dumps({"type": "join", "name": "Anna"}))
        assert fresh[0]["type"] == "welcome"
        await probe.close()
    assert problems(log) == []


@pytest.mark.parametrize("joined", [False, True], ids=["before join", "after join"])
async def test_a_lone_surrogate_in_an_error_is_sent_as_a_question_mark(
    server: RunningServer, bystander: Bot, joined: bool
) -> None:
    """An error may repeat what the client sent (an unknown type); a lone surrogate there
    (JSON "\\ud800") cannot be written as UTF-8, and the socket died with a traceback
    (PydanticSerializationError) instead of answering `bad_message`."""
    with server_log() as log:
        probe = await Probe.open(bystander.url)
        if joined:
            welcome = await probe.exchange(json.dumps({"type": "join", "name": "Anna"}))
            assert welcome[0]["type"] == "welcome"
        unknown = await probe.exchange('{"type": "\\ud800"}')
        extra = await probe.exchange('{"type": "ping", "\\udc00": 1}')
        await probe.close()
    assert unknown[0]["type"] == "error" and unknown[0]["code"] == "bad_message"
    assert unknown[0]["ref"] == "?" and unknown[0]["message"].startswith("?: ")
    assert extra[0]["type"] == "error" and extra[0]["code"] == "bad_message"
    assert extra[0]["ref"] == "ping"
    assert problems(log) == []
