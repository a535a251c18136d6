"""The sans-IO Janus API core, with message shapes as Janus 1.1.2 sends them."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rathaus.errors import JanusProtocolError
from rathaus.media.janus.core import (
    Ack,
    Detached,
    ErrorReply,
    HangUp,
    JanusProtocol,
    Media,
    PluginEvent,
    ServerInfo,
    SessionTimeout,
    SlowLink,
    Success,
    Trickle,
    Unknown,
    WebrtcUp,
)

SID = 4503084454432969
HID = 1743598468460176
VR = "janus.plugin.videoroom"


def one(proto: JanusProtocol, msg: object) -> object:
    events = proto.receive_data(json.dumps(msg))
    assert len(events) == 1
    return events[0]


@pytest.fixture
def proto() -> JanusProtocol:
    return JanusProtocol("s3cret")


def test_request_adds_secret_and_fields(proto: JanusProtocol) -> None:
    tx1, text = proto.request(
        "message",
        session_id=SID,
        handle_id=HID,
        body={"request": "publish"},
        jsep={"type": "offer", "sdp": "v=0"},
    )
    msg = json.loads(text)
    assert msg == {
        "janus": "message",
        "transaction": tx1,
        "apisecret": "s3cret",
        "session_id": SID,
        "handle_id": HID,
        "body": {"request": "publish"},
        "jsep": {"type": "offer", "sdp": "v=0"},
    }
    tx2, _ = proto.request("keepalive", session_id=SID)
    assert tx1 != tx2


def test_request_without_secret() -> None:
    _, text = JanusProtocol(None).request("attach", session_id=1, plugin=VR)
    msg = json.loads(text)
    assert "apisecret" not in msg
    assert msg["plugin"] == VR


def test_trickle_request(proto: JanusProtocol) -> None:
    _, text = proto.request("trickle", session_id=1, handle_id=2, candidate={"completed": True})
    assert json.loads(text)["candidate"] == {"completed": True}


def test_create_success(proto: JanusProtocol) -> None:
    ev = one(proto, {"janus": "success", "transaction": "t1", "data": {"id": SID}})
    assert ev == Success("t1", None, None, {"id": SID}, None, None)


def test_attach_success(proto: JanusProtocol) -> None:
    msg = {"janus": "success", "session_id": SID, "transaction": "t", "data": {"id": HID}}
    ev = one(proto, msg)
    assert isinstance(ev, Success) and ev.session_id == SID and ev.data == {"id": HID}


def test_sync_plugin_success(proto: JanusProtocol) -> None:
    data = {"videoroom": "created", "room": 42, "permanent": False}
    msg = {
        "janus": "success",
        "session_id": SID,
        "transaction": "m0",
        "sender": HID,
        "plugindata": {"plugin": VR, "data": data},
    }
    ev = one(proto, msg)
    assert isinstance(ev, Success)
    assert ev.handle_id == HID and ev.plugin_data == data and ev.plugin_error is None


def test_sync_plugin_error(proto: JanusProtocol) -> None:
    data = {"videoroom": "event", "error_code": 427, "error": "Room 42 already exists"}
    msg = {
        "janus": "success",
        "session_id": SID,
        "transaction": "m1",
        "sender": HID,
        "plugindata": {"plugin": VR, "data": data},
    }
    ev = one(proto, msg)
    assert isinstance(ev, Success)
    assert ev.plugin_error == (427, "Room 42 already exists")


def test_ack(proto: JanusProtocol) -> None:
    assert one(proto, {"janus": "ack", "session_id": SID, "transaction": "m3"}) == Ack("m3")


def test_error_reply(proto: JanusProtocol) -> None:
    msg = {
        "janus": "error",
        "transaction": "2",
        "error": {"code": 403, "reason": "Unauthorized request (wrong or missing secret/token)"},
    }
    ev = one(proto, msg)
    assert ev == ErrorReply("2", 403, "Unauthorized request (wrong or missing secret/token)")


def test_server_info(proto: JanusProtocol) -> None:
    msg = {"janus": "server_info", "transaction": "1", "version": 1102, "plugins": {}}
    ev = one(proto, msg)
    assert isinstance(ev, ServerInfo) and ev.info["version"] == 1102


def test_async_plugin_event_with_jsep(proto: JanusProtocol) -> None:
    msg = {
        "janus": "event",
        "session_id": SID,
        "transaction": "m4",
        "sender": HID,
        "plugindata": {"plugin": VR, "data": {"videoroom": "event", "configured": "ok"}},
        "jsep": {"type": "answer", "sdp": "v=0\r\n"},
    }
    ev = one(proto, msg)
    assert isinstance(ev, PluginEvent)
    assert ev.transaction == "m4" and ev.plugin == VR and ev.error_code is None
    assert ev.jsep == {"type": "answer", "sdp": "v=0\r\n"}


def test_async_plugin_error(proto: JanusProtocol) -> None:
    msg = {
        "janus": "event",
        "session_id": SID,
        "transaction": "m3",
        "sender": HID,
        "plugindata": {
            "plugin": VR,
            "data": {"videoroom": "event", "error_code": 426, "error": "No such room (43)"},
        },
    }
    ev = one(proto, msg)
    assert isinstance(ev, PluginEvent)
    assert (ev.error_code, ev.error) == (426, "No such room (43)")


def test_notification_without_transaction(proto: JanusProtocol) -> None:
    msg = {
        "janus": "event",
        "session_id": SID,
        "sender": HID,
        "plugindata": {"plugin": VR, "data": {"videoroom": "talking", "room": 1, "id": 7}},
    }
    ev = one(proto, msg)
    assert isinstance(ev, PluginEvent) and ev.transaction is None
    assert ev.data["videoroom"] == "talking"


def test_peerconnection_events(proto: JanusProtocol) -> None:
    assert one(proto, {"janus": "webrtcup", "session_id": SID, "sender": HID}) == WebrtcUp(SID, HID)
    media = {
        "janus": "media",
        "session_id": SID,
        "sender": HID,
        "mid": "1",
        "type": "video",
        "receiving": True,
    }
    assert one(proto, media) == Media(SID, HID, "video", True, "1")
    slow = {
        "janus": "slowlink",
        "session_id": SID,
        "sender": HID,
        "mid": "0",
        "media": "audio",
        "uplink": True,
        "lost": 12,
    }
    assert one(proto, slow) == SlowLink(SID, HID, True, "audio", "0", 12)
    hangup = {"janus": "hangup", "session_id": SID, "sender": HID, "reason": "DTLS alert"}
    assert one(proto, hangup) == HangUp(SID, HID, "DTLS alert")
    assert one(proto, {"janus": "detached", "session_id": SID, "sender": HID}) == Detached(SID, HID)
    assert one(proto, {"janus": "timeout", "session_id": SID}) == SessionTimeout(SID)


def test_trickle_events(proto: JanusProtocol) -> None:
    cand = {"sdpMid": "0", "sdpMLineIndex": 0, "candidate": "candidate:1 1 udp 1 h 1 typ host"}
    msg = {"janus": "trickle", "session_id": SID, "sender": HID, "candidate": cand}
    assert one(proto, msg) == Trickle(SID, HID, cand, False)
    done = {"janus": "trickle", "session_id": SID, "sender": HID, "candidate": {"completed": True}}
    assert one(proto, done) == Trickle(SID, HID, None, True)


def test_unknown_kind_is_kept(proto: JanusProtocol) -> None:
    msg = {"janus": "brand-new", "session_id": SID, "sender": HID, "x": 1}
    ev = one(proto, msg)
    assert ev == Unknown("brand-new", None, SID, HID, msg)


def test_events_are_frozen(proto: JanusProtocol) -> None:
    ev = one(proto, {"janus": "ack", "transaction": "t"})
    with pytest.raises(AttributeError):
        ev.transaction = "u"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        "42",
        '{"transaction": "t"}',
        '{"janus": 5}',
        '{"janus": "ack"}',
        '{"janus": "ack", "transaction": 7}',
        '{"janus": "success", "transaction": "t", "session_id": "1"}',
        '{"janus": "success", "transaction": "t", "session_id": true}',
        '{"janus": "error", "transaction": "t"}',
        '{"janus": "error", "transaction": "t", "error": {"reason": "x"}}',
        '{"janus": "event", "session_id": 1, "sender": 2}',
        '{"janus": "event", "session_id": 1, "sender": 2, "plugindata": {"plugin": "p"}}',
        '{"janus": "event", "session_id": 1, "sender": 2, "plugindata": {"plugin": "p",'
        ' "data": {"error_code": "x"}}}',
        '{"janus": "event", "sender": 2, "plugindata": {"plugin": "p", "data": {}}}',
        '{"janus": "media", "session_id": 1, "sender": 2, "type": "audio"}',
        '{"janus": "webrtcup", "session_id": 1}',
        '{"janus": "trickle", "session_id": 1, "sender": 2}',
        '{"janus": "timeout"}',
        "[" * 100_000,
    ],
)
def test_malformed_frames(proto: JanusProtocol, text: str) -> None:
    with pytest.raises(JanusProtocolError):
        proto.receive_data(text)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
kinds = st.sampled_from(
    [
        "ack",
        "success",
        "error",
        "server_info",
        "event",
        "webrtcup",
        "media",
        "slowlink",
        "hangup",
        "detached",
        "timeout",
        "trickle",
        "other",
    ]
)
fields = st.sampled_from(
    (
        "transaction session_id sender data plugindata jsep error candidate"
        " type receiving mid uplink lost reason media"
    ).split()
)


@given(st.text() | st.binary())
def test_garbage_only_raises_protocol_error(data: str | bytes) -> None:
    try:
        JanusProtocol(None).receive_data(data)
    except JanusProtocolError:
        pass


@given(kinds, st.dictionaries(fields, json_values))
def test_near_miss_messages_only_raise_protocol_error(kind: str, rest: dict[str, object]) -> None:
    text = json.dumps({"janus": kind, **rest})
    try:
        events = JanusProtocol(None).receive_data(text)
    except JanusProtocolError:
        return
    assert len(events) == 1


@given(
    kinds,
    st.dictionaries(
        fields,
        st.integers(min_value=1) | st.text() | st.booleans(),
    ),
    st.dictionaries(st.sampled_from(["plugin", "data"]), json_values),
)
def test_plugindata_fuzz(kind: str, rest: dict[str, object], pd: dict[str, object]) -> None:
    text = json.dumps({"janus": kind, **rest, "plugindata": pd})
    try:
        JanusProtocol(None).receive_data(text)
    except JanusProtocolError:
        pass
