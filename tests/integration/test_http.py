"""The HTTP side: rooms API, pages, headers, against the running server."""

from collections.abc import AsyncIterator

import httpx
import pytest

from rathaus.errors import ErrorCode
from tests.support.http import assert_refused
from tests.support.server import RunningServer


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http) as client:
        yield client


async def test_create_and_read_a_room(http: httpx.AsyncClient) -> None:
    created = await http.post("/api/rooms", json={"name": "Bezirksausschuss Süd"})
    assert created.status_code == 201
    assert created.json() == {
        "slug": "bezirksausschuss-sued",
        "name": "Bezirksausschuss Süd",
        "url": "/r/bezirksausschuss-sued",
        "has_password": False,
    }
    again = await http.post("/api/rooms", json={"name": "Bezirksausschuss Süd"})
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    read = await http.get("/api/rooms/bezirksausschuss-sued")
    assert read.json()["name"] == "Bezirksausschuss Süd"


INVALID_SLUG = {"name": "ok", "slug": "Not Valid"}


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 201}, INVALID_SLUG, []])
async def test_bad_room_requests_get_a_clear_error(http: httpx.AsyncClient, body: object) -> None:
    response = await http.post("/api/rooms", json=body)
    # 422: not what the endpoint takes (FastAPI's validation); 400: refused by the rules
    assert_refused(response, 400 if body == INVALID_SLUG else 422, ErrorCode.BAD_MESSAGE)


async def test_unknown_room_api_is_404_with_a_code(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/rooms/INVALID")
    assert response.status_code == 404 and response.json()["code"] == "unknown_room"


async def test_room_page_and_security_headers(http: httpx.AsyncClient) -> None:
    page = await http.get("/r/some-team")  # ad-hoc rooms are on in the embedded default
    assert page.status_code == 200 and "<html" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"


async def test_an_invalid_room_link_gets_a_clear_page(http: httpx.AsyncClient) -> None:
    page = await http.get("/r/NOT_a_room", headers={"accept-language": "en"})
    assert page.status_code == 404
    assert "Room not found" in page.text and "Traceback" not in page.text
    german = await http.get("/r/NOT_a_room")
    assert "Raum nicht gefunden" in german.text and 'lang="de"' in german.text


async def test_start_page_redirects_to_the_room(http: httpx.AsyncClient) -> None:
    start = await http.get("/?lang=en")
    assert "Join a meeting" in start.text
    redirect = await http.get("/join", params={"room": "Haupt Ausschuss"})
    assert redirect.status_code == 303 and redirect.headers["location"] == "/r/haupt-ausschuss"


async def test_openapi_document_is_served_and_no_cdn_docs(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    assert "/api/rooms" in spec["paths"]
    assert (await http.get("/docs")).status_code == 404
