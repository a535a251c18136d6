"""Which devices are in a room's MLS group, as the delivery service learns it from the commits
(creation, external joins, adds with their welcome, removals), and the key packages a member's
device claims to add the devices that are missing. The members' devices check every commit
themselves; this record tells the server whom to hand key packages for and whose devices to
have removed (a member who left)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rathaus.chat import mls_wire, store
from rathaus.chat.devices import CIPHER_SUITE, Claimed
from rathaus.db.models import ChatDeviceRow, RoomRow
from rathaus.errors import ClientError, Conflict, ErrorCode
from rathaus.rooms import store as rooms_store

MAX_CLAIM = 100  # devices added by one commit


@dataclass(frozen=True)
class GroupChange:
    """What a commit says it does to the group's devices."""

    adds: tuple[str, ...] = ()
    removes: tuple[str, ...] = ()
    welcome: bytes | None = None


async def members(session: AsyncSession, room_id: int) -> dict[int, str]:
    """user id → user name of everyone in the room's chat."""
    row = await session.get(RoomRow, room_id)
    people = await rooms_store.people(session, row) if row is not None else []
    return {user.id: user.username for user, _role, _since in people}


async def claim(session: AsyncSession, room_id: int) -> tuple[list[Claimed], list[str]]:
    """One key package for each device of a member that is not in the group (handed out once),
    and the devices in the group whose owner is no member any more."""
    people = await members(session, room_id)
    in_group = await store.group_device_ids(session, room_id)
    claimed: list[Claimed] = []
    for device in await store.devices_of(session, list(people)):
        if device.id in in_group or len(claimed) >= MAX_CLAIM:
            continue
        package = await store.take_key_package(session, device.id)
        if package is not None:
            claimed.append(Claimed(device.id, people[device.user_id], package))
    owners = await session.execute(
        select(ChatDeviceRow.id, ChatDeviceRow.user_id).where(ChatDeviceRow.id.in_(in_group))
    )
    stale = sorted(device for device, user in owners.all() if user not in people)
    return claimed, stale


async def check(session: AsyncSession, room_id: int, change: GroupChange) -> None:
    """Adds bring devices of members, with a welcome for them; nothing else is taken."""
    if bool(change.adds) != (change.welcome is not None):
        raise ClientError("a commit that adds devices carries their welcome, and only then")
    if change.welcome is not None:
        try:
            mls_wire.welcome_header(change.welcome, CIPHER_SUITE)
        except mls_wire.MalformedMls as exc:
            raise ClientError(str(exc), code=ErrorCode.BAD_MESSAGE) from None
    if change.adds:
        if set(change.adds) & await store.group_device_ids(session, room_id):
            raise Conflict("a device this commit adds is in the group already")
        people = await members(session, room_id)
        rows = await session.scalars(select(ChatDeviceRow).where(ChatDeviceRow.id.in_(change.adds)))
        found = {row.id for row in rows if row.user_id in people}
        if found != set(change.adds):
            raise ClientError("only devices of the room's members are added")


async def record(
    session: AsyncSession,
    room_id: int,
    seq: int,
    change: GroupChange,
    joiner: str | None,
) -> None:
    """After the commit numbered ``seq`` was taken: ``joiner`` joined by external commit."""
    if joiner is not None:  # it has its group: a welcome that waited for it is spent
        await store.join_group(session, room_id, [joiner])
        await store.forget_welcome(session, room_id, joiner)
    await store.join_group(session, room_id, change.adds, change.welcome, seq)
    await store.leave_group(session, room_id, change.removes)
