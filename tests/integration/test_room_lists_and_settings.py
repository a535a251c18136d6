"""What the home page and the room-settings page read over HTTP: a member's own rooms, a room's
settings with who has a role in it, renaming, and what the join screen learns of a room."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from rathaus.errors import ErrorCode
from rathaus.rooms import service as room_service
from tests.support.http import assert_refused
from tests.support.rooms import PASSWORD, unique
from tests.support.server import RunningServer


async def signed_in(
    server: RunningServer, display_name: str | None = None, admin: bool = False
) -> tuple[Any, httpx.AsyncClient]:
    """A new account (a unique display name unless given), signed in over HTTP with the CSRF
    header."""
    name = display_name or unique("Name ")
    user = await server.services.accounts.create_user(unique("u"), PASSWORD, name, admin=admin)
    http = httpx.AsyncClient(base_url=server.http)
    signed = await http.post("/api/session", json={"username": user.username, "password": PASSWORD})
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    return user, http


async def create(http: httpx.AsyncClient, name: str) -> str:
    created = await http.post("/api/rooms", json={"name": unique(name)})
    assert created.status_code == 201, created.text
    return str(created.json()["slug"])


async def listed(http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """(slug, role) of the caller's rooms, in the order given."""
    response = await http.get("/api/rooms")
    assert response.status_code == 200, response.text
    return [(room["slug"], room["role"]) for room in response.json()["rooms"]]


