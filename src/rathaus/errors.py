"""The error taxonomy.

Client-visible errors carry a stable ``code``. ``http_status`` and ``ws_close_code`` are the one
place that maps errors to HTTP statuses and WebSocket close codes.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Every code a client may be told, over HTTP (``{"code", "message"}``) or the WebSocket
    (``error``). docs/protocol.md, the browser's ERROR_CODES and the ``error.<code>`` texts of
    both i18n catalogs are checked against this list by a test."""

    # any request
    BAD_REQUEST = "bad_request"
    BAD_MESSAGE = "bad_message"
    TOO_LARGE = "too_large"
    RATE_LIMITED = "rate_limited"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    INVALID_STATE = "invalid_state"
    INTERNAL = "internal"
    # accounts and sign-in (HTTP)
    NOT_SIGNED_IN = "not_signed_in"
    CSRF = "csrf"
    AUTHENTICATION_FAILED = "authentication_failed"
    IDENTITY_UNAVAILABLE = "identity_unavailable"
    # the signaling protocol
    NOT_JOINED = "not_joined"
    ALREADY_JOINED = "already_joined"
    INVALID_NAME = "invalid_name"
    UNKNOWN_ROOM = "unknown_room"
    UNKNOWN_FEED = "unknown_feed"
    MEDIA_UNAVAILABLE = "media_unavailable"
    MEDIA_FAILED = "media_failed"
    RESUME_FAILED = "resume_failed"
    # the door, the lobby and moderation
    MEETING_FULL = "meeting_full"
    LOBBY_FULL = "lobby_full"
    BARRED = "barred"
    GUESTS_NOT_ALLOWED = "guests_not_allowed"
    GUEST_LINK_EXPIRED = "guest_link_expired"
    GUEST_LINK_REVOKED = "guest_link_revoked"
    MEMBERS_ONLY = "members_only"  # a direct conversation's meeting: its two members only
    MEETING_LOCKED = "meeting_locked"
    PASSWORD_REQUIRED = "password_required"
    WRONG_PASSWORD = "wrong_password"
    LOCKED = "locked"  # too many wrong passwords (room or sign-in): wait a few minutes
    NOT_ADMITTED = "not_admitted"
    FORBIDDEN = "forbidden"
    UNKNOWN_PARTICIPANT = "unknown_participant"
    # end-to-end encryption
    E2EE_REQUIRED = "e2ee_required"
    # rooms
    DIRECT_ROOM = "direct_room"  # a direct conversation keeps its two members
    # chat
    EPOCH_CONFLICT = "epoch_conflict"  # another commit won that epoch: catch up, try again
    UNKNOWN_DEVICE = "unknown_device"
    LIMIT_REACHED = "limit_reached"  # e.g. the reactions one message may have
    SWITCHED_OFF = "switched_off"  # a feature this server's operator has not switched on


class RathausError(Exception):
    """Base of every error Rathaus raises on purpose."""


class ClientError(RathausError):
    """A request that cannot be served; the client is told ``code`` and ``message``."""

    code: ErrorCode = ErrorCode.BAD_REQUEST
    status = 400

    def __init__(self, message: str, *, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class BadMessage(ClientError):
    code = ErrorCode.BAD_MESSAGE


class Unprocessable(BadMessage):
    """Well-formed JSON that is not what the endpoint takes (FastAPI's validation)."""

    status = 422


class TooLarge(ClientError):
    code = ErrorCode.TOO_LARGE
    status = 413


class RateLimited(ClientError):
    code = ErrorCode.RATE_LIMITED
    status = 429


class NotFound(ClientError):
    code = ErrorCode.NOT_FOUND
    status = 404


class UnknownRoom(NotFound):
    code = ErrorCode.UNKNOWN_ROOM


class Conflict(ClientError):
    code = ErrorCode.CONFLICT
    status = 409


class InvalidState(ClientError):
    """A message that is not allowed in the current protocol state (``not_joined``, …)."""

    code = ErrorCode.INVALID_STATE
    status = 409


class MediaUnavailable(ClientError):
    """The media service (Janus) cannot be reached."""

    code = ErrorCode.MEDIA_UNAVAILABLE
    status = 503


class MediaFailed(ClientError):
    """Janus refused a media request."""

    code = ErrorCode.MEDIA_FAILED
    status = 502


class AuthenticationFailed(ClientError):
    """A sign-in was refused; the message never says whether the user exists."""

    code = ErrorCode.AUTHENTICATION_FAILED
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


class BusUnavailable(RathausError):
    """The event bus (Redis pub/sub) cannot be reached, or was closed: an event could not be
    published, or a subscription not confirmed. Other processes may miss that event."""


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
    if isinstance(error, JanusUnavailable | IdentityUnavailable | BusUnavailable):
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


def error_code(error: Exception) -> ErrorCode:
    if isinstance(error, ClientError):
        return error.code
    if isinstance(error, JanusUnavailable):
        return MediaUnavailable.code
    if isinstance(error, IdentityUnavailable):
        return ErrorCode.IDENTITY_UNAVAILABLE
    return ErrorCode.INTERNAL
