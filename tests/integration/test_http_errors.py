"""Whatever a client sends over HTTP, a failure is a 4xx with a code, never a 500 and never a
traceback in the log; and the server goes on serving."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.logs import problems, server_log
from tests.support.server import RunningServer

NOT_JSON = 400  # the body cannot be parsed at all
NOT_VALID = 422  # JSON, but not what the endpoint takes
TOO_LARGE = 413

BODIES: dict[str, tuple[bytes, int]] = {
    "nested far too deeply": (b"[" * 100_000, TOO_LARGE),  # over every body limit
    "nested too deeply": (b"[" * 5000, NOT_JSON),
    "nested objects": (b'{"a":' * 1500, NOT_JSON),
    "not UTF-8": (b'{"name": "Rat \xff\xfe"}', NOT_JSON),
    "Latin-1": ('{"name": "Ratsstube Mäuse"}'.encode("latin-1"), NOT_JSON),
    "a huge integer": (b'{"name": ' + b"9" * 5000 + b"}", NOT_JSON),
    "broken JSON": (b'{"name": ', NOT_JSON),
    "an infinite number": (b'{"name": 1e999999, "username": 1e999999}', NOT_VALID),
    "NaN": (b'{"name": NaN, "username": NaN, "password": NaN}', NOT_VALID),
    "a lone surrogate": (b'{"name": "\\ud800", "username": "\\ud800", "password": "x"}', NOT_VALID),
    "empty": (b"", NOT_VALID),
    "a list": (b"[]", NOT_VALID),
}


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/rooms", "/api/session"])
@pytest.mark.parametrize("what", list(BODIES))
async def test_a_bad_body_is_a_4xx_with_a_code(
    http: httpx.AsyncClient, path: str, what: str
) -> None:
    body, status = BODIES[what]
    with server_log() as log:
        response = await http.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text
    answer = response.json()
    code = "too_large" if status == TOO_LARGE else "bad_message"
    assert answer["code"] == code and answer["message"], answer
    assert problems(log) == []
    assert (await http.get("/api/health")).status_code == 200


async def test_validation_errors_keep_fastapis_detail_without_the_input(
    http: httpx.AsyncClient,
) -> None:
    secret = "my secret password, far too long " * 40
    response = await http.post("/api/session", json={"username": "anna", "password": secret})
    assert response.status_code == 422
    answer = response.json()
    assert answer["code"] == "bad_message"
    assert answer["message"] == "password: String should have at most 1024 characters"
    (problem,) = answer["detail"]
    assert problem == {
        "type": "string_too_long",
        "loc": ["body", "password"],
        "msg": "String should have at most 1024 characters",
    }
    assert "my secret password" not in response.text  # the input is not echoed


async def test_other_http_errors_have_a_code(http: httpx.AsyncClient) -> None:
    missing = await http.get("/api/no-such-thing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = await http.put("/api/health")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["allow"]
