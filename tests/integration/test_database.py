"""Migrations and the room service against both databases: SQLite (a file) and real PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from rathaus.accounts.service import User
from rathaus.audit import AuditLog, AuditParty, PartyRole
from rathaus.db.engine import MIGRATIONS, create_engine, migrate, sessionmaker
from rathaus.db.models import Base
from rathaus.errors import BadMessage, Conflict, UnknownRoom
from rathaus.rooms.guest_links import GuestLinks
from rathaus.rooms.invites import InviteCheck, Invites
from rathaus.rooms.service import RoomService
from rathaus.secrets_store import Signer

_numbers = itertools.count(1)


async def _fresh_postgres_database(session_url: str) -> tuple[str, str]:
    """A new, empty database in the session's cluster: (SQLAlchemy URL, its name)."""
    url = make_url(session_url)
    name = f"rathaus_test_{next(_numbers)}"
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False), name


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database of each kind, disposed afterwards."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'rathaus.db'}"
    else:
        url, _ = await _fresh_postgres_database(request.getfixturevalue("postgres_url"))
    engine = create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def migrated(engine: AsyncEngine) -> AsyncEngine:
    await migrate(engine)
    return engine


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_create_the_schema_and_run_twice(engine: AsyncEngine) -> None:
    await migrate(engine)
    await migrate(engine)  # a second start finds the schema up to date
    async with engine.connect() as connection:
        tables = await connection.run_sync(_tables)
        assert {
            "rooms",
            "users",
            "sessions",
            "room_roles",
            "audit_log",
            "guest_links",
            "alembic_version",
        } <= tables
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        count = await connection.scalar(text("SELECT count(*) FROM alembic_version"))
    assert version == "0010" and count == 1


def _alembic(connection: Connection, direction: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


def _room_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("rooms")}


async def test_rooms_from_before_0004_keep_end_to_end_encryption_on(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "0003")
        await connection.execute(text("INSERT INTO rooms (slug, name) VALUES ('alt', 'Alt')"))
    await migrate(engine)
    rooms = RoomService(sessionmaker(engine), adhoc=False)
    assert (await rooms.get("alt")).e2ee is True
    assert (await rooms.create("Neu")).e2ee is True
    admin = User(0, "admin", "Admin", is_admin=True, provider="local")
    assert (await rooms.update("neu", admin, e2ee=False)).e2ee is False
    assert (await rooms.get("neu")).e2ee is False
    assert (await rooms.update("neu", admin, lobby=True)).e2ee is False  # left as it was
    assert (await rooms.get("alt")).e2ee is True

    async with engine.begin() as connection:  # and back, keeping the rooms
        await connection.run_sync(_alembic, "downgrade", "0003")
        assert "e2ee" not in await connection.run_sync(_room_columns)
        names = await connection.scalars(text("SELECT name FROM rooms ORDER BY name"))
        assert list(names) == ["Alt", "Neu"]


# The audit log as it was up to 0004: actor and target one text each.
_OLD_AUDIT = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("room", sa.String),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("target", sa.String),
)
# A 200-character text may be a longer label cut off: its end may be a forged label.
_CUT_OFF = ("x" * 200 + " (administrator, user 1)")[-200:]
_OLD_ENTRIES = [  # (actor, action, target) as 0004 stored them, oldest first
    ("Eva Example (owner, user 7)", "room_lobby_on", None),
    # A guest who called themselves after a moderator: the server's label is the last one.
    ("Olga Owner (moderator, user 3)", "mute", "Anna Schmidt (moderator, user 1) (guest)"),
    ("Anna Schmidt (moderator, user 1) (moderator)", "lock", None),  # a promoted guest
    ("Eva Example (owner, user 7)", "room_guest_link_created", "until 2025-01-01 12:00 UTC"),
    ("Ohne Klammern", "end", None),  # no label at all: kept as the name
    (_CUT_OFF, "room_e2ee_off", "Mia (co_owner, user 12)"),
]


