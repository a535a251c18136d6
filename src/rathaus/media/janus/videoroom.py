"""Typed helpers for the Janus 1.1 VideoRoom plugin (multistream API).

Each helper names the VideoRoom request it sends. Publishers and subscribers need separate handles
(and PeerConnections): a publisher handle joins with ``ptype: publisher`` and publishes with an SDP
offer; a subscriber handle joins with ``ptype: subscriber``, receives an SDP offer from Janus and
answers it with ``start``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rathaus.errors import JanusError, JanusProtocolError

from .core import JsonDict
from .session import JanusHandle

PLUGIN = "janus.plugin.videoroom"

# VideoRoom error codes (janus_videoroom.c, JANUS_VIDEOROOM_ERROR_*).
ERROR_NO_SUCH_ROOM = 426
ERROR_ROOM_EXISTS = 427
ERROR_NO_SUCH_FEED = 428
ERROR_UNAUTHORIZED = 433
ERROR_ALREADY_PUBLISHED = 434


@dataclass(frozen=True)
class Publisher:
    """An active publisher as listed in ``joined`` / ``publishers`` events."""

    id: int
    display: str | None
    streams: tuple[JsonDict, ...]

    @classmethod
    def from_data(cls, data: JsonDict) -> Publisher:
        pid = data.get("id")
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise JanusProtocolError("publisher id must be an integer")
        display = data.get("display")
        streams = data.get("streams") or []
        return cls(pid, display if isinstance(display, str) else None, tuple(streams))


def _expect(data: JsonDict, videoroom: str) -> JsonDict:
    if data.get("videoroom") != videoroom:
        raise JanusProtocolError(f"expected videoroom {videoroom!r}, got {data.get('videoroom')!r}")
    return data


def _answer(jsep: JsonDict | None, kind: str) -> JsonDict:
    if jsep is None or jsep.get("type") != kind:
        raise JanusProtocolError(f"Janus sent no SDP {kind}")
    return jsep


async def create_room(
    handle: JanusHandle,
    room_id: int,
    *,
    description: str = "",
    publishers: int = 100,
    audiolevel_event: bool = True,
    audio_active_packets: int = 50,
    audio_level_average: int = 40,
    videocodec: str = "vp8",
    audiocodec: str = "opus",
    notify_joining: bool = False,
    secret: str | None = None,
    exists_ok: bool = False,
    extra: JsonDict | None = None,
) -> bool:
    """``{"request": "create", "room": ...}`` (synchronous, not permanent). Returns False when the
    room already existed and ``exists_ok`` (error 427 is swallowed)."""
    body: JsonDict = {
        "request": "create",
        "room": room_id,
        "description": description,
        "publishers": publishers,
        "audiolevel_event": audiolevel_event,
        "audio_active_packets": audio_active_packets,
        "audio_level_average": audio_level_average,
        "videocodec": videocodec,
        "audiocodec": audiocodec,
        "notify_joining": notify_joining,
        "permanent": False,
    }
    if secret is not None:
        body["secret"] = secret
    if extra:
        body.update(extra)
    try:
        _expect(await handle.request(body), "created")
    except JanusError as exc:
        if exists_ok and exc.code == ERROR_ROOM_EXISTS:
            return False
        raise
    return True


async def destroy_room(
    handle: JanusHandle, room_id: int, *, secret: str | None = None, missing_ok: bool = True
) -> None:
    """``{"request": "destroy", "room": ...}`` (synchronous). Error 426 is swallowed when
    ``missing_ok``."""
    body: JsonDict = {"request": "destroy", "room": room_id, "permanent": False}
    if secret is not None:
        body["secret"] = secret
    try:
        _expect(await handle.request(body), "destroyed")
    except JanusError as exc:
        if not (missing_ok and exc.code == ERROR_NO_SUCH_ROOM):
            raise


async def room_exists(handle: JanusHandle, room_id: int) -> bool:
    """``{"request": "exists", "room": ...}`` (synchronous)."""
    data = await handle.request({"request": "exists", "room": room_id})
    return bool(data.get("exists"))


async def list_participants(handle: JanusHandle, room_id: int) -> list[JsonDict]:
    """``{"request": "listparticipants", "room": ...}`` (synchronous): ``participants``."""
    data = _expect(
        await handle.request({"request": "listparticipants", "room": room_id}), "participants"
    )
    return list(data.get("participants") or [])


async def join_publisher(
    handle: JanusHandle, room_id: int, display: str | None = None, **extra: Any
) -> tuple[int, list[Publisher]]:
    """``{"request": "join", "ptype": "publisher", "room", "display"}`` (asynchronous): the
    ``joined`` event. Returns (our publisher id, the active publishers already in the room)."""
    body: JsonDict = {"request": "join", "ptype": "publisher", "room": room_id, **extra}
    if display is not None:
        body["display"] = display
    data, _ = await handle.message(body)
    _expect(data, "joined")
    pid = data.get("id")
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise JanusProtocolError("joined without an id")
    return pid, [Publisher.from_data(p) for p in data.get("publishers") or []]


def sdp_mids(sdp: str) -> list[tuple[str, str]]:
    """``(kind, mid)`` of each m-line of an SDP (``kind`` is ``audio``, ``video``, ...)."""
    result: list[tuple[str, str]] = []
    kind: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind is not None:
            result.append((kind, line[6:].strip()))
            kind = None
    return result


async def configure_publisher(
    handle: JanusHandle,
    jsep_offer: JsonDict,
    *,
    audio: bool = True,
    video: bool = True,
    first: bool = True,
    **extra: Any,
) -> JsonDict:
    """Publish (``first``) or renegotiate with an SDP offer; returns Janus's SDP answer.

    First time: ``{"request": "publish"}`` + offer; later (ICE restart, new track):
    ``{"request": "configure"}`` + offer, as ``publish`` fails (434) once publishing.
    Janus 1.1 answers ``{"videoroom": "event", "configured": "ok"}`` + answer either way.
    ``audio``/``video`` False keep the m-lines but tell Janus not to relay that kind:
    ``{"request": "configure", "streams": [{"mid": ..., "send": false}]}`` (the offer decides the
    m-lines; the old ``audio``/``video`` booleans are gone in 1.1). ``extra`` goes into the body
    (``descriptions``, ``bitrate``, ``display``, ...).
    """
    body: JsonDict = {"request": "publish" if first else "configure", **extra}
    data, jsep = await handle.message(body, jsep_offer)
    if data.get("configured") != "ok":
        raise JanusProtocolError("publish was not configured")
    answer = _answer(jsep, "answer")
    if not (audio and video):
        await set_publisher_send(handle, jsep_offer, audio=audio, video=video)
    return answer


async def set_publisher_send(
    handle: JanusHandle, jsep_offer: JsonDict, *, audio: bool, video: bool
) -> None:
    """``{"request": "configure", "streams": [{"mid": ..., "send": bool}]}`` for every audio and
    video m-line of the publisher's offer: whether Janus relays it (no renegotiation)."""
    wanted = {"audio": audio, "video": video}
    streams = [
        {"mid": mid, "send": wanted[kind]}
        for kind, mid in sdp_mids(str(jsep_offer.get("sdp", "")))
        if kind in wanted
    ]
    if streams:
        await handle.message({"request": "configure", "streams": streams})


