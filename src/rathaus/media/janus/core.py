"""Sans-IO core of the Janus WebSocket API (subprotocol ``janus-protocol``).

Turns requests into text frames and text frames into typed, frozen events; never does I/O and
never imports asyncio (h11 style). The asyncio adapter lives in :mod:`.client`.

Message shapes follow the Janus 1.1 documentation (``rest.html``, "The Janus API"):

* replies carry the request's ``transaction``: ``ack``, ``success``, ``error``, ``server_info``,
  and ``event`` for asynchronous plugin replies;
* asynchronous notifications carry ``session_id`` and ``sender`` (the handle id): ``event``,
  ``webrtcup``, ``media``, ``slowlink``, ``hangup``, ``detached``, ``trickle``, and ``timeout``
  for a session.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from rathaus.errors import JanusError, JanusProtocolError

JsonDict = dict[str, Any]

SUBPROTOCOL = "janus-protocol"
ERROR_INVALID_JSON = 454  # JANUS_ERROR_INVALID_JSON
# A \u0000 escape that is not itself an escaped backslash followed by "u0000".
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")

__all__ = [
    "SUBPROTOCOL",
    "Ack",
    "Detached",
    "ErrorReply",
    "Event",
    "HandleEvent",
    "HangUp",
    "JanusProtocol",
    "Media",
    "PluginEvent",
    "ServerInfo",
    "SessionTimeout",
    "SlowLink",
    "Success",
    "Trickle",
    "Unknown",
    "WebrtcUp",
]


# --- events ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """``{"janus": "ack"}``: the request was received; a plugin may answer later with an event."""

    transaction: str


@dataclass(frozen=True)
class Success:
    """``{"janus": "success"}``: ``data`` for core requests (``create``, ``attach``), or
    ``plugindata`` (``{"plugin": ..., "data": {...}}``) for a synchronous plugin reply."""

    transaction: str
    session_id: int | None
    handle_id: int | None
    data: JsonDict | None
    plugindata: JsonDict | None
    jsep: JsonDict | None

    @property
    def plugin_data(self) -> JsonDict | None:
        """``plugindata["data"]``, if any."""
        return None if self.plugindata is None else self.plugindata["data"]

    @property
    def plugin_error(self) -> tuple[int, str] | None:
        """``(error_code, error)`` when the plugin refused the request."""
        return _plugin_error(self.plugin_data)


@dataclass(frozen=True)
class ErrorReply:
    """``{"janus": "error", "error": {"code": ..., "reason": ...}}``: the core refused a request."""

    transaction: str | None
    code: int
    reason: str


@dataclass(frozen=True)
class ServerInfo:
    """``{"janus": "server_info", ...}``: the answer to ``info``; ``info`` is the whole message."""

    transaction: str
    info: JsonDict


@dataclass(frozen=True)
class PluginEvent:
    """``{"janus": "event", "plugindata": ...}``: an asynchronous plugin reply (``transaction`` set)
    or notification (``transaction`` None). ``error_code``/``error`` are set when the plugin
    reports an error inside ``plugindata.data``."""

    transaction: str | None
    session_id: int
    handle_id: int
    plugin: str
    data: JsonDict
    jsep: JsonDict | None
    error_code: int | None = field(default=None)
    error: str | None = field(default=None)


@dataclass(frozen=True)
class WebrtcUp:
    """ICE and DTLS succeeded on the handle's PeerConnection."""

    session_id: int
    handle_id: int


@dataclass(frozen=True)
class Media:
    """Janus started or stopped receiving ``type`` (``audio``/``video``) on ``mid``."""

    session_id: int
    handle_id: int
    type: str
    receiving: bool
    mid: str | None


@dataclass(frozen=True)
class SlowLink:
    """Janus sees many NACKs; ``uplink`` is from Janus's point of view."""

    session_id: int
    handle_id: int
    uplink: bool
    media: str | None
    mid: str | None
    lost: int | None


@dataclass(frozen=True)
class HangUp:
    """The handle's PeerConnection is gone."""

    session_id: int
    handle_id: int
    reason: str | None


@dataclass(frozen=True)
class Detached:
    """The handle was detached (by request or because its session went away)."""

    session_id: int
    handle_id: int


@dataclass(frozen=True)
class SessionTimeout:
    """``{"janus": "timeout"}``: Janus destroyed the session for lack of keepalives."""

    session_id: int