def _party(name: str, role: PartyRole | None = None, user_id: int | None = None) -> AuditParty:
    return AuditParty(name, role, user_id)


_MIGRATED = [  # (actor, action, target, detail) after 0005
    (_party("Eva Example", PartyRole.OWNER, 7), "room_lobby_on", None, None),
    (
        _party("Olga Owner", PartyRole.MODERATOR, 3),
        "mute",
        _party("Anna Schmidt (moderator, user 1)", PartyRole.GUEST),
        None,
    ),
    (_party("Anna Schmidt (moderator, user 1)", PartyRole.MODERATOR), "lock", None, None),
    (
        _party("Eva Example", PartyRole.OWNER, 7),
        "room_guest_link_created",
        None,
        "until 2025-01-01 12:00 UTC",
    ),
    (_party("Ohne Klammern"), "end", None, None),
    (_party(_CUT_OFF), "room_e2ee_off", _party("Mia", PartyRole.CO_OWNER, 12), None),
]


def _audit_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("audit_log")}


async def _audited(engine: AsyncEngine) -> list[tuple[object, ...]]:
    entries = await AuditLog(sessionmaker(engine)).recent(room="alt")
    return [(e.actor, e.action, e.target, e.detail) for e in reversed(entries)]


async def test_audit_entries_from_before_0005_become_parties(engine: AsyncEngine) -> None:
    at = datetime(2025, 1, 1, 11, 0, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "0004")
        await connection.execute(
            sa.insert(_OLD_AUDIT),
            [
                {"at": at, "room": "alt", "actor": actor, "action": action, "target": target}
                for actor, action, target in _OLD_ENTRIES
            ],
        )
    await migrate(engine)
    async with engine.connect() as connection:
        columns = await connection.run_sync(_audit_columns)
    assert "actor" not in columns and "target" not in columns
    assert {"actor_user_id", "actor_role", "actor_name", "target_name", "detail"} <= columns
    assert await _audited(engine) == _MIGRATED

    # New entries go in beside them; the log reads both.
    log = AuditLog(sessionmaker(engine))
    mia = _party("Mia", PartyRole.MODERATOR, 12)
    await log.record("alt", mia, "remove", _party("Gast", PartyRole.GUEST))
    assert (await _audited(engine))[-1] == (mia, "remove", _party("Gast", PartyRole.GUEST), None)

    # Back to 0004: the old texts again, the new entry's too; and up again, the same parties.
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "downgrade", "0004")
        assert {"actor", "target"} <= await connection.run_sync(_audit_columns)
        assert "actor_name" not in await connection.run_sync(_audit_columns)
        old = await connection.execute(
            text("SELECT actor, action, target FROM audit_log ORDER BY id")
        )
        assert [tuple(row) for row in old] == [
            *_OLD_ENTRIES,
            ("Mia (moderator, user 12)", "remove", "Gast (guest)"),
        ]
    await migrate(engine)
    assert await _audited(engine) == [
        *_MIGRATED,
        (mia, "remove", _party("Gast", PartyRole.GUEST), None),
    ]


async def test_create_and_get_a_room(migrated: AsyncEngine) -> None:
    rooms = RoomService(sessionmaker(migrated), adhoc=False)
    created = await rooms.create("  Bezirksausschuss   Süd ")
    assert (created.slug, created.name) == ("bezirksausschuss-sued", "Bezirksausschuss Süd")
    assert await rooms.get("bezirksausschuss-sued") == created
    assert await rooms.open("bezirksausschuss-sued") == created
    named = await rooms.create("Stadtrat", "stadtrat-2024")
    assert await rooms.get("stadtrat-2024") == named


async def test_a_second_room_with_the_same_link_name_is_a_conflict(migrated: AsyncEngine) -> None:
    rooms = RoomService(sessionmaker(migrated), adhoc=True)
    await rooms.create("Team")
    with pytest.raises(Conflict, match="'team' exists already"):
        await rooms.create("Team")
    with pytest.raises(Conflict):
        await rooms.create("Anderes Team", "team")
    team = await rooms.get("team")  # the first one is untouched
    assert (team.slug, team.name) == ("team", "Team")