async def test_a_member_lists_the_rooms_they_have_a_role_in_newest_first(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    olga, as_olga = await signed_in(server)
    mia, as_mia = await signed_in(server)
    _, as_admin = await signed_in(server, admin=True)
    _, as_new = await signed_in(server)
    anonymous = httpx.AsyncClient(base_url=server.http)
    rooms = server.services.rooms
    try:
        assert_refused(await anonymous.get("/api/rooms"), 401, ErrorCode.NOT_SIGNED_IN)
        first, second, third = [await create(as_olga, "Rat ") for _ in range(3)]
        co_owned, moderated = await create(as_mia, "Mia "), await create(as_mia, "Mia ")
        await rooms.set_role(co_owned, mia, olga, "co_owner")
        await rooms.set_role(moderated, mia, olga, "moderator")  # listed, but not managed
        await as_olga.patch(f"/api/rooms/{second}", json={"lobby": True, "password": "Pw 12345"})

        assert await listed(as_olga) == [
            (moderated, "moderator"),
            (co_owned, "co_owner"),
            (third, "owner"),
            (second, "owner"),
            (first, "owner"),
        ]
        assert await listed(as_mia) == [(moderated, "owner"), (co_owned, "owner")]
        assert await listed(as_new) == []
        assert await listed(as_admin) == []  # administrators may change every room, own none

        (item,) = [
            r for r in (await as_olga.get("/api/rooms")).json()["rooms"] if r["slug"] == second
        ]
        assert item == {
            "slug": second,
            "name": item["name"],
            "url": f"/r/{second}",
            "role": "owner",
            "kind": "room",
            "created_at": item["created_at"],
            "guests_allowed": True,
            "lobby": True,
            "has_password": True,
            "e2ee": True,
        }
        assert item["name"].startswith("Rat ")
        assert isinstance(item["created_at"], int)
        assert item["created_at"] == pytest.approx(time.time(), abs=60)

        await rooms.set_role(co_owned, mia, olga, None)
        await rooms.set_role(moderated, mia, olga, None)
        assert await listed(as_olga) == [(third, "owner"), (second, "owner"), (first, "owner")]
        # At most the newest MAX_LISTED_ROOMS.
        monkeypatch.setattr(room_service, "MAX_LISTED_ROOMS", 2)
        assert await listed(as_olga) == [(third, "owner"), (second, "owner")]
    finally:
        for http in (as_olga, as_mia, as_admin, as_new, anonymous):
            await http.aclose()


async def test_settings_and_roles_are_for_those_who_may_change_the_room(
    server: RunningServer,
) -> None:
    owner, as_owner = await signed_in(server, "Olga Owner")
    zora, as_zora = await signed_in(server, "Zora Co-Owner")
    anna, as_anna = await signed_in(server, "anna Moderator")  # sorted regardless of case
    _, as_member = await signed_in(server)
    _, as_admin = await signed_in(server, admin=True)
    anonymous = httpx.AsyncClient(base_url=server.http)
    rooms = server.services.rooms
    try:
        slug = await create(as_owner, "Rat ")
        await rooms.set_role(slug, owner, zora, "co_owner")
        await rooms.set_role(slug, owner, anna, "moderator")
        await as_owner.patch(f"/api/rooms/{slug}", json={"guests_allowed": False})
        url = f"/api/rooms/{slug}/settings"

        # Sign-in first, then the room's rights: nobody learns who has a role by asking.
        assert_refused(await anonymous.get(url), 401, ErrorCode.NOT_SIGNED_IN)
        assert_refused(
            await anonymous.get("/api/rooms/no-such-room/settings"), 401, ErrorCode.NOT_SIGNED_IN
        )
        for refused in (as_member, as_anna):
            response = await refused.get(url)
            assert_refused(response, 403, ErrorCode.FORBIDDEN)
            assert "roles" not in response.json() and "Zora" not in response.text
        assert_refused(
            await as_member.get("/api/rooms/no-such-room/settings"), 404, ErrorCode.UNKNOWN_ROOM
        )

        expected = {
            "slug": slug,
            "name": (await rooms.get(slug)).name,
            "guests_allowed": False,
            "lobby": False,
            "has_password": False,
            "e2ee": True,
            "retention_days": 0,
            "roles": [
                {"username": owner.username, "display_name": "Olga Owner", "role": "owner"},
                {"username": anna.username, "display_name": "anna Moderator", "role": "moderator"},
                {"username": zora.username, "display_name": "Zora Co-Owner", "role": "co_owner"},
            ],
        }
        for allowed in (as_owner, as_zora, as_admin):
            response = await allowed.get(url)
            assert response.status_code == 200, response.text
            answer = response.json()
            # Members since: the owner since the room was made, the others since their role.
            since = [role.pop("since") for role in answer["roles"]]
            assert answer == expected
            assert all(isinstance(t, int) for t in since), since
            assert since == pytest.approx([time.time()] * 3, abs=60)

        # A room nobody owns: no owner among the roles.
        unowned = unique("frei-")
        await rooms.create("Frei", unowned)
        response = await as_admin.get(f"/api/rooms/{unowned}/settings")
        assert response.status_code == 200 and response.json()["roles"] == []
    finally:
        for http in (as_owner, as_zora, as_anna, as_member, as_admin, anonymous):
            await http.aclose()


async def audit_rows(as_admin: httpx.AsyncClient, slug: str) -> list[dict[str, Any]]:
    """The room's audit entries, oldest first."""
    response = await as_admin.get("/api/audit", params={"room": slug})
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows[::-1]


async def test_owners_rename_a_room_and_its_link_stays(server: RunningServer) -> None:
    owner, as_owner = await signed_in(server)
    _, as_member = await signed_in(server)
    _, as_admin = await signed_in(server, admin=True)
    try:
        slug = await create(as_owner, "Alt ")
        renamed = await as_owner.patch(f"/api/rooms/{slug}", json={"name": "  Neuer \t Name "})
        assert renamed.status_code == 200, renamed.text
        assert (renamed.json()["slug"], renamed.json()["name"]) == (slug, "Neuer Name")
        public = (await as_member.get(f"/api/rooms/{slug}")).json()
        assert public == {
            "slug": slug,
            "name": "Neuer Name",
            "url": f"/r/{slug}",
            "has_password": False,
        }
        # The same name again, and another setting with it: no second rename.
        again = await as_owner.patch(
            f"/api/rooms/{slug}", json={"name": "Neuer Name", "lobby": True}
        )
        assert again.status_code == 200

        refused = {
            "only blanks": await as_owner.patch(f"/api/rooms/{slug}", json={"name": " \t "}),
            "a control character": await as_owner.patch(
                f"/api/rooms/{slug}", json={"name": "Rat\x07"}
            ),
            "a bidirectional override": await as_owner.patch(
                f"/api/rooms/{slug}", json={"name": "Rat \u202eSüd"}
            ),
            "empty": await as_owner.patch(f"/api/rooms/{slug}", json={"name": ""}),
            "too long": await as_owner.patch(f"/api/rooms/{slug}", json={"name": "x" * 201}),
            "not a string": await as_owner.patch(f"/api/rooms/{slug}", json={"name": 5}),
            "by a member": await as_member.patch(f"/api/rooms/{slug}", json={"name": "Meins"}),
        }
        assert {why: (r.status_code, r.json()["code"]) for why, r in refused.items()} == {
            "only blanks": (400, "bad_message"),
            "a control character": (400, "bad_message"),
            "a bidirectional override": (400, "bad_message"),
            "empty": (422, "bad_message"),
            "too long": (422, "bad_message"),
            "not a string": (422, "bad_message"),
            "by a member": (403, "forbidden"),
        }
        assert (await server.services.rooms.get(slug)).name == "Neuer Name"

        longest = "ü" * 200
        assert (await as_owner.patch(f"/api/rooms/{slug}", json={"name": longest})).json()[
            "name"
        ] == longest
        rows = await audit_rows(as_admin, slug)
        by_owner = {"user_id": owner.id, "role": "owner", "name": owner.display_name}
        assert [(r["actor"], r["action"], r["target"], r["detail"]) for r in rows] == [
            (by_owner, "room_created", None, None),
            (by_owner, "room_renamed", None, "Neuer Name"),
            (by_owner, "room_lobby_on", None, None),
            (by_owner, "room_renamed", None, longest),
        ]
    finally:
        for http in (as_owner, as_member, as_admin):
            await http.aclose()


async def test_the_join_screen_learns_whether_a_password_is_needed(server: RunningServer) -> None:
    _, as_owner = await signed_in(server)
    anonymous = httpx.AsyncClient(base_url=server.http)
    try:
        slug = await create(as_owner, "Rat ")
        assert (await anonymous.get(f"/api/rooms/{slug}")).json()["has_password"] is False
        await as_owner.patch(f"/api/rooms/{slug}", json={"password": "Geheim 1234"})
        room = (await anonymous.get(f"/api/rooms/{slug}")).json()
        assert room["has_password"] is True and "Geheim" not in str(room)
        await as_owner.patch(f"/api/rooms/{slug}", json={"password": ""})
        assert (await anonymous.get(f"/api/rooms/{slug}")).json()["has_password"] is False
    finally:
        await as_owner.aclose()
        await anonymous.aclose()
