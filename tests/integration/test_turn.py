"""TURN: Rathaus hands out coturn REST API credentials, and media really flow through the relay."""

import asyncio
import uuid
from pathlib import Path

import pytest
from aioice.stun import TransactionFailed
from aioice.turn import create_turn_endpoint
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from tests.support.bot import Bot, keep_media_on_loopback, wait_until
from tests.support.coturn import running_coturn
from tests.support.server import running_server, server_settings

pytestmark = pytest.mark.janus


class _Nothing(asyncio.DatagramProtocol):
    def connection_made(self, transport: object) -> None: ...

    def datagram_received(self, data: bytes, addr: object) -> None: ...

    def connection_lost(self, exc: object) -> None: ...


async def test_media_flow_through_coturn_with_rathaus_credentials(tmp_path: Path) -> None:
    keep_media_on_loopback()
    async with running_coturn(tmp_path) as turn:
        settings = server_settings(
            tmp_path / "rathaus", turn={"urls": [turn.url], "secret": turn.secret, "ttl": 600}
        )
        async with running_server(settings) as server:
            name = f"turn-{uuid.uuid4().hex[:8]}"
            anna, ben = Bot(server.ws, name, "Anna"), Bot(server.ws, name, "Ben")
            try:
                welcome = await anna.join()
                (ice,) = welcome["ice_servers"]
                assert ice["urls"] == [turn.url] and ice["username"].endswith(
                    ":" + welcome["self"]["id"]
                )
                relay_only = RTCConfiguration(
                    iceServers=[RTCIceServer(ice["urls"], ice["username"], ice["credential"])],
                    iceTransportPolicy=RTCIceTransportPolicy.RELAY,
                )
                await anna.publish((200, 200, 20), 440, configuration=relay_only)
                assert " typ relay" in anna.publishers["camera"].localDescription.sdp
                assert " typ host" not in anna.publishers["camera"].localDescription.sdp
                await ben.join()
                feeds = ben.welcome["feeds"] or [(await ben.expect("feed_added"))["feed"]]
                got = await ben.subscribe(feeds[0]["id"])
                await wait_until(lambda: got.video_frames > 3, what="frames relayed by coturn")

                with pytest.raises(TransactionFailed):  # a forged credential is refused
                    transport, _ = await create_turn_endpoint(
                        _Nothing, (turn.host, turn.port), ice["username"], "forged"
                    )
                    transport.close()
            finally:
                await anna.close()
                await ben.close()
