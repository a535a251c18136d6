"""Room roles over HTTP: whoever may not change a room's roles learns nothing from trying, not
even whether a user name exists."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.server import RunningServer, running_server, server_settings, shared_janus

PASSWORD = "a long password 1"


async def signed_in(rathaus: RunningServer, username: str) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=rathaus.http)
    signed = await http.post("/api/session", json={"username": username, "password": PASSWORD})
    http.headers["x-csrf-token"] = signed.json()["csrf_token"]
    return http


async def test_a_refusal_does_not_say_whether_the_user_exists(
    server: RunningServer, tmp_path: Path
) -> None:
    settings = server_settings(tmp_path, janus=shared_janus(server), meeting={"adhoc_rooms": None})
    async with running_server(settings) as rathaus:
        accounts, rooms = rathaus.services.accounts, rathaus.services.rooms
        owner = await accounts.create_user("olga", PASSWORD)
        await accounts.create_user("mia", PASSWORD)
        await accounts.create_user("target", PASSWORD)
        await rooms.create("Rat", "rat", owner_id=owner.id)
        as_member, as_owner = await signed_in(rathaus, "mia"), await signed_in(rathaus, "olga")
        try:
            for method, body in (("PUT", {"role": "moderator"}), ("DELETE", None)):
                answers = {}
                for name in ("target", "nobody", "not!a-name"):
                    response = await as_member.request(
                        method, f"/api/rooms/rat/roles/{name}", json=body
                    )
                    answers[name] = (response.status_code, response.json())
                refusal = (
                    403,
                    {"code": "forbidden", "message": "only the room's owners may change it"},
                )
                assert answers == dict.fromkeys(answers, refusal), (method, answers)

            # The room's owner may find out: the name is looked up once the right is checked.
            missing = await as_owner.put("/api/rooms/rat/roles/nobody", json={"role": "moderator"})
            assert missing.status_code == 404 and missing.json()["code"] == "not_found"
            given = await as_owner.put("/api/rooms/rat/roles/target", json={"role": "moderator"})
            assert given.status_code == 204
        finally:
            await as_member.aclose()
            await as_owner.aclose()
