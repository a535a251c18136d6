"""Bounded HTTP request bodies (a pure ASGI middleware).

A body over its limit is answered ``413`` with ``{"code": "too_large", …}``: at once when its
Content-Length says so (nothing of the body is read, and the connection is closed), else as soon as
the bytes read exceed the limit (a chunked body). The limit is ``server.max_body_bytes``, or the
smaller one ``ENDPOINT_LIMITS`` gives an endpoint, or the larger one of an endpoint that streams
its body elsewhere (``streamed``: an attachment's upload to the blob store). WebSocket
connections pass untouched: the signaling socket has a frame limit of its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rathaus import errors

KIB = 1024

# The one table of endpoints whose bodies are far smaller than the general limit.
ENDPOINT_LIMITS: dict[tuple[str, str], int] = {
    # a user name (256) and a password (1024 code points), even if all of them take 4 bytes
    ("POST", "/api/session"): 8 * KIB,
    # room settings: a name of at most 200 and a room password of at most 256 code points, even
    # if each is sent escaped (\uXXXX\uXXXX: 12 bytes for one outside the BMP)
    ("PATCH", "/api/rooms/{slug}"): 8 * KIB,
}


class _BodyTooLarge(Exception):
    """Raised to the app from ``receive``; whatever it makes of it, the answer is a 413."""


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        endpoints: Mapping[tuple[str, str], int] = ENDPOINT_LIMITS,
        streamed: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self._endpoints = [
            (method, compile_path(path)[0], min(limit, max_bytes))
            for (method, path), limit in endpoints.items()
        ] + [  # never read into memory whole: their own limit, larger or not
            (method, compile_path(path)[0], limit)
            for (method, path), limit in (streamed or {}).items()
        ]

    def limit(self, method: str, path: str) -> int:
        for endpoint_method, pattern, limit in self._endpoints:
            if endpoint_method == method and pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope["method"], scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(limit, scope, receive, send)
            return
        await _BoundedRequest(self.app, limit)(scope, receive, send)


class _BoundedRequest:
    """One request whose body is counted as the app reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.exceeded = False
        self.started = False  # the app began its answer before the body was too large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def bounded_receive() -> Message:
            if self.exceeded:
                raise _BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.limit:
                    self.exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if self.exceeded and not self.started:
                return  # the app's answer to a body it could not read: ours replaces it
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except _BodyTooLarge:
            if self.started:
                raise
        except BaseExceptionGroup as group:
            # The same, wrapped by a task group the body was read in (an endpoint that streams
            # it, through Starlette's BaseHTTPMiddleware).
            too_large, rest = group.split(_BodyTooLarge)
            if self.started or too_large is None or rest is not None:
                raise
        if self.exceeded and not self.started:
            await _refuse(self.limit, scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # the HTTP parser refuses such a request before it gets here


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    error = errors.TooLarge(f"the request body is larger than {limit} bytes")
    response = JSONResponse(
        {"code": error.code, "message": error.message},
        status_code=errors.http_status(error),
        headers={"connection": "close"},  # the rest of the body is not read
    )
    await response(scope, receive, send)