async def test_unknown_rooms(migrated: AsyncEngine) -> None:
    strict = RoomService(sessionmaker(migrated), adhoc=False)
    for slug in ("nobody-made-this", "Not A Slug", ""):
        with pytest.raises(UnknownRoom):
            await strict.get(slug)
        with pytest.raises(UnknownRoom):
            await strict.open(slug)
    with pytest.raises(UnknownRoom):  # ad-hoc rooms still need a valid link name
        await RoomService(sessionmaker(migrated), adhoc=True).open("Not A Slug")
    with pytest.raises(BadMessage) as caught:
        await strict.create("ok", "Not A Slug")
    assert caught.value.code == "bad_message"


async def test_adhoc_open_creates_the_room_once(migrated: AsyncEngine) -> None:
    rooms = RoomService(sessionmaker(migrated), adhoc=True)
    first = await rooms.open("kaffeerunde")
    assert (first.slug, first.name) == ("kaffeerunde", "kaffeerunde")
    assert await rooms.open("kaffeerunde") == first
    assert await rooms.get("kaffeerunde") == first
    with pytest.raises(Conflict):
        await rooms.create("Kaffeerunde")


async def test_concurrent_adhoc_open_yields_one_room(migrated: AsyncEngine) -> None:
    rooms = RoomService(sessionmaker(migrated), adhoc=True)
    for round_ in range(3):  # a few rounds: the race window is small
        slug = f"gleichzeitig-{round_}"
        opened = await asyncio.wait_for(asyncio.gather(*(rooms.open(slug) for _ in range(10))), 30)
        assert {(room.slug, room.name, room.id) for room in opened} == {(slug, slug, opened[0].id)}
        async with migrated.connect() as connection:
            count = await connection.scalar(
                text("SELECT count(*) FROM rooms WHERE slug = :slug"), {"slug": slug}
            )
        assert count == 1


def _differences(connection: Connection, table: str) -> list[object]:
    """What autogenerate would change to make ``table`` as the models have it."""
    found = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    return [d for d in found if table in repr(d)]


async def test_guest_links_go_with_their_room_and_outlive_their_maker(engine: AsyncEngine) -> None:
    await migrate(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences, "guest_links") == []
    sessions = sessionmaker(engine)
    rooms = RoomService(sessions, adhoc=False)
    links = GuestLinks(sessions, rooms, Invites(Signer(b"k" * 32, "guest-link")))
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO users (username, display_name) VALUES ('eva', 'Eva Example')")
        )
        eva_id = await connection.scalar(text("SELECT id FROM users WHERE username = 'eva'"))
    eva = User(eva_id, "eva", "Eva Example", is_admin=False, provider="local")
    kept, gone = await rooms.create("Rat", "rat", eva.id), await rooms.create("Weg", "weg", eva.id)
    link = await links.create(kept.slug, eva, 1)
    await links.create(gone.slug, eva, 1)
    assert (await links.links("rat", eva))[0].created_by == "Eva Example"

    async with engine.begin() as connection:  # the account goes, the link stays, unsigned
        await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": eva.id})
        await connection.execute(text("DELETE FROM rooms WHERE slug = 'weg'"))
        remaining = await connection.scalars(text("SELECT room_id FROM guest_links"))
        assert list(remaining) == [kept.id]  # the room's links went with it
    admin = User(0, "admin", "Admin", is_admin=True, provider="local")
    (listed,) = await links.links("rat", admin)
    assert (listed.id, listed.token, listed.created_by) == (link.id, link.token, None)
    assert await links.check(link.token, await rooms.get("rat")) is InviteCheck.VALID

    async with engine.begin() as connection:  # and back to 0005: the table goes
        await connection.run_sync(_alembic, "downgrade", "0005")
        assert "guest_links" not in await connection.run_sync(_tables)
    await migrate(engine)
    assert await links.check(link.token, await rooms.get("rat")) is InviteCheck.REVOKED


