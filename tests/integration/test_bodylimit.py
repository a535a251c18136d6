"""Bounded request bodies, over real HTTP: too large is ``413 too_large``, refused before the
body is read when Content-Length says so, and as soon as a chunked body passes the limit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from rathaus.bodylimit import ENDPOINT_LIMITS
from tests.support.logs import problems, server_log
from tests.support.server import RunningServer, running_server, server_settings, shared_janus

LIMIT = 64 * 1024  # server.max_body_bytes by default


async def raw_request(server: RunningServer, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is; the status, headers and body of the answer (read to EOF)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # the server closes the connection
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def head(method: str, path: str, *fields: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    return ("\r\n".join([*lines, *fields]) + "\r\n\r\n").encode()


def chunked(body: bytes, size: int = 8192) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def room_body(length: int) -> bytes:
    """A JSON body of exactly ``length`` bytes (a room name far too long to be valid)."""
    prefix, suffix = b'{"name": "', b'"}'
    return prefix + b"x" * (length - len(prefix) - len(suffix)) + suffix


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.http) as client:
        yield client


async def test_a_too_large_content_length_is_refused_without_reading(
    server: RunningServer,
) -> None:
    with server_log() as log:
        # Only the head is sent: a server that waited for the 10 MB would never answer.
        status, headers, body = await raw_request(
            server, head("POST", "/api/rooms", "Content-Length: 10000000")
        )
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["code"] == "too_large"
    assert problems(log) == []


async def test_a_chunked_body_is_refused_once_past_the_limit(server: RunningServer) -> None:
    request = head("POST", "/api/rooms", "Transfer-Encoding: chunked") + chunked(
        room_body(LIMIT + 1)
    )
    with server_log() as log:
        status, _, body = await raw_request(server, request)
    assert status == 413 and json.loads(body)["code"] == "too_large"
    assert problems(log) == []


async def test_a_body_of_the_limit_is_read(server: RunningServer, tmp_path: Path) -> None:
    # A Rathaus of its own: without accounts, anyone may create a room.
    settings = server_settings(tmp_path, janus=shared_janus(server))
    async with (
        running_server(settings) as rathaus,
        httpx.AsyncClient(base_url=rathaus.http) as http,
    ):
        at_limit = await http.post(
            "/api/rooms", content=room_body(LIMIT), headers={"content-type": "application/json"}
        )
        assert at_limit.status_code == 422 and at_limit.json()["code"] == "bad_message"  # long

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            yield b'{"name": '
            yield b'"Chunked Rat"}'

        created = await http.post(
            "/api/rooms", content=chunks(), headers={"content-type": "application/json"}
        )
        assert created.status_code == 201 and created.json()["slug"] == "chunked-rat"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/session"), ("PATCH", "/api/rooms/some-room")],
    ids=["sign-in", "room settings"],
)
async def test_small_endpoints_have_smaller_limits(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    template = "/api/rooms/{slug}" if path.startswith("/api/rooms/") else path
    limit = ENDPOINT_LIMITS[(method, template)]
    assert limit < LIMIT
    body = json.dumps({"username": "x", "password": "p" * limit}).encode()
    refused = await http.request(
        method, path, content=body, headers={"content-type": "application/json"}
    )
    assert refused.status_code == 413 and refused.json()["code"] == "too_large"
    assert (await http.get("/api/health")).status_code == 200
