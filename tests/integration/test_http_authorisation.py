"""The HTTP authorisation matrix: every actor against every state-changing or private endpoint.

Expected statuses are written out as a table; a cell where the server allows what the table
refuses (or refuses what it allows) fails. Each signed-in request is also tried without its CSRF
token, which must always be refused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"
ACTORS = ["anonymous", "member", "moderator", "co_owner", "owner", "admin"]

# endpoint → expected status per actor, in the order of ACTORS
MATRIX: dict[str, tuple[int, ...]] = {
    "create room": (401, 201, 201, 201, 201, 201),
    "change room": (401, 403, 403, 200, 200, 200),
    "switch e2ee off": (401, 403, 403, 200, 200, 200),
    "give role": (401, 403, 403, 204, 204, 204),
    "make member": (401, 403, 403, 204, 204, 204),
    "take role": (401, 403, 403, 204, 204, 204),
    "guest link": (401, 403, 403, 201, 201, 201),
    "list guest links": (401, 403, 403, 200, 200, 200),
    "revoke guest link": (401, 403, 403, 204, 204, 204),
    "list my rooms": (401, 200, 200, 200, 200, 200),
    "room settings": (401, 403, 403, 200, 200, 200),
    "rename room": (401, 403, 403, 200, 200, 200),
    "read audit log": (401, 403, 403, 403, 403, 200),
    "who am I": (401, 200, 200, 200, 200, 200),
    "direct conversation": (401, 200, 200, 200, 200, 200),
}


Request = tuple[str, str, dict[str, object] | None]


def request_for(endpoint: str, slug: str, target: str, link: str = "{link_id}") -> Request:
    """``link``: the id of an existing guest link of the room (one for each request to revoke
    one)."""
    requests: dict[str, Request] = {
        "create room": ("POST", "/api/rooms", {"name": f"Raum {uuid.uuid4().hex[:8]}"}),
        "change room": ("PATCH", f"/api/rooms/{slug}", {"lobby": True}),
        "switch e2ee off": ("PATCH", f"/api/rooms/{slug}", {"e2ee": False}),
        "give role": ("PUT", f"/api/rooms/{slug}/roles/{target}", {"role": "moderator"}),
        "make member": ("PUT", f"/api/rooms/{slug}/roles/{target}", {"role": "member"}),
        "take role": ("DELETE", f"/api/rooms/{slug}/roles/{target}", None),
        "guest link": ("POST", f"/api/rooms/{slug}/guest-links", {"valid_hours": 1}),
        "list guest links": ("GET", f"/api/rooms/{slug}/guest-links", None),
        "revoke guest link": ("DELETE", f"/api/rooms/{slug}/guest-links/{link}", None),
        "list my rooms": ("GET", "/api/rooms", None),
        "room settings": ("GET", f"/api/rooms/{slug}/settings", None),
        "rename room": ("PATCH", f"/api/rooms/{slug}", {"name": f"Authz {uuid.uuid4().hex[:8]}"}),
        "read audit log": ("GET", "/api/audit", None),
        "who am I": ("GET", "/api/session", None),
        "direct conversation": ("POST", f"/api/direct/{target}", None),
    }
    return requests[endpoint]


@pytest.fixture(scope="module")
async def world(
    server: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[RunningServer, str, dict[str, httpx.AsyncClient]]]:
    """A Rathaus with accounts, one room, and a signed-in browser for each actor."""
    settings = server_settings(
        tmp_path_factory.mktemp("authz"), janus=shared_janus(server), meeting={"adhoc_rooms": None}
    )
    async with running_server(settings) as rathaus:
        accounts, rooms = rathaus.services.accounts, rathaus.services.rooms
        users = {
            actor: await accounts.create_user(
                actor.replace("_", ""), PASSWORD, admin=actor == "admin"
            )
            for actor in ACTORS[1:]
        }
        await accounts.create_user("target", PASSWORD)
        slug = "authz-room"
        await rooms.create("Authz", slug, owner_id=users["owner"].id)
        await rooms.set_role(slug, users["owner"], users["co_owner"], "co_owner")
        await rooms.set_role(slug, users["owner"], users["moderator"], "moderator")
        browsers = {"anonymous": httpx.AsyncClient(base_url=rathaus.http)}
        for actor, user in users.items():
            http = httpx.AsyncClient(base_url=rathaus.http)
            signed = await http.post(
                "/api/session", json={"username": user.username, "password": PASSWORD}
            )
            http.headers["x-csrf-token"] = signed.json()["csrf_token"]
            browsers[actor] = http
        yield rathaus, slug, browsers
        for http in browsers.values():
            await http.aclose()


@pytest.mark.parametrize("endpoint", list(MATRIX))
@pytest.mark.parametrize("actor", ACTORS)
async def test_matrix(
    world: tuple[RunningServer, str, dict[str, httpx.AsyncClient]], actor: str, endpoint: str
) -> None:
    rathaus, slug, browsers = world
    http = browsers[actor]
    owner = await rathaus.services.accounts.user_named("owner")
    link = (await rathaus.services.guest_links.create(slug, owner, 1)).id
    method, path, body = request_for(endpoint, slug, "target", link)
    expected = MATRIX[endpoint][ACTORS.index(actor)]

    if method != "GET" and actor != "anonymous":
        forged = await http.request(method, path, json=body, headers={"x-csrf-token": "forged"})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf", forged.text
    response = await http.request(method, path, json=body)
    assert response.status_code == expected, f"{actor} {endpoint}: {response.text}"


def test_the_matrix_covers_every_private_route(
    world: tuple[RunningServer, str, dict[str, httpx.AsyncClient]],
) -> None:
    rathaus, _, _ = world
    open_routes = {
        ("GET", "/api/health"),
        ("GET", "/api/auth/methods"),
        ("GET", "/api/rooms/{slug}"),
        ("POST", "/api/session"),
        ("DELETE", "/api/session"),
        ("DELETE", "/api/sessions"),
        ("GET", "/auth/oidc/start"),  # sign-in itself
        ("GET", "/auth/oidc/callback"),
        ("GET", "/api/openapi.json"),
    }
    covered = {
        (m, p.replace("authz-room", "{slug}").replace("/target", "/{username}"))
        for m, p, _ in (request_for(e, "authz-room", "target") for e in MATRIX)
    }
    routes = {
        (method.upper(), path)
        for path, operations in rathaus.app.openapi()["paths"].items()
        for method in operations
    }
    # The chat's routes have matrices of their own, with the chat's actors (a room's members,
    # outsiders, the anonymous) against every chat action: tests/integration/chat/
    # (test_chat_authorisation.py, test_attachments.py).
    chat = {route for route in routes if route[1].startswith("/api/chat/")}
    assert routes - open_routes - chat <= covered, routes - open_routes - chat - covered
