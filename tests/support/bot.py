"""An aiortc participant that speaks Rathaus's signaling protocol, as a browser would.

It publishes a known picture (a solid colour) and a known tone, and subscribes to the feeds of
others, keeping the last decoded video frame and audio frames so that tests can check what
actually arrived through Janus.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aioice.ice
import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack
from websockets.asyncio.client import ClientConnection, connect

from tests.support.network import MEDIA_IP, require_test_network


def keep_media_on_loopback() -> None:
    """aioice skips loopback addresses by default; bots gather on the test network's address."""
    require_test_network()
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [MEDIA_IP]


# Without an explicit empty list aiortc would ask a public STUN server.
NO_ICE_SERVERS = RTCConfiguration(iceServers=[])


class ColourTrack(VideoStreamTrack):
    """A 320x240 picture of one colour."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        self._picture = np.zeros((240, 320, 3), dtype=np.uint8)
        self._picture[:, :] = rgb

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self._picture, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


class ToneTrack(AudioStreamTrack):
    """A sine tone, 48 kHz mono, 20 ms frames."""

    def __init__(self, hz: float) -> None:
        super().__init__()
        self._hz = hz
        self._sample = 0
        self._began: float | None = None

    async def recv(self) -> av.AudioFrame:
        samples = 960
        if self._began is None:
            self._began = time.time()
        wait = self._began + self._sample / 48000 - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        t = (np.arange(samples) + self._sample) / 48000
        pcm = (np.sin(2 * math.pi * self._hz * t) * 12000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._sample
        frame.time_base = fractions.Fraction(1, 48000)
        self._sample += samples
        return frame


@dataclass
class Received:
    """What one subscription delivered."""

    video_frames: int = 0
    last_rgb: np.ndarray | None = None
    audio: list[np.ndarray] = field(default_factory=list)
    audio_seen: list[float] = field(default_factory=list)  # arrival times of audio frames
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def mean_colour(self) -> tuple[float, float, float] | None:
        if self.last_rgb is None:
            return None
        r, g, b = self.last_rgb.reshape(-1, 3).mean(axis=0)
        return float(r), float(g), float(b)

    def dominant_hz(self) -> float | None:
        if len(self.audio) < 25:
            return None
        pcm = np.concatenate(self.audio[-50:]).astype(np.float64)
        spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm))))
        return float(np.argmax(spectrum) * 48000 / len(pcm))


class Bot:
    def __init__(
        self,
        ws_base: str,
        room: str,
        name: str,
        cookies: dict[str, str] | None = None,
        source: str | None = None,
    ) -> None:
        """``source``: the local address to connect from (another client address than
        127.0.0.1, e.g. tests.support.network.MEDIA_IP)."""
        self.url = f"{ws_base}/ws/rooms/{room}"
        self.name = name
        self.cookies = cookies or {}
        self.source = source
        self.messages: list[dict[str, Any]] = []
        self._waiters: list[tuple[Any, asyncio.Future[dict[str, Any]]]] = []
        self.ws: ClientConnection | None = None
        self.welcome: dict[str, Any] = {}
        self.publishers: dict[str, RTCPeerConnection] = {}
        self.subscribers: dict[str, RTCPeerConnection] = {}
        self.received: dict[str, Received] = {}
        self._reader: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None

    # --- signaling -----------------------------------------------------------------------------

    async def connect(self) -> None:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        extra: dict[str, Any] = {"local_addr": (self.source, 0)} if self.source else {}
        self.ws = await connect(
            self.url, additional_headers=headers if self.cookies else None, **extra
        )
        self._reader = asyncio.create_task(self._read())

    async def join(
        self,
        resume: str | None = None,
        password: str | None = None,
        device: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        await self.knock(resume, password, device)
        self.welcome = await self.expect("welcome")
        return self.welcome

    async def knock(
        self,
        resume: str | None = None,
        password: str | None = None,
        device: dict[str, Any] | None = None,
    ) -> None:
        """Send `join` without waiting for the answer (which may be `lobby` or an error).
        ``device``: the public keys a browser would send (tests.support.devices)."""
        if self.ws is None:
            await self.connect()
        message: dict[str, Any] = {"type": "join", "name": self.name, "resume": resume}
        if password is not None:
            message["password"] = password
        if device is not None:
            message["device"] = device
        await self.send(message)
        if self._pinger is None:
            self._pinger = asyncio.create_task(self._ping())

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(message))

    async def send_raw(self, frame: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(frame)

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for frame in self.ws:
                message = json.loads(frame)
                self.messages.append(message)
                for match, future in list(self._waiters):
                    if not future.done() and match(message):
                        future.set_result(message)
                        self._waiters.remove((match, future))

    async def _ping(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(4)
                await self.send({"type": "ping"})

    async def expect(self, type_: str, timeout: float = 10, **fields: Any) -> dict[str, Any]:
        """The first message of this type (and these field values), already seen or coming."""

        def match(message: dict[str, Any]) -> bool:
            return message["type"] == type_ and all(message.get(k) == v for k, v in fields.items())

        for message in self.messages:
            if match(message):
                self.messages.remove(message)
                return message
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((match, future))
        try:
            message = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            seen = [m["type"] for m in self.messages]
            raise AssertionError(
                f"{self.name}: no {type_} {fields} within {timeout}s; seen {seen}"
            ) from None
        self.messages.remove(message)
        return message

    # --- media ---------------------------------------------------------------------------------

    async def publish(
        self,
        rgb: tuple[int, int, int],
        hz: float,
        kind: str = "camera",
        configuration: RTCConfiguration = NO_ICE_SERVERS,
    ) -> None:
        pc = RTCPeerConnection(configuration)
        self.publishers[kind] = pc
        pc.addTrack(ToneTrack(hz))
        pc.addTrack(ColourTrack(rgb))
        await pc.setLocalDescription(await pc.createOffer())
        await self.send({"type": "publish", "kind": kind, "sdp": pc.localDescription.sdp})
        answer = await self.expect("published", kind=kind)
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))

    async def subscribe(self, feed: str) -> Received:
        await self.send({"type": "subscribe", "feed": feed})
        offer = await self.expect("offer", feed=feed)
        pc = RTCPeerConnection(NO_ICE_SERVERS)
        self.subscribers[feed] = pc
        received = self.received[feed] = Received()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            received.tasks.append(asyncio.ensure_future(_consume(track, received)))

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send({"type": "answer", "feed": feed, "sdp": pc.localDescription.sdp})
        return received

    async def close_media(self) -> None:
        for pc in [*self.publishers.values(), *self.subscribers.values()]:
            await pc.close()
        for received in self.received.values():
            for task in received.tasks:
                task.cancel()
            await asyncio.gather(*received.tasks, return_exceptions=True)
        self.publishers.clear()
        self.subscribers.clear()
        self.received.clear()

    async def close(self, *, abort: bool = False) -> None:
        """Close cleanly, or (abort) drop the TCP connection without a close frame."""
        for task in (self._pinger,):
            if task:
                task.cancel()
        if self.ws is not None:
            if abort:
                self.ws.transport.abort()
            else:
                await self.ws.close()
        if self._reader:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._reader, 5)
        await self.close_media()


async def _consume(track: MediaStreamTrack, received: Received) -> None:
    with contextlib.suppress(Exception):
        while True:
            frame = await track.recv()
            if isinstance(frame, av.VideoFrame):
                received.video_frames += 1
                received.last_rgb = frame.to_ndarray(format="rgb24")
            elif isinstance(frame, av.AudioFrame):
                pcm = frame.to_ndarray().reshape(-1)
                if frame.layout.name == "stereo":
                    pcm = pcm[::2]
                received.audio.append(pcm)
                del received.audio[:-100]
                received.audio_seen.append(time.monotonic())


async def wait_until(predicate: Any, timeout: float = 15, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