@dataclass(frozen=True)
class Trickle:
    """A trickled candidate from Janus; ``candidate`` is None when ``completed``."""

    session_id: int
    handle_id: int
    candidate: JsonDict | None
    completed: bool


@dataclass(frozen=True)
class Unknown:
    """A well-formed message of a kind this core does not know; kept, never fatal."""

    janus: str
    transaction: str | None
    session_id: int | None
    handle_id: int | None
    message: JsonDict


Event = (
    Ack
    | Success
    | ErrorReply
    | ServerInfo
    | PluginEvent
    | WebrtcUp
    | Media
    | SlowLink
    | HangUp
    | Detached
    | SessionTimeout
    | Trickle
    | Unknown
)

#: The events the adapter hands to a handle's ``on_event`` callback.
HandleEvent = PluginEvent | WebrtcUp | Media | SlowLink | HangUp | Detached | Trickle | Unknown


# --- field helpers --------------------------------------------------------------------------------


def _opt_str(msg: JsonDict, key: str) -> str | None:
    value = msg.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JanusProtocolError(f"{key!r} must be a string")
    return value


def _opt_int(msg: JsonDict, key: str) -> int | None:
    value = msg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise JanusProtocolError(f"{key!r} must be an integer")
    return value


def _opt_bool(msg: JsonDict, key: str) -> bool | None:
    value = msg.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise JanusProtocolError(f"{key!r} must be a boolean")
    return value


def _opt_dict(msg: JsonDict, key: str) -> JsonDict | None:
    value = msg.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise JanusProtocolError(f"{key!r} must be an object")
    return value


def _req(value: Any, key: str) -> Any:
    if value is None:
        raise JanusProtocolError(f"missing {key!r}")
    return value


def _plugin_error(data: JsonDict | None) -> tuple[int, str] | None:
    if data is None or "error_code" not in data:
        return None
    code = data["error_code"]
    if isinstance(code, bool) or not isinstance(code, int):
        raise JanusProtocolError("'error_code' must be an integer")
    reason = data.get("error", "")
    return code, reason if isinstance(reason, str) else str(reason)


def _plugindata(msg: JsonDict) -> JsonDict | None:
    pd = _opt_dict(msg, "plugindata")
    if pd is None:
        return None
    if not isinstance(pd.get("plugin"), str):
        raise JanusProtocolError("'plugindata.plugin' must be a string")
    if not isinstance(pd.get("data"), dict):
        raise JanusProtocolError("'plugindata.data' must be an object")
    _plugin_error(pd["data"])  # validates error_code
    return pd


# --- the protocol object --------------------------------------------------------------------------


class JanusProtocol:
    """Builds requests and parses replies for one connection to Janus.

    >>> proto = JanusProtocol("s3cret")
    >>> tid, text = proto.request("create")
    >>> events = proto.receive_data('{"janus": "success", "transaction": "%s", "data": {"id": 1}}'
    ...                             % tid)
    """

    def __init__(self, api_secret: str | None) -> None:
        self._api_secret = api_secret
        self._prefix = secrets.token_hex(4)
        self._counter = itertools.count(1)

    def next_transaction(self) -> str:
        return f"{self._prefix}-{next(self._counter)}"

    def request(
        self,
        janus: str,
        *,
        session_id: int | None = None,
        handle_id: int | None = None,
        body: JsonDict | None = None,
        jsep: JsonDict | None = None,
        plugin: str | None = None,
        candidate: JsonDict | None = None,
        candidates: list[JsonDict] | None = None,
    ) -> tuple[str, str]:
        """Return ``(transaction, text)`` for a Janus API request of kind ``janus``."""
        transaction = self.next_transaction()
        msg: JsonDict = {"janus": janus, "transaction": transaction}
        if self._api_secret is not None:
            msg["apisecret"] = self._api_secret
        if session_id is not None:
            msg["session_id"] = session_id
        if handle_id is not None:
            msg["handle_id"] = handle_id
        if plugin is not None:
            msg["plugin"] = plugin
        if body is not None:
            msg["body"] = body
        if jsep is not None:
            msg["jsep"] = jsep
        if candidate is not None:
            msg["candidate"] = candidate
        if candidates is not None:
            msg["candidates"] = candidates
        text = json.dumps(msg, separators=(",", ":"))
        if _ESCAPED_NUL.search(text):
            # Janus refuses such a frame without naming its transaction: the request would
            # only time out. Refuse it here, where the caller still knows which it was.
            raise JanusError(ERROR_INVALID_JSON, "a string in the request contains NUL")
        return transaction, text

    def receive_data(self, text: str | bytes) -> list[Event]:
        """Parse one incoming frame. Raises :class:`JanusProtocolError` when it breaks the API."""
        try:
            msg = json.loads(text)
        except (ValueError, TypeError, RecursionError) as exc:
            raise JanusProtocolError("frame is not valid JSON") from exc
        if not isinstance(msg, dict):
            raise JanusProtocolError("frame is not a JSON object")
        return [self._parse(msg)]

    # The parsers below raise JanusProtocolError on any field of the wrong type.

    def _parse(self, msg: JsonDict) -> Event:
        kind = msg.get("janus")
        if not isinstance(kind, str):
            raise JanusProtocolError("'janus' must be a string")
        transaction = _opt_str(msg, "transaction")
        session_id = _opt_int(msg, "session_id")
        sender = _opt_int(msg, "sender")
        parser = _PARSERS.get(kind)
        if parser is None:
            return Unknown(kind, transaction, session_id, sender, msg)
        return parser(msg, transaction, session_id, sender)


