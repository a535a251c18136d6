"""Janus's Admin API, for tests that check what Janus itself holds (sessions, handles, rooms)
rather than what Rathaus believes it holds."""

from __future__ import annotations

import json
import secrets
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from rathaus.media.janus.supervisor import JanusSupervisor


async def admin_request(
    janus: JanusSupervisor, janus_request: str, **fields: Any
) -> dict[str, Any]:
    async with connect(
        janus.admin_url, subprotocols=[Subprotocol("janus-admin-protocol")], proxy=None
    ) as ws:
        transaction = secrets.token_hex(6)
        message = {
            "janus": janus_request,
            "transaction": transaction,
            "admin_secret": janus.admin_secret,
            **fields,
        }
        await ws.send(json.dumps(message))
        while True:
            reply: dict[str, Any] = json.loads(await ws.recv())
            if reply.get("transaction") == transaction:
                if reply.get("janus") != "success":
                    raise AssertionError(f"Janus admin {janus_request} failed: {reply}")
                return reply


async def sessions(janus: JanusSupervisor) -> list[int]:
    return list((await admin_request(janus, "list_sessions"))["sessions"])


async def handles(janus: JanusSupervisor, session_id: int) -> list[int]:
    reply = await admin_request(janus, "list_handles", session_id=session_id)
    return list(reply["handles"])


async def videorooms(janus: JanusSupervisor) -> list[int]:
    """The VideoRoom rooms, by a `list` sent through a handle of a short-lived session."""
    reply = await admin_request(
        janus,
        "message_plugin",
        plugin="janus.plugin.videoroom",
        request={"request": "list"},
    )
    return [int(room["room"]) for room in reply["response"]["list"]]
