"""Rathaus with Janus nodes given in the configuration instead of the managed one."""

import uuid
from pathlib import Path

import pytest

from rathaus.media.janus.supervisor import JanusSupervisor
from tests.support.bot import Bot, keep_media_on_loopback, wait_until
from tests.support.janus import start_janus
from tests.support.server import running_server, server_settings

pytestmark = pytest.mark.janus


async def test_meetings_spread_over_external_nodes(tmp_path: Path) -> None:
    keep_media_on_loopback()
    nodes: list[JanusSupervisor] = []
    try:
        for n in range(2):
            nodes.append(await start_janus(tmp_path / f"node{n}"))
        janus = {
            "nodes": [
                {"name": f"node{n}", "url": sup.url, "api_secret": sup.api_secret}
                for n, sup in enumerate(nodes)
            ]
        }
        settings = server_settings(tmp_path / "rathaus", janus=janus)
        async with running_server(settings) as server:
            assert server.services.janus_supervisor is None  # nothing managed
            bots = []
            for _ in range(2):  # two meetings: one on each node
                name = f"x-{uuid.uuid4().hex[:8]}"
                anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
                bots += [anna, ben]
                await anna.join()
                await anna.publish((20, 200, 20), 440)
                await ben.join()
                feeds = ben.welcome["feeds"] or [(await ben.expect("feed_added"))["feed"]]
                got = await ben.subscribe(feeds[0]["id"])
                await wait_until(lambda got=got: got.video_frames > 0, what="a frame")
            pool = server.services.meetings._pool
            assert sorted(pool.load(c) for c in pool.clients.values()) == [1, 1]
            for bot in bots:
                await bot.close()
    finally:
        for sup in nodes:
            await sup.stop()
