"""Hypothesis strategies for signaling frames, derived from the typed client messages
(:data:`rathaus.meetings.protocol.ClientMessage`): valid messages, mutated ones and plain garbage.

Valid messages are drawn from the models' JSON schema (what pydantic says each field takes:
types, constants, lengths, patterns, ranges), with a few fields drawn from what a real client
sends where the schema cannot say it (a display name, public keys, an envelope, the ids of people
in the meeting, an SDP offer Janus accepts). Mutants are valid messages with one part dropped,
replaced by an odd value (a wrong type, NUL and control characters, lone surrogates, huge or
deeply nested values, numbers like ``1e999``) or added. Values that only exist at send time (the
participant ids, the SDP) are :class:`Ref`\\s, and JSON that ``json.dumps`` cannot write (``1e999``,
duplicate keys, raw control characters) is :class:`Raw` or :class:`Pairs`; :func:`write` turns a
drawn value into the frame.
"""

from __future__ import annotations

import functools
import json
import operator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from pydantic import TypeAdapter

from rathaus.meetings import protocol as p
from tests.support.devices import TestDevice, b64url

SCHEMA = TypeAdapter(p.ClientMessage).json_schema()
DEFS: dict[str, Any] = SCHEMA["$defs"]
# Every message type and the name of its model, e.g. "join" -> "Join".
MODELS: dict[str, str] = {
    tag: ref.rsplit("/", 1)[-1] for tag, ref in SCHEMA["discriminator"]["mapping"].items()
}


@dataclass(frozen=True)
class Ref:
    """A value known only when the frame is sent: ``target`` (someone else in the meeting),
    ``self`` (the sender's own participant id), ``offer`` (an SDP offer Janus accepts)."""

    name: str


@dataclass(frozen=True)
class Raw:
    """JSON text written as it is (``1e999``, ``NaN``, a string with a raw control character)."""

    text: str


@dataclass(frozen=True)
class Pairs:
    """A JSON object written with these members in this order, duplicates included."""

    items: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame to send: ``value`` as JSON (ASCII-escaped or UTF-8), or raw text or
    bytes (``binary`` frames are sent as binary WebSocket messages)."""

    value: Any
    ascii: bool = True
    binary: bool = False

    def wire(self, refs: dict[str, str]) -> str | bytes:
        if isinstance(self.value, bytes):
            return self.value
        text = write(self.value, refs, self.ascii)
        if not self.ascii and not _utf8(text):  # lone surrogates: only escaped
            text = write(self.value, refs, True)
        return text.encode("utf-8", "surrogatepass") if self.binary else text


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def write(value: Any, refs: dict[str, str], ascii: bool = True) -> str:
    """The JSON text of a drawn value."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Ref):
        return json.dumps(refs.get(value.name, "f00"), ensure_ascii=ascii)
    if isinstance(value, Pairs | dict):
        items = value.items if isinstance(value, Pairs) else value.items()
        members = (f"{json.dumps(k, ensure_ascii=ascii)}:{write(v, refs, ascii)}" for k, v in items)
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(write(v, refs, ascii) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii)


# --- odd values ----------------------------------------------------------------------------------

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
CONTROLS = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Co"])
PRINTABLE = st.characters(categories=["L", "N", "P", "S", "Zs"])


def _repeated(pieces: list[str], max_count: int) -> st.SearchStrategy[str]:
    return st.builds(operator.mul, st.sampled_from(pieces), st.integers(1, max_count))


odd_texts: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["", " ", "\x00", "a\x00b", "\r\n", "\u202etxt.exe", "\ufeff", "\u200b"]),
    st.text(CONTROLS, min_size=1, max_size=8),
    st.text(SURROGATES, min_size=1, max_size=3),
    st.builds(operator.add, st.text(max_size=6), st.text(SURROGATES, min_size=1, max_size=2)),
    st.text(max_size=40),  # anything but lone surrogates: control characters included
    _repeated(["x", "\x00", "é", "😀", "\u202e", "\ud800", "\\", '"', "<script>", " "], 12_000),
    _repeated(["x", "9"], 60_000),  # up to nearly the frame limit
)
# JSON strings that json.dumps would write differently: raw controls, swapped surrogates
odd_strings: st.SearchStrategy[Any] = odd_texts | st.sampled_from(
    [Raw('"\x00"'), Raw('"a\x01b"'), Raw('"\\u0000"'), Raw('"\\udc00\\ud800"'), Raw('"\\ud83d"')]
)

