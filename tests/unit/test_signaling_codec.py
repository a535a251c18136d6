"""The signaling codec: typed messages in, clear errors out, never anything else."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rathaus.errors import BadMessage, ClientError, TooLarge
from rathaus.meetings import protocol as p
from rathaus.meetings import server_messages as sm


def frame(**fields: object) -> str:
    return json.dumps(fields)


def test_join_cleans_the_name() -> None:
    message = p.parse_client_message(frame(type="join", name="  Anna \t  Müller "))
    assert message == p.Join(type="join", name="Anna Müller")


@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "evil\u202etxt", "bell\x07"])
def test_join_refuses_bad_names(name: str) -> None:
    with pytest.raises(BadMessage) as info:
        p.parse_client_message(frame(type="join", name=name))
    assert info.value.code == "invalid_name"


def test_markup_in_names_is_kept_as_text() -> None:
    message = p.parse_client_message(frame(type="join", name="<img src=x onerror=alert(1)>"))
    assert isinstance(message, p.Join) and message.name.startswith("<img")


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "publish", "kind": "camera", "sdp": "v=0"},
        {"type": "publish", "kind": "screen", "sdp": "v=0", "restart": True},
        {"type": "subscribe", "feed": "123"},
        {"type": "answer", "feed": "9", "sdp": "v=0"},
        {"type": "layer", "feed": "9", "substream": 2},
        {"type": "trickle", "pc": "sub:42", "candidate": {"candidate": "c", "sdpMid": "0"}},
        {"type": "trickle", "pc": "pub:camera", "candidate": None},
        {"type": "media", "audio": False, "video": True},
        {"type": "leave"},
        {"type": "ping"},
    ],
)
def test_valid_messages_parse(fields: dict[str, object]) -> None:
    assert p.parse_client_message(json.dumps(fields)).type == fields["type"]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"no": "type"}',
        '{"type": "explode"}',
        frame(type="publish", kind="microwave", sdp="v=0"),
        frame(type="layer", feed="9", substream=7),
        frame(type="subscribe", feed="../etc"),
        frame(type="trickle", pc="pub:other", candidate=None),
        frame(type="ping", extra=1),
        frame(type="publish", kind="camera", sdp="x" * (p.MAX_SDP + 1)),
    ],
)
def test_invalid_messages_are_refused_with_a_code(text: str) -> None:
    with pytest.raises(BadMessage) as info:
        p.parse_client_message(text)
    assert info.value.code in ("bad_message", "invalid_name")


def test_oversized_frames_are_refused() -> None:
    with pytest.raises(TooLarge):
        p.parse_client_message(" " * (p.MAX_FRAME + 1))


@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_garbage_never_raises_anything_but_a_client_error(garbage: str | bytes) -> None:
    try:
        p.parse_client_message(garbage)
    except ClientError:
        pass


@given(
    st.dictionaries(
        st.sampled_from(["type", "name", "feed", "sdp", "kind", "pc"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=20)),
    )
)
def test_random_objects_never_raise_anything_but_a_client_error(data: dict[str, object]) -> None:
    try:
        p.parse_client_message(json.dumps(data))
    except ClientError:
        pass


def test_encode_dumps_models() -> None:
    info = sm.ParticipantInfo(id="a", name="B", audio=True, video=False)
    assert json.loads(sm.encode(sm.ParticipantJoined(participant=info))) == {
        "type": "participant_joined",
        "participant": {
            "id": "a",
            "name": "B",
            "audio": True,
            "video": False,
            "role": "guest",
            "device": None,
        },
    }