_ROOMS = sa.table(
    "rooms",
    sa.column("slug", sa.String),
    sa.column("name", sa.String),
    sa.column("owner_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
_OLD_ROLES = sa.table(
    "room_roles", sa.column("room_id"), sa.column("user_id"), sa.column("role", sa.String)
)
_AUDIT = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("room", sa.String),
    sa.column("action", sa.String),
    sa.column("actor_name", sa.String),
    sa.column("target_user_id", sa.Integer),
)


def _role_columns(connection: Connection) -> set[str]:
    return {column["name"] for column in inspect(connection).get_columns("room_roles")}


async def test_room_roles_from_before_0007_are_members_since_their_grant(
    engine: AsyncEngine,
) -> None:
    made, granted = datetime(2025, 1, 1, 9, 0, tzinfo=UTC), datetime(2025, 2, 1, 10, 0, tzinfo=UTC)
    async with engine.begin() as connection:
        await connection.run_sync(_alembic, "upgrade", "0006")
        for name in ("eva", "mia", "ben"):
            await connection.execute(
                text("INSERT INTO users (username, display_name) VALUES (:n, :n)"), {"n": name}
            )
        rows = (await connection.execute(text("SELECT username, id FROM users"))).all()
        ids: dict[str, int] = {name: user_id for name, user_id in rows}
        await connection.execute(
            sa.insert(_ROOMS),
            [{"slug": "alt", "name": "Alt", "owner_id": ids["eva"], "created_at": made}],
        )
        room_id = await connection.scalar(text("SELECT id FROM rooms WHERE slug = 'alt'"))
        await connection.execute(
            sa.insert(_OLD_ROLES),
            [
                {"room_id": room_id, "user_id": ids["mia"], "role": "moderator"},
                {"room_id": room_id, "user_id": ids["ben"], "role": "co_owner"},  # not logged
            ],
        )
        # Mia's role was granted twice (taken between): she is a member since the last grant.
        await connection.execute(
            sa.insert(_AUDIT),
            [
                {
                    "at": at,
                    "room": "alt",
                    "action": "room_role_granted",
                    "actor_name": "Eva",
                    "target_user_id": ids["mia"],
                }
                for at in (made, granted)
            ],
        )
    await migrate(engine)
    async with engine.connect() as connection:
        for table in ("rooms", "room_roles"):
            assert await connection.run_sync(_differences, table) == []
    rooms = RoomService(sessionmaker(engine), adhoc=False)
    eva = User(ids["eva"], "eva", "eva", is_admin=False, provider="local")
    mia = User(ids["mia"], "mia", "mia", is_admin=False, provider="local")
    _, people = await rooms.people("alt", eva)
    assert [(p.username, p.role, p.since) for p in people] == [
        ("eva", "owner", int(made.timestamp())),
        ("ben", "co_owner", int(made.timestamp())),
        ("mia", "moderator", int(granted.timestamp())),
    ]
    assert (await rooms.get("alt")).kind == "room"

    # A direct conversation after it: one per pair, whoever starts it.
    direct = await rooms.direct(eva, mia)
    assert (await rooms.direct(mia, eva)).slug == direct.slug
    assert [(r.room.slug, r.role) for r in await rooms.rooms_of(mia)] == [
        (direct.slug, "member"),
        ("alt", "moderator"),
    ]

    async with engine.begin() as connection:  # and back to 0006: the columns go
        await connection.run_sync(_alembic, "downgrade", "0006")
        assert "since" not in await connection.run_sync(_role_columns)
        assert not {"kind", "direct_pair"} & await connection.run_sync(_room_columns)
    await migrate(engine)
    assert (await rooms.get(direct.slug)).kind == "room"  # what a downgrade forgets