odd_numbers: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(
        [Raw(t) for t in ("1e999", "-1e999", "1e-999", "NaN", "Infinity", "-Infinity", "-0")]
        + [Raw("9" * 4301), Raw("-" + "9" * 5000), Raw("0." + "1" * 5000), Raw("1E400")]
    ),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**53 + 1, -(2**63), 2**64, 0.5, -0.0, 1.0, 3.0]),
)


def _nested(depth: int, array: bool) -> Raw:
    return Raw("[" * depth + "]" * depth if array else '{"a":' * depth + "1" + "}" * depth)


deep_values: st.SearchStrategy[Any] = st.builds(
    _nested, st.sampled_from([2, 30, 100, 500, 1000, 3000, 10_000, 20_000]), st.booleans()
)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)

odd_values: st.SearchStrategy[Any] = st.one_of(json_values, odd_strings, odd_numbers, deep_values)


# --- valid messages, from the models' schema -----------------------------------------------------

FIELD_NAMES = sorted({field for spec in DEFS.values() for field in spec["properties"]})
SELF, TARGET, OFFER = Ref("self"), Ref("target"), Ref("offer")
_NO_CONTROL = st.characters(exclude_categories=["Cc", "Cs"])
_SDP = st.one_of(st.just(OFFER), st.text(_NO_CONTROL, min_size=1, max_size=200))
_PEOPLE = st.sampled_from([TARGET, SELF])
_FEEDS = st.sampled_from(["1", "4242", "99999999999999999999999999999999"])
_SHORT, _LONG = st.binary(min_size=16, max_size=48), st.binary(min_size=16, max_size=4096)
_ENVELOPE = (_SHORT | _LONG).map(b64url)


def _device(e2ee: bool) -> dict[str, Any]:
    return TestDevice.new().public(e2ee)


devices = st.builds(_device, st.booleans())  # a browser's public keys, able to encrypt or not


