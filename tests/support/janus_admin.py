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


class SessionGone(AssertionError):
    """The session ended between listing it and asking for its handles."""


async def handles(janus: JanusSupervisor, session_id: int) -> list[int]:
    try:
        reply = await admin_request(janus, "list_handles", session_id=session_id)
    except AssertionError as error:
        if "'code': 458" in str(error):  # JANUS_ERROR_SESSION_NOT_FOUND
            raise SessionGone(session_id) from error
        raise
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


async def state(janus: JanusSupervisor) -> tuple[int, int, int]:
    """(sessions, handles, rooms) that Janus holds, from one snapshot in which no session
    ended while its handles were counted (a meeting closing meanwhile is asked again)."""
    for _ in range(20):
        ids = await sessions(janus)
        try:
            handle_count = sum([len(await handles(janus, s)) for s in ids])
        except SessionGone:
            continue
        return len(ids), handle_count, len(await videorooms(janus))
    raise AssertionError("Janus's sessions kept changing while they were counted")