async def ice_restart_publisher(handle: JanusHandle, jsep_offer: JsonDict) -> JsonDict:
    """ICE restart of a publisher: ``{"request": "configure"}`` with a new offer made with
    ``iceRestart`` (Janus sees the changed ufrag/pwd); returns the answer."""
    return await configure_publisher(handle, jsep_offer, first=False)


async def unpublish(handle: JanusHandle) -> None:
    """``{"request": "unpublish"}`` (asynchronous)."""
    await handle.message({"request": "unpublish"})


async def leave(handle: JanusHandle) -> None:
    """``{"request": "leave"}`` (asynchronous), for publishers and subscribers."""
    await handle.message({"request": "leave"})


async def moderate(
    handle: JanusHandle, room_id: int, feed_id: int, mid: str, *, mute: bool
) -> None:
    """Block (``mute``) or unblock one m-line of a publisher: ``{"request": "moderate"}``.
    Unblocking never unmutes a publisher who muted themselves (Janus's semantics)."""
    data = await handle.request(
        {"request": "moderate", "room": room_id, "id": feed_id, "mid": mid, "mute": mute}
    )
    _expect(data, "success")


async def join_subscriber(
    handle: JanusHandle,
    room_id: int,
    feed_id: int,
    *,
    mids: list[str] | None = None,
    private_id: int | None = None,
) -> tuple[JsonDict, list[JsonDict]]:
    """``{"request": "join", "ptype": "subscriber", "room", "streams": [{"feed": ...}]}``
    (asynchronous, multistream). Returns (Janus's SDP offer, the ``attached`` streams)."""
    streams: list[JsonDict] = (
        [{"feed": feed_id, "mid": mid} for mid in mids] if mids else [{"feed": feed_id}]
    )
    body: JsonDict = {"request": "join", "ptype": "subscriber", "room": room_id, "streams": streams}
    if private_id is not None:
        body["private_id"] = private_id
    data, jsep = await handle.message(body)
    _expect(data, "attached")
    return _answer(jsep, "offer"), list(data.get("streams") or [])


async def start_subscriber(handle: JanusHandle, jsep_answer: JsonDict) -> None:
    """``{"request": "start"}`` with the subscriber's SDP answer (``started: "ok"``)."""
    data, _ = await handle.message({"request": "start"}, jsep_answer)
    if data.get("started") != "ok":
        raise JanusProtocolError("subscription was not started")


async def set_substream(
    handle: JanusHandle, substream: int, *, mid: str, temporal: int | None = None
) -> None:
    """Simulcast layer choice: ``{"request": "configure", "streams": [{"mid": <subscriber mid>,
    "substream": 0-2}]}`` (Janus 1.1 wants the subscription mid with a substream)."""
    stream: JsonDict = {"mid": mid, "substream": substream}
    if temporal is not None:
        stream["temporal"] = temporal
    await handle.message({"request": "configure", "streams": [stream]})


async def set_subscriber_send(handle: JanusHandle, send: bool, *, mid: str) -> None:
    """Relay one stream of a subscription or not: ``{"request": "configure", "streams":
    [{"mid": <subscriber mid>, "send": false}]}``."""
    await handle.message({"request": "configure", "streams": [{"mid": mid, "send": send}]})


async def restart_subscriber(handle: JanusHandle) -> JsonDict:
    """Subscriber ICE restart: ``{"request": "configure", "restart": true}``; returns Janus's new
    SDP offer, to be answered with :func:`start_subscriber`."""
    _, jsep = await handle.message({"request": "configure", "restart": True})
    return _answer(jsep, "offer")
