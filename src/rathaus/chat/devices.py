"""The chat's key directory: each member's devices with their public keys (never a private
one), and the MLS key packages they leave for others, so that a member's device can add this
device to a room's group while it is offline (RFC 9420 §10, §16)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.accounts.service import User
from rathaus.chat import mls_wire, store
from rathaus.db.models import ChatDeviceRow, UserRow
from rathaus.errors import ClientError, Conflict, ErrorCode

CIPHER_SUITE = 1  # MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519 (js/chat/mls-codec.js)
MAX_KEY_PACKAGES = 50  # waiting per device
MAX_KEY_PACKAGE_BYTES = 4096


class UnknownDevice(ClientError):
    code = ErrorCode.UNKNOWN_DEVICE
    status = 404


@dataclass(frozen=True)
class Device:
    id: str
    username: str
    display_name: str
    ed25519: str
    x25519: str


@dataclass(frozen=True)
class Claimed:
    """A device to add to a group, with the key package it was handed."""

    device: str
    user: str
    key_package: bytes


class Directory:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self._sessions = sessions
        self._clock = clock

    async def register(self, user: User, device_id: str, ed25519: str, x25519: str) -> None:
        """Records a device of ``user``'s; the same registration again changes nothing."""
        async with self._sessions.begin() as session:
            found = await store.device(session, device_id)
            if found is None:
                row = ChatDeviceRow(
                    id=device_id,
                    user_id=user.id,
                    ed25519=ed25519,
                    x25519=x25519,
                    created_at=self._clock(),
                )
                try:
                    await store.add_device(session, row)
                except IntegrityError:
                    raise Conflict("this device id is taken; make a new device") from None
                return
        if (found.user_id, found.ed25519, found.x25519) != (user.id, ed25519, x25519):
            raise Conflict("this device id is taken; make a new device")

    async def device(self, device_id: str) -> Device:
        async with self._sessions() as session:
            row = await store.device(session, device_id)
            owner = await session.get(UserRow, row.user_id) if row is not None else None
        if row is None or owner is None:
            raise UnknownDevice("no such device")
        return Device(row.id, owner.username, owner.display_name, row.ed25519, row.x25519)

    async def require_own(self, user: User, device_id: str) -> None:
        async with self._sessions() as session:
            row = await store.device(session, device_id)
        if row is None or row.user_id != user.id:
            raise UnknownDevice("register this device first (POST /api/chat/devices)")

    async def add_key_packages(self, user: User, device_id: str, packages: Sequence[bytes]) -> int:
        """Stores the device's key packages; how many wait now."""
        for package in packages:
            if len(package) > MAX_KEY_PACKAGE_BYTES:
                raise ClientError("a key package is too large", code=ErrorCode.TOO_LARGE)
            try:
                mls_wire.check_key_package(package, CIPHER_SUITE)
            except mls_wire.MalformedMls as exc:
                raise ClientError(str(exc), code=ErrorCode.BAD_MESSAGE) from None
        await self.require_own(user, device_id)
        async with self._sessions.begin() as session:
            waiting = await store.count_key_packages(session, device_id)
            if waiting + len(packages) > MAX_KEY_PACKAGES:
                raise ClientError(
                    f"at most {MAX_KEY_PACKAGES} key packages wait per device",
                    code=ErrorCode.LIMIT_REACHED,
                )
            await store.add_key_packages(session, device_id, packages, self._clock())
            return waiting + len(packages)

    async def waiting_key_packages(self, device_id: str) -> int:
        async with self._sessions() as session:
            return await store.count_key_packages(session, device_id)
