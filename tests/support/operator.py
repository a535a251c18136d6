"""A curious operator: someone who holds Janus's API secret and watches a meeting's video there,
as Rathaus itself never would.

It finds the meeting's VideoRoom and the publisher's feed through the Janus API alone (``list``,
``listparticipants``), subscribes to the feed with aiortc and decodes what Janus relays. The
browser is given a known picture (``write_y4m``: four coloured quadrants) so that what decodes can
be compared with it, instead of only counting frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from rathaus.errors import JanusError
from rathaus.media.janus import JanusClient, videoroom
from rathaus.media.janus.session import JanusHandle
from tests.support.bot import NO_ICE_SERVERS

# The known picture, quadrant by quadrant: top left, top right, bottom left, bottom right.
QUADRANTS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 255),
)
WIDTH, HEIGHT = 320, 240
# A decoded picture "is" the known one when every quadrant's mean colour is this close (Euclidean
# distance in RGB, 0..441): VP8 at a low bitrate and two colour-space conversions cost ~10-30.
SAME_PICTURE = 60.0


def _yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, as Chromium's fake capture and libvpx assume."""
    r, g, b = (c / 255 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


def _planes(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.zeros((height, width), np.uint8)
    u = np.zeros((height // 2, width // 2), np.uint8)
    v = np.zeros((height // 2, width // 2), np.uint8)
    for index, rgb in enumerate(QUADRANTS):
        row, col = divmod(index, 2)
        luma, cb, cr = _yuv(rgb)
        y[
            row * height // 2 : (row + 1) * height // 2, col * width // 2 : (col + 1) * width // 2
        ] = luma
        for plane, value in ((u, cb), (v, cr)):
            h, w = plane.shape
            plane[row * h // 2 : (row + 1) * h // 2, col * w // 2 : (col + 1) * w // 2] = value
    return y, u, v


def write_y4m(path: Path, frames: int = 30) -> Path:
    """The known picture as a YUV4MPEG2 4:2:0 file for ``--use-file-for-fake-video-capture``."""
    y, u, v = _planes(WIDTH, HEIGHT)
    frame = b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes()
    header = f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)
    return path


def quadrant_means(rgb: np.ndarray) -> list[tuple[float, float, float]]:
    """Mean colour of the middle half of each quadrant (edges blur in any codec)."""
    height, width = rgb.shape[:2]
    means = []
    for index in range(4):
        row, col = divmod(index, 2)
        top, left = row * height // 2, col * width // 2
        middle = rgb[
            top + height // 8 : top + 3 * height // 8, left + width // 8 : left + 3 * width // 8
        ]
        r, g, b = middle.reshape(-1, 3).mean(axis=0)
        means.append((float(r), float(g), float(b)))
    return means


def picture_distance(rgb: np.ndarray) -> float:
    """How far a decoded picture is from the known one: the worst quadrant's colour distance."""
    return max(
        float(np.linalg.norm(np.subtract(mean, expected)))
        for mean, expected in zip(quadrant_means(rgb), QUADRANTS, strict=True)
    )


@dataclass
class OperatorView:
    """What the operator got from one feed."""

    room: int = 0
    feed: int = 0
    packets: int = 0  # video RTP packets received (aiortc's inbound-rtp stats)
    bytes: int = 0  # bytes received on the transport (audio and video)
    frames: int = 0  # video frames that decoded
    decode_errors: int = 0  # video frames libvpx refused
    best: float | None = None  # the decoded frame closest to the known picture: its distance
    best_means: list[tuple[float, float, float]] = field(default_factory=list)

    def saw_picture(self) -> bool:
        return self.best is not None and self.best <= SAME_PICTURE

    def take(self, rgb: np.ndarray) -> None:
        self.frames += 1
        distance = picture_distance(rgb)
        if self.best is None or distance < self.best:
            self.best, self.best_means = distance, quadrant_means(rgb)


class _DecodeErrors(logging.Handler):
    """aiortc logs a warning for every frame its decoder refuses; count the video ones."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage() and "video" in record.getMessage():
            self.count += 1


async def find_feed(handle: JanusHandle, display: str, timeout: float = 20) -> tuple[int, int]:
    """(room, feed) of the publisher called ``display``, looked up in every VideoRoom."""
    deadline = time.monotonic() + timeout
    while True:
        rooms = await handle.request({"request": "list"})
        for room in rooms.get("list") or []:
            with contextlib.suppress(JanusError):  # a room may go away meanwhile
                for p in await videoroom.list_participants(handle, int(room["room"])):
                    if p.get("display") == display and p.get("publisher"):
                        return int(room["room"]), int(p["id"])
        if time.monotonic() > deadline:
            raise AssertionError(f"no publisher {display!r} in any VideoRoom")
        await asyncio.sleep(0.3)


async def watch(url: str, api_secret: str, display: str, seconds: float = 6) -> OperatorView:
    """Subscribe to the publisher ``display`` directly at Janus and decode its video for
    ``seconds`` after the first video packet."""
    view = OperatorView()
    errors = _DecodeErrors()
    aiortc_log = logging.getLogger("aiortc.rtcrtpreceiver")
    aiortc_log.addHandler(errors)
    client = JanusClient(url, api_secret)
    pc = RTCPeerConnection(NO_ICE_SERVERS)
    tasks: list[asyncio.Task[None]] = []

    async def consume(track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    view.take(frame.to_ndarray(format="rgb24"))  # type: ignore[union-attr]

    pc.on("track", lambda track: tasks.append(asyncio.ensure_future(consume(track))))
    try:
        await client.connect()
        session = await client.create_session()
        handle = await session.attach(videoroom.PLUGIN)
        view.room, view.feed = await find_feed(handle, display)
        offer, _ = await videoroom.join_subscriber(handle, view.room, view.feed)
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"type": "answer", "sdp": pc.localDescription.sdp}
        await videoroom.start_subscriber(handle, answer)
        for _ in range(100):
            if await _video_packets(pc):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError("no video packets from Janus within 20 s")
        await asyncio.sleep(seconds)
        view.packets = await _video_packets(pc)
        view.bytes = await _bytes_received(pc)
        await session.destroy()
    finally:
        await pc.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()
        aiortc_log.removeHandler(errors)
    view.decode_errors = errors.count
    return view


async def _video_packets(pc: RTCPeerConnection) -> int:
    total = 0
    for receiver in pc.getReceivers():
        if receiver.track.kind == "video":
            for stats in (await receiver.getStats()).values():
                if stats.type == "inbound-rtp":
                    total += stats.packetsReceived
    return total


async def _bytes_received(pc: RTCPeerConnection) -> int:
    for receiver in pc.getReceivers():
        for stats in (await receiver.getStats()).values():
            if stats.type == "transport":
                return int(stats.bytesReceived)
    return 0
