"""The error taxonomy.

Client-visible errors carry a stable ``code``. ``http_status`` and ``ws_close_code`` are the one
place that maps errors to HTTP statuses and WebSocket close codes.
"""

from __future__ import annotations


class RathausError(Exception):
    """Base of every error Rathaus raises on purpose."""


class ClientError(RathausError):
    """A request that cannot be served; the client is told ``code`` and ``message``."""

    code = "bad_request"
    status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadMessage(ClientError):
    code = "bad_message"


class Unprocessable(BadMessage):
    """Well-formed JSON that is not what the endpoint takes (FastAPI's validation)."""

    status = 422


class TooLarge(ClientError):
    code = "too_large"
    status = 413


class RateLimited(ClientError):
    code = "rate_limited"
    status = 429


class NotFound(ClientError):
    code = "not_found"
    status = 404


class UnknownRoom(NotFound):
    code = "unknown_room"


class Conflict(ClientError):
    code = "conflict"
    status = 409


class InvalidState(ClientError):
    """A message that is not allowed in the current protocol state (``not_joined``, …)."""

    code = "invalid_state"
    status = 409


class MediaUnavailable(ClientError):
    """The media service (Janus) cannot be reached."""

    code = "media_unavailable"
    status = 503


class MediaFailed(ClientError):
    """Janus refused a media request."""

    code = "media_failed"
    status = 502


class AuthenticationFailed(ClientError):
    """A sign-in was refused; the message never says whether the user exists."""

    code = "authentication_failed"
    status = 401


class IdentityUnavailable(RathausError):
    """The identity provider or directory cannot be reached."""


class ConfigError(RathausError):
    """The configuration is invalid; raised at start-up with a plain-words message."""


# --- Janus (remote protocol) errors --------------------------------------------------------------


class JanusError(RathausError):
    """Janus answered a request with an error."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusProtocolError(RathausError):
    """Janus sent something that does not follow its API."""


class JanusUnavailable(RathausError):
    """The connection to Janus is down, or went down while a request was pending."""


class JanusTimeout(JanusUnavailable):
    """Janus did not answer a request in time. Says nothing about the node's health (that is
    its connection and its keepalives): callers treat it as a failure of this request only."""


# Whatever a request to Janus may fail with.
JANUS_FAILURES = (JanusUnavailable, JanusError, JanusProtocolError)


# --- the one mapping -----------------------------------------------------------------------------

WS_CLOSE_NORMAL = 1000
WS_CLOSE_PROTOCOL = 4400
WS_CLOSE_UNKNOWN_ROOM = 4404
WS_CLOSE_TIMEOUT = 4408
WS_CLOSE_RATE_LIMIT = 4429
WS_CLOSE_SHUTDOWN = 4503


def http_status(error: Exception) -> int:
    if isinstance(error, ClientError):
        return error.status
    if isinstance(error, JanusUnavailable | IdentityUnavailable):
        return 503
    return 500


def ws_close_code(error: Exception) -> int:
    if isinstance(error, UnknownRoom):
        return WS_CLOSE_UNKNOWN_ROOM
    if isinstance(error, RateLimited):
        return WS_CLOSE_RATE_LIMIT
    if isinstance(error, ClientError):
        return WS_CLOSE_PROTOCOL
    return 1011


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.code
    if isinstance(error, JanusUnavailable):
        return MediaUnavailable.code
    if isinstance(error, IdentityUnavailable):
        return "identity_unavailable"
    return "internal"
