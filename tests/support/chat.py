"""A chat client for the delivery-service tests: signed in over HTTP, one WebSocket to /ws/chat,
and MLS messages that have real MLS headers (what the server reads) around random bytes (what
only devices could read: the browser tests use real MLS end to end)."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

PASSWORD = "a long password 1"
CIPHERSUITE = 1


def varint(n: int) -> bytes:
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return (0x4000 | n).to_bytes(2, "big")
    return (0x80000000 | n).to_bytes(4, "big")


def vector(data: bytes) -> bytes:
    return varint(len(data)) + data


def commit(group_id: bytes, epoch: int, leaf: int = 0) -> bytes:
    """A PublicMessage commit header (member sender) and a made-up rest."""
    return (
        b"\x00\x01\x00\x01"
        + vector(group_id)
        + epoch.to_bytes(8, "big")
        + b"\x01"
        + leaf.to_bytes(4, "big")
        + vector(b"")
        + b"\x03"
        + secrets.token_bytes(64)
    )


def message(group_id: bytes, epoch: int, ciphertext: bytes | None = None) -> bytes:
    """A PrivateMessage of application data around ``ciphertext``."""
    return (
        b"\x00\x01\x00\x02"
        + vector(group_id)
        + epoch.to_bytes(8, "big")
        + b"\x01"
        + vector(b"")
        + vector(secrets.token_bytes(28))
        + vector(ciphertext if ciphertext is not None else secrets.token_bytes(40))
    )


def group_info(group_id: bytes, epoch: int) -> bytes:
    return (
        b"\x00\x01\x00\x04"
        + b"\x00\x01"
        + CIPHERSUITE.to_bytes(2, "big")
        + vector(group_id)
        + epoch.to_bytes(8, "big")
        + secrets.token_bytes(32)
    )


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_id() -> str:
    return secrets.token_urlsafe(12)


async def sign_in(base: str, username: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=base)
    signed = await http.post("/api/session", json={"username": username, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    return http


def raw_key() -> str:
    """A raw 32-byte public key that is no small-order X25519 point."""
    return b64(b"\x09" + secrets.token_bytes(31))


async def register_device(http: httpx.AsyncClient) -> str:
    device = secrets.token_urlsafe(12)
    answer = await http.post(
        "/api/chat/devices", json={"id": device, "ed25519": raw_key(), "x25519": raw_key()}
    )
    assert answer.status_code == 200 and answer.json() == {"waiting": 0}, answer.text
    return device


@dataclass
class ChatSocket:
    """One chat WebSocket: what arrives is kept per kind, in order."""

    socket: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, ws: str, http: httpx.AsyncClient, device: str | None) -> ChatSocket:
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        socket = await connect(
            f"{ws}/ws/chat", additional_headers={"Cookie": cookie}, max_size=2**20
        )
        chat = cls(socket)
        chat._reader = asyncio.create_task(chat._read())
        if device is not None:
            await chat.send({"type": "hello", "device": device})
            await chat.next("ready")
        return chat

    async def _read(self) -> None:
        try:
            async for frame in self.socket:
                self.frames.append(json.loads(frame))
                self._arrived.set()
        except Exception:  # closed: the tests look at what came
            pass
        finally:
            self._arrived.set()

    async def send(self, data: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(data))

    async def next(self, kind: str, timeout: float = 5.0, **match: Any) -> dict[str, Any]:
        """The first frame of ``kind`` (and the fields in ``match``) not taken yet."""
        async with asyncio.timeout(timeout):
            while True:
                for i, frame in enumerate(self.frames):
                    if frame.get("type") == kind and all(
                        frame.get(k) == v for k, v in match.items()
                    ):
                        del self.frames[i]
                        return frame
                if self.socket.close_code is not None and self._reader and self._reader.done():
                    raise AssertionError(f"closed ({self.socket.close_code}) before a {kind}")
                self._arrived.clear()
                await self._arrived.wait()

    async def events(self, room: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The next ``count`` events of ``room``, from however many `events` frames."""
        found: list[dict[str, Any]] = []
        while len(found) < count:
            frame = await self.next("events", timeout, room=room)
            found.extend(frame["events"])
        return found

    async def request(self, data: dict[str, Any]) -> dict[str, Any]:
        """Sends a write with a client id; its ack, or the error about it."""
        client_id = data.setdefault("id", new_id())
        await self.send(data)
        async with asyncio.timeout(5):
            while True:
                for i, frame in enumerate(self.frames):
                    if frame.get("type") in ("ack", "error", "claimed") and client_id in (
                        frame.get("id"),
                        frame.get("ref"),
                    ):
                        del self.frames[i]
                        return frame
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        await self.socket.close()
        if self._reader is not None:
            await self._reader


def key_package(cipher_suite: int = CIPHERSUITE) -> bytes:
    """A KeyPackage's header (MLS 1.0, the cipher suite) and a made-up rest."""
    return b"\x00\x01\x00\x05\x00\x01" + cipher_suite.to_bytes(2, "big") + secrets.token_bytes(200)


def welcome(cipher_suite: int = CIPHERSUITE) -> bytes:
    return b"\x00\x01\x00\x03" + cipher_suite.to_bytes(2, "big") + secrets.token_bytes(300)