def _parse_ack(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return Ack(_req(tx, "transaction"))


def _parse_success(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return Success(
        transaction=_req(tx, "transaction"),
        session_id=sid,
        handle_id=hid,
        data=_opt_dict(msg, "data"),
        plugindata=_plugindata(msg),
        jsep=_opt_dict(msg, "jsep"),
    )


def _parse_error(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    err = _req(_opt_dict(msg, "error"), "error")
    code = _req(_opt_int(err, "code"), "error.code")
    reason = _opt_str(err, "reason") or ""
    return ErrorReply(tx, code, reason)


def _parse_server_info(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return ServerInfo(_req(tx, "transaction"), msg)


def _parse_event(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    pd = _req(_plugindata(msg), "plugindata")
    err = _plugin_error(pd["data"])
    return PluginEvent(
        transaction=tx,
        session_id=_req(sid, "session_id"),
        handle_id=_req(hid, "sender"),
        plugin=pd["plugin"],
        data=pd["data"],
        jsep=_opt_dict(msg, "jsep"),
        error_code=None if err is None else err[0],
        error=None if err is None else err[1],
    )


def _parse_webrtcup(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return WebrtcUp(_req(sid, "session_id"), _req(hid, "sender"))


def _parse_media(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return Media(
        session_id=_req(sid, "session_id"),
        handle_id=_req(hid, "sender"),
        type=_req(_opt_str(msg, "type"), "type"),
        receiving=_req(_opt_bool(msg, "receiving"), "receiving"),
        mid=_opt_str(msg, "mid"),
    )


def _parse_slowlink(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return SlowLink(
        session_id=_req(sid, "session_id"),
        handle_id=_req(hid, "sender"),
        uplink=bool(_opt_bool(msg, "uplink")),
        media=_opt_str(msg, "media"),
        mid=_opt_str(msg, "mid"),
        lost=_opt_int(msg, "lost"),
    )


def _parse_hangup(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return HangUp(_req(sid, "session_id"), _req(hid, "sender"), _opt_str(msg, "reason"))


def _parse_detached(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return Detached(_req(sid, "session_id"), _req(hid, "sender"))


def _parse_timeout(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    return SessionTimeout(_req(sid, "session_id"))


def _parse_trickle(msg: JsonDict, tx: str | None, sid: int | None, hid: int | None) -> Event:
    cand = _req(_opt_dict(msg, "candidate"), "candidate")
    completed = cand.get("completed") is True
    return Trickle(
        _req(sid, "session_id"), _req(hid, "sender"), None if completed else cand, completed
    )


_PARSERS = {
    "ack": _parse_ack,
    "success": _parse_success,
    "error": _parse_error,
    "server_info": _parse_server_info,
    "event": _parse_event,
    "webrtcup": _parse_webrtcup,
    "media": _parse_media,
    "slowlink": _parse_slowlink,
    "hangup": _parse_hangup,
    "detached": _parse_detached,
    "timeout": _parse_timeout,
    "trickle": _parse_trickle,
}
