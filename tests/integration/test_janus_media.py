"""Media through Janus: an aiortc publisher and subscriber in a VideoRoom, on loopback."""

from __future__ import annotations

import asyncio
import fractions

import numpy as np
import pytest
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack
from av import VideoFrame

from rathaus.errors import JanusError
from rathaus.media.janus import videoroom
from rathaus.media.janus.client import JanusClient
from rathaus.media.janus.core import HandleEvent, Media, WebrtcUp
from tests.support.janus import pin_aioice

pytestmark = pytest.mark.janus

COLOUR = (200, 40, 120)  # RGB


class SolidColourTrack(VideoStreamTrack):
    """320x240 frames of one colour."""

    def __init__(self, rgb: tuple[int, int, int]) -> None:
        super().__init__()
        self.image = np.zeros((240, 320, 3), dtype=np.uint8)
        self.image[:, :] = rgb

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame.from_ndarray(self.image, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base if time_base else fractions.Fraction(1, 90000)
        return frame


def jsep(pc: RTCPeerConnection) -> dict[str, object]:
    desc = pc.localDescription
    return {"type": desc.type, "sdp": desc.sdp, "trickle": False}


@pytest.fixture
def local_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    """aiortc gathers on the one local address Janus uses (see tests/support/janus.py)."""
    pin_aioice(monkeypatch)


async def test_publish_and_subscribe_video(
    janus_client: JanusClient,
    local_ice: None,
) -> None:
    room = 2002
    up = asyncio.Event()
    receiving: list[Media] = []

    def on_publisher_event(event: HandleEvent) -> None:
        if isinstance(event, WebrtcUp):
            up.set()
        elif isinstance(event, Media):
            receiving.append(event)

    session = await janus_client.create_session()
    config = RTCConfiguration(iceServers=[])
    pc_pub = RTCPeerConnection(config)
    pc_sub = RTCPeerConnection(config)
    video = SolidColourTrack(COLOUR)
    audio = AudioStreamTrack()
    try:
        admin = await session.attach(videoroom.PLUGIN)
        await videoroom.create_room(admin, room, description="media", exists_ok=True)

        pub = await session.attach(videoroom.PLUGIN, on_publisher_event)
        pub_id, _ = await videoroom.join_publisher(pub, room, "bot")
        pc_pub.addTrack(audio)
        pc_pub.addTrack(video)
        await pc_pub.setLocalDescription(await pc_pub.createOffer())
        answer = await videoroom.configure_publisher(pub, jsep(pc_pub))
        await pc_pub.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        await asyncio.wait_for(up.wait(), 10)

        # publishing twice on the same handle is refused; configure is the way to renegotiate
        with pytest.raises(JanusError) as err:
            await videoroom.configure_publisher(pub, jsep(pc_pub))
        assert err.value.code == videoroom.ERROR_ALREADY_PUBLISHED, err.value
        # a renegotiation (e.g. an ICE restart offer) goes through configure
        again = await videoroom.ice_restart_publisher(pub, jsep(pc_pub))
        assert again["type"] == "answer"
        # stop relaying audio without renegotiation
        await videoroom.set_publisher_send(pub, jsep(pc_pub), audio=False, video=True)

        sub = await session.attach(videoroom.PLUGIN)
        offer, streams = await videoroom.join_subscriber(sub, room, pub_id)
        assert {s["type"] for s in streams} == {"audio", "video"}
        tracks: list[MediaStreamTrack] = []
        pc_sub.on("track", tracks.append)
        await pc_sub.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await pc_sub.setLocalDescription(await pc_sub.createAnswer())
        await videoroom.start_subscriber(sub, jsep(pc_sub))

        remote_video = next(t for t in tracks if t.kind == "video")
        colour = None
        async with asyncio.timeout(15):
            for _ in range(60):
                frame = await remote_video.recv()
                assert isinstance(frame, VideoFrame)
                pixels = frame.to_ndarray(format="rgb24")
                colour = pixels.reshape(-1, 3).mean(axis=0)
                if all(abs(c - e) < 20 for c, e in zip(colour, COLOUR, strict=True)):
                    break
            else:
                pytest.fail(f"no frame close to {COLOUR}, last {colour}")
        assert {m.type for m in receiving if m.receiving} >= {"video"}

        # subscriber ICE restart gives a fresh offer, answered with start
        video_mid = next(s["mid"] for s in streams if s["type"] == "video")
        await videoroom.set_substream(sub, 0, mid=video_mid)
        restart_offer = await videoroom.restart_subscriber(sub)
        assert restart_offer["type"] == "offer"

        await videoroom.leave(sub)
        await videoroom.unpublish(pub)
        await videoroom.destroy_room(admin, room)
    finally:
        await pc_sub.close()
        await pc_pub.close()
        video.stop()
        audio.stop()
        await session.destroy()
