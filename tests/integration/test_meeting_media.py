"""Meetings through Rathaus's signaling and a real Janus: bots publish a known picture and tone,
other bots subscribe and check what arrives.
"""

import asyncio
import json
import os
import signal
import uuid

import pytest
from websockets.asyncio.client import connect

from tests.support.bot import Bot, wait_until
from tests.support.server import RunningServer
from tests.support.waits import drain, quiet_for

pytestmark = pytest.mark.janus

RED, BLUE = (220, 30, 30), (30, 40, 220)


def room() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def close_to(colour: tuple[float, float, float] | None, expected: tuple[int, int, int]) -> bool:
    if colour is None:
        return False
    return all(abs(c - e) < 30 for c, e in zip(colour, expected, strict=True))


async def test_picture_and_tone_arrive_through_janus(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await anna.join()
        await anna.publish(RED, 440)
        await ben.join()
        feeds = ben.welcome["feeds"]
        if not feeds:  # Anna's feed may come up just after Ben joined
            feeds = [(await ben.expect("feed_added"))["feed"]]
        assert feeds[0]["participant"] == anna.welcome["self"]["id"]
        got = await ben.subscribe(feeds[0]["id"])
        await wait_until(lambda: close_to(got.mean_colour(), RED), what="Anna's red picture")
        await wait_until(lambda: got.dominant_hz() is not None, what="Anna's audio")
        assert abs(got.dominant_hz() - 440) < 15  # type: ignore[operator]

        await ben.publish(BLUE, 660)
        feed = (await anna.expect("feed_added"))["feed"]
        back = await anna.subscribe(feed["id"])
        await wait_until(lambda: close_to(back.mean_colour(), BLUE), what="Ben's blue picture")
        await wait_until(lambda: back.dominant_hz() is not None, what="Ben's audio")
        assert abs(back.dominant_hz() - 660) < 15  # type: ignore[operator]

        await ben.send({"type": "layer", "feed": feeds[0]["id"], "substream": 0})
        await ben.send({"type": "media", "audio": False, "video": True})
        updated = await anna.expect("participant_updated")
        assert updated["participant"]["audio"] is False
    finally:
        await anna.close()
        await ben.close()


async def test_leaving_removes_the_participant_and_its_feed(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        await anna.join()
        await anna.publish(RED, 440)
        feed = (await ben.expect("feed_added"))["feed"]
        await anna.send({"type": "leave"})
        assert (await anna.expect("bye"))["reason"] == "left"
        assert (await ben.expect("feed_removed", timeout=5))["id"] == feed["id"]
        assert (await ben.expect("participant_left", timeout=5))["id"] == anna.welcome["self"]["id"]
        await ben.send({"type": "leave"})  # the last one: the meeting and its Janus room go
        await ben.expect("bye")
        meetings = server.services.meetings._meetings
        await wait_until(lambda: name not in meetings, timeout=5, what="the meeting to close")
    finally:
        await anna.close()
        await ben.close()


async def test_a_lost_connection_disappears_after_the_grace_period(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        await anna.join()
        await anna.close(abort=True)  # no close frame: looks like a network loss
        grace = server.settings.meeting.resume_grace
        left = await ben.expect("participant_left", timeout=grace + 5)
        assert left["id"] == anna.welcome["self"]["id"]
    finally:
        await ben.close()


async def test_a_dropped_socket_resumes_as_the_same_participant(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        welcome = await anna.join()
        await anna.close(abort=True)
        again = Bot(server.ws, name, "Anna")
        resumed = await again.join(resume=welcome["resume"])
        assert resumed["self"]["id"] == welcome["self"]["id"]
        await quiet_for(server.settings.meeting.resume_grace + 0.5)  # Anna does not leave
        assert not [m for m in ben.messages if m["type"] == "participant_left"]
        await again.close()
    finally:
        await ben.close()


async def test_bad_messages_get_errors_and_the_meeting_goes_on(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await anna.connect()
        await anna.send({"type": "subscribe", "feed": "1"})
        assert (await anna.expect("error"))["code"] == "not_joined"
        await anna.send({"type": "join", "name": ""})
        assert (await anna.expect("error"))["code"] == "invalid_name"
        await anna.join()
        await ben.join()
        for frame in [
            "{",
            "[1]",
            json.dumps({"type": "nope"}),
            json.dumps({"type": "publish", "kind": "camera", "sdp": "garbage"}),
            json.dumps({"type": "subscribe", "feed": "999"}),
        ]:
            await anna.send_raw(frame)
        codes = [(await anna.expect("error"))["code"] for _ in range(5)]
        assert codes[:3] == ["bad_message"] * 3
        assert set(codes[3:]) <= {"media_failed", "unknown_feed"}
        await anna.send({"type": "ping"})
        await anna.expect("pong")
        await ben.send({"type": "media", "audio": False, "video": False})
        assert (await anna.expect("participant_updated"))["participant"]["video"] is False
    finally:
        await anna.close()
        await ben.close()


async def test_oversized_frames_close_only_that_socket(server: RunningServer) -> None:
    name = room()
    ben = Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        async with connect(f"{server.ws}/ws/rooms/{name}", max_size=None) as ws:
            await ws.send(json.dumps({"type": "join", "name": "Big"}))
            await ws.send("x" * 200_000)
            with pytest.raises(Exception):  # noqa: B017 (the socket is closed with 1009)
                for _ in range(10):
                    await asyncio.wait_for(ws.recv(), 5)
        await ben.send({"type": "ping"})
        await ben.expect("pong")
    finally:
        await ben.close()


async def test_media_comes_back_after_janus_dies(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await anna.join()
        await anna.publish(RED, 440)
        await ben.join()
        if not ben.welcome["feeds"]:
            await ben.expect("feed_added")

        os.kill(server.janus_pid, signal.SIGKILL)
        await anna.expect("media_unavailable", timeout=10)
        await ben.expect("media_unavailable", timeout=10)
        late = Bot(server.ws, name, "Carla")
        assert (await late.join())["media_available"] is False
        await late.send({"type": "publish", "kind": "camera", "sdp": "v=0"})
        assert (await late.expect("error"))["code"] == "media_unavailable"
        await anna.expect("media_restored", timeout=30)
        await ben.expect("media_restored", timeout=30)

        await anna.close_media()
        await anna.publish(RED, 440)
        feed = (await ben.expect("feed_added", timeout=10))["feed"]
        got = await ben.subscribe(feed["id"])
        await wait_until(lambda: close_to(got.mean_colour(), RED), what="the picture again")
        await late.close()
    finally:
        await anna.close()
        await ben.close()


async def test_the_active_speaker_is_announced(server: RunningServer) -> None:
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        await anna.join()
        await anna.publish(RED, 440)  # a loud, steady tone: Janus's audio levels say "talking"
        talking = await ben.expect("talking", timeout=15, talking=True)
        assert talking["participant"] == anna.welcome["self"]["id"]
    finally:
        await anna.close()
        await ben.close()


async def test_a_flood_of_messages_is_refused_and_then_closed(server: RunningServer) -> None:
    name = room()
    flood, ben = Bot(server.ws, name, "Flood"), Bot(server.ws, name, "Ben")
    try:
        await ben.join()
        await flood.join()
        assert flood.ws is not None
        for _ in range(1000):
            await flood.send({"type": "media", "audio": True, "video": True})
        assert (await flood.expect("error"))["code"] == "rate_limited"
        await asyncio.wait_for(flood.ws.wait_closed(), 10)
        assert flood.ws.close_code == 4429
        await ben.send({"type": "ping"})  # everyone else is served as before
        await ben.expect("pong")
    finally:
        await flood.close()
        await ben.close()


async def test_a_subscriber_pauses_and_resumes_the_video(server: RunningServer) -> None:
    """`receive_video` off: Janus relays no more video (the audio goes on); on: video again."""
    name = room()
    anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
    try:
        await anna.join()
        await anna.publish(RED, 440)
        await ben.join()
        feeds = ben.welcome["feeds"] or [(await ben.expect("feed_added"))["feed"]]
        feed = feeds[0]["id"]
        got = await ben.subscribe(feed)
        await wait_until(lambda: got.video_frames > 10, what="Anna's video")

        await ben.send({"type": "receive_video", "feed": feed, "on": False})
        await drain(0.5)  # what was under way when Janus stopped
        paused_at, heard = got.video_frames, len(got.audio_seen)
        await quiet_for(1.5)
        assert got.video_frames == paused_at, "video still arriving"
        assert len(got.audio_seen) > heard + 20, "the audio stopped too"

        await ben.send({"type": "receive_video", "feed": feed, "on": True})
        await wait_until(lambda: got.video_frames > paused_at + 10, what="the video again")
        await wait_until(lambda: close_to(got.mean_colour(), RED), what="Anna's red picture")

        # Only for a feed one receives, and typed strictly
        await ben.send({"type": "receive_video", "feed": "123456", "on": False})
        assert (await ben.expect("error"))["code"] == "unknown_feed"
        await ben.send({"type": "receive_video", "feed": feed, "on": "no"})
        assert (await ben.expect("error"))["code"] == "bad_message"
    finally:
        await anna.close()
        await ben.close()