# Fields whose valid values the schema cannot describe: what a real client sends there.
CLIENT_VALUES: dict[tuple[str, str], st.SearchStrategy[Any]] = {
    ("Join", "name"): st.text(PRINTABLE, min_size=1, max_size=64).filter(str.strip),
    ("Join", "device"): st.none() | devices,
    ("Publish", "sdp"): _SDP,
    ("Answer", "sdp"): _SDP,
    ("Trickle", "pc"): st.sampled_from(["pub:camera", "pub:screen", "sub:1", "sub:4242"]),
    ("IceCandidate", "candidate"): st.sampled_from(
        ["candidate:1 1 udp 2122260223 127.0.0.2 54321 typ host", ""]
    ),
    ("IceCandidate", "sdpMid"): st.sampled_from(["0", "1", "audio"]),
    ("KeyEnvelope", "envelope"): _ENVELOPE,
    ("EnvelopeTo", "envelope"): _ENVELOPE,
    **{
        (name, "feed"): _FEEDS
        for name in ("Subscribe", "Answer", "Unsubscribe", "Layer", "Restart")
    },
    **{(name, "to"): _PEOPLE for name in ("KeyEnvelope", "EnvelopeTo", "KeyRequest")},
    **{
        (name, "id"): _PEOPLE
        for name in (
            "Admit",
            "Deny",
            "Mute",
            "StopVideo",
            "StopScreen",
            "Remove",
            "Promote",
            "LowerHand",
        )
    },
}


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that a JSON schema (of the subset pydantic writes for these models) allows."""
    if "$ref" in schema:
        return st.deferred(lambda: model(schema["$ref"].rsplit("/", 1)[-1]))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([from_schema(option) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        if "pattern" in schema:
            found = st.from_regex(schema["pattern"], fullmatch=True)
            return found.filter(lambda s: low <= len(s) <= (high or len(s)))
        return st.text(min_size=low, max_size=high)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = from_schema(schema["items"])
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems"))
    raise NotImplementedError(f"no strategy for the schema {schema}")


@functools.cache
def model(name: str) -> st.SearchStrategy[dict[str, Any]]:
    """Objects valid for the model ``name`` by its schema, the fields of :data:`CLIENT_VALUES`
    mostly as a real client fills them."""
    schema = DEFS[name]
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field, spec in schema["properties"].items():
        derived = from_schema(spec)
        chosen = CLIENT_VALUES.get((name, field))
        fields[field] = st.one_of(chosen, derived) if chosen is not None else derived
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {k: v for k, v in fields.items() if k in required},
        optional={k: v for k, v in fields.items() if k not in required},
    )


# A batch as a client sends it: a few envelopes, not a hundred large ones (beyond a frame).
CLIENT_VALUES[("KeyEnvelopes", "envelopes")] = st.lists(model("EnvelopeTo"), min_size=1, max_size=8)


@functools.cache
def messages(*types: str) -> st.SearchStrategy[dict[str, Any]]:
    """Valid messages of these types (all types without any)."""
    names = [MODELS[t] for t in types] if types else sorted(MODELS.values())
    return st.one_of([model(name) for name in names])


# --- mutants -------------------------------------------------------------------------------------


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a message: dict keys and list indexes, nested ones included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any, *, drop: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy: Any = dict(value)
    else:
        copy = list(value)
    if drop and not rest:
        del copy[head]
    else:
        copy[head] = _replace(value[head], rest, new, drop=drop)
    return copy


@st.composite
def mutants(draw: st.DrawFn) -> Any:
    """A valid message with one thing wrong: a part dropped or replaced, a member added or
    given twice, or another (or an odd) type."""
    message = draw(messages())
    path = draw(st.sampled_from(_paths(message)[1:]))  # never the message itself
    how = draw(st.sampled_from(["drop", "replace", "add", "twice", "type"]))
    if how == "drop":
        return _replace(message, path, None, drop=True)
    if how == "replace":
        return _replace(message, path, draw(odd_values))
    if how == "add":  # a member of another message, or an odd name
        extra = draw(st.sampled_from(FIELD_NAMES) | odd_texts)
        return {**message, extra: draw(odd_values)}
    if how == "twice":  # JSON with duplicate members: the last one counts
        key = draw(st.sampled_from(list(message)))
        return Pairs((*message.items(), (key, draw(odd_values | messages().map(_type_of)))))
    other = draw(st.sampled_from(sorted(MODELS)) | odd_strings | odd_values)
    return {**message, "type": other}


def _type_of(message: dict[str, Any]) -> Any:
    return message["type"]


# --- frames --------------------------------------------------------------------------------------


def _padded(size: int) -> str:
    head = '{"type":"ping","pad":"'
    return head + "x" * max(0, size - len(head) - 2) + '"}'


garbage: st.SearchStrategy[Frame] = st.one_of(
    json_values.map(Frame),  # not an object, or an object without a type
    st.dictionaries(st.sampled_from(["type", "name", "feed"]), odd_values, max_size=3).map(Frame),
    st.text(max_size=200).map(lambda text: Frame(Raw(text))),  # mostly not JSON
    st.binary(max_size=200).map(lambda data: Frame(data, binary=True)),
    st.sampled_from([b'{"type":"ping","x":"\xff\xfe"}', b"\xc0\xaf", b"\x00" * 64]).map(
        lambda data: Frame(data, binary=True)
    ),
    deep_values.map(Frame),
    # at, just over, and (1009 from the transport) far over the 64 KiB limit
    st.sampled_from([p.MAX_FRAME, p.MAX_FRAME + 1, p.MAX_FRAME + 900, p.MAX_FRAME + 2048]).map(
        lambda size: Frame(Raw(_padded(size)))
    ),
)


def _framed(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Frame]:
    return st.builds(Frame, values, st.booleans(), st.booleans())


@functools.cache
def frames() -> st.SearchStrategy[Frame]:
    """Any frame: a valid message, a mutant or garbage, as text (ASCII-escaped or UTF-8) or as a
    binary frame."""
    return st.one_of(_framed(messages()), _framed(mutants()), garbage)


@st.composite
def many_types(draw: st.DrawFn, count: int, but: tuple[str, ...] = ()) -> list[Frame]:
    """Valid messages of ``count`` different types, in a random order (a plain
    ``st.lists(frames())`` favours the types drawn first)."""
    order = draw(st.permutations(sorted(set(MODELS) - set(but))))
    return [draw(_framed(messages(kind))) for kind in order[:count]]
