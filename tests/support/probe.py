"""A bare signaling socket for fuzzing: sends any frame, follows it with a `ping`, and reads
what the server answers up to that ping's `pong` (the server answers a socket's frames in order
as it reads them; what goes to Janus may answer later). Every frame the server sends is parsed
with the server's own message models, so a frame that is not one of them fails the test."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from pydantic import TypeAdapter
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from rathaus.meetings import server_messages as sm

PING = json.dumps({"type": "ping"})
_server_message: TypeAdapter[Any] = TypeAdapter(sm.ServerMessage)


class Hang(AssertionError):
    """The server did not answer in time."""


class Probe:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []  # everything received, in order
        self.close_code: int | None = None  # once the server closed the socket

    @classmethod
    async def open(cls, url: str) -> Probe:
        # A frame a little over the protocol's 64 KiB must reach the server (which refuses it).
        return cls(await connect(url, max_size=None, open_timeout=10))

    @property
    def closed(self) -> bool:
        return self.close_code is not None

    async def exchange(self, frame: str | bytes, pongs: int = 1, timeout: float = 15) -> list[dict]:
        """Send ``frame`` and a ping; what arrives until ``pongs`` pongs (the ping's, and the
        frame's own if it is a ping), or until the server closes the socket."""
        start = len(self.seen)
        try:
            await self.ws.send(frame)
            await self.ws.send(PING)
        except ConnectionClosed:
            pass  # what the server sent before it closed is still to be read
        got = 0
        while got < pongs and not self.closed:
            message = await self._next(timeout, f"no pong within {timeout} s after {frame!r:.200}")
            if message is not None and message["type"] == "pong":
                got += 1
        return self.seen[start:]

    async def wait_for(self, done: Any, timeout: float, what: str) -> None:
        """Read on until ``done()`` holds (or the socket closes)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done() and not self.closed:
            await self._next(max(0.0, deadline - loop.time()), f"{what} within {timeout} s")

    async def _next(self, timeout: float, what: str) -> dict[str, Any] | None:
        try:
            text = await asyncio.wait_for(self.ws.recv(), timeout)
        except TimeoutError:
            raise Hang(what) from None
        except ConnectionClosed:
            self.close_code = self.ws.close_code if self.ws.close_code is not None else 1006
            return None
        assert isinstance(text, str), "the server sends text frames only"
        message: dict[str, Any] = json.loads(text)
        _server_message.validate_python(message)  # one of the documented server messages
        self.seen.append(message)
        return message

    async def close(self) -> None:
        await self.ws.close()
        if self.close_code is None:
            self.close_code = self.ws.close_code or 1000
