"""What Rathaus accepts as a device's public keys and as a key envelope, and what it refuses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from rathaus.e2ee import keys
from rathaus.errors import BadMessage, ClientError
from rathaus.meetings import protocol as p
from tests.support.devices import TestDevice, b64url

DEVICE = TestDevice.new()


def join(device: Any) -> p.ClientMessage:
    return p.parse_client_message(json.dumps({"type": "join", "name": "Anna", "device": device}))


def envelope(value: Any, to: str = "ab12") -> p.ClientMessage:
    return p.parse_client_message(json.dumps({"type": "key_envelope", "to": to, "envelope": value}))


def refused(message: Any) -> str:
    with pytest.raises(BadMessage) as caught:
        message()
    assert caught.value.code == "bad_message"
    return caught.value.message


# --- devices ------------------------------------------------------------------------------------


@pytest.mark.parametrize("e2ee", [True, False])
def test_a_browsers_public_keys_are_accepted_unchanged(e2ee: bool) -> None:
    public = DEVICE.public(e2ee)
    message = join(public)
    assert isinstance(message, p.Join) and message.device is not None
    assert message.device.model_dump() == public


def test_join_without_a_device_still_works() -> None:
    message = p.parse_client_message('{"type": "join", "name": "Anna"}')
    assert isinstance(message, p.Join) and message.device is None


@pytest.mark.parametrize("device_id", ["a", "A-z_09", "x" * 64])
def test_device_ids(device_id: str) -> None:
    assert join({**DEVICE.public(), "id": device_id})


@pytest.mark.parametrize("device_id", ["", "x" * 65, "a b", "ä", "a/b", "a.b", 7, None])
def test_bad_device_ids(device_id: Any) -> None:
    refused(lambda: join({**DEVICE.public(), "id": device_id}))


@pytest.mark.parametrize("field", ["x25519", "ed25519"])
@pytest.mark.parametrize("length", [0, 1, 16, 31, 33, 48, 64])
def test_keys_must_be_exactly_32_bytes(field: str, length: int) -> None:
    message = refused(lambda: join({**DEVICE.public(), field: b64url(b"\x09" * length)}))
    assert field in message


@pytest.mark.parametrize(
    "value",
    [
        b64url(bytes(range(1, 33))) + "=",  # padded
        b64url(bytes(range(1, 33))).replace("_", "/").replace("-", "+") + "+/",  # not url-safe
        "A" * 42 + "B",  # 43 characters with leftover bits: not canonical
        " " + b64url(bytes(range(1, 33))),
        "A" * 41,  # a length no base64 has
    ],
)
def test_keys_must_be_canonical_unpadded_base64url(value: str) -> None:
    refused(lambda: join({**DEVICE.public(), "x25519": value}))


@pytest.mark.parametrize("field", ["x25519", "ed25519"])
def test_a_private_jwk_is_refused_and_called_what_it_is(field: str) -> None:
    jwk = {"kty": "OKP", "crv": "X25519", "x": DEVICE.public()[field], "d": "secret"}
    message = refused(lambda: join({**DEVICE.public(), field: jwk}))
    assert "private" in message and "secret" not in message


def test_pkcs8_and_pem_private_keys_are_refused() -> None:
    for key, field in ((DEVICE.agreement, "x25519"), (DEVICE.signing, "ed25519")):
        der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        assert "PKCS#8" in refused(
            lambda der=der, f=field: join({**DEVICE.public(), f: b64url(der)})
        )
        assert "PEM" in refused(lambda pem=pem, f=field: join({**DEVICE.public(), f: pem}))


def test_a_device_carries_nothing_but_public_parts() -> None:
    for extra in ({"d": "x"}, {"private": "x"}, {"x25519_private": "x"}, {"sender_key": "x"}):
        refused(lambda extra=extra: join({**DEVICE.public(), **extra}))
    for missing in ("id", "x25519", "ed25519", "e2ee"):
        public = DEVICE.public()
        del public[missing]
        refused(lambda public=public: join(public))
    refused(lambda: join({**DEVICE.public(), "e2ee": "yes"}))
    refused(lambda: join("a device"))


@pytest.mark.parametrize(
    "point",
    [
        bytes(32),
        (1).to_bytes(32, "little"),
        ((2**255 - 19) - 1).to_bytes(32, "little"),
        bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7"),
    ],
)
def test_small_order_x25519_keys_are_refused(point: bytes) -> None:
    assert "small order" in refused(lambda: join({**DEVICE.public(), "x25519": b64url(point)}))


def test_the_error_never_repeats_the_refused_value() -> None:
    value = b64url(b"\x42" * 31)
    assert value not in refused(lambda: join({**DEVICE.public(), "x25519": value}))


# --- envelopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [keys.MIN_ENVELOPE_BYTES, 60, 1000, keys.MAX_ENVELOPE_BYTES])
def test_envelopes_up_to_4_kib_pass_unchanged(size: int) -> None:
    value = b64url(bytes(i % 251 for i in range(size)))
    message = envelope(value)
    assert isinstance(message, p.KeyEnvelope)
    assert (message.to, message.envelope) == ("ab12", value)


@pytest.mark.parametrize(
    "value",
    [
        b64url(bytes(keys.MAX_ENVELOPE_BYTES + 1)),
        b64url(bytes(keys.MIN_ENVELOPE_BYTES - 1)),
        "",
        b64url(bytes(60)) + "==",
        "not base64url!" * 4,
        "A" * 61,
        123,
        None,
        {"ciphertext": "x"},
    ],
)
def test_malformed_envelopes(value: Any) -> None:
    refused(lambda: envelope(value))


@pytest.mark.parametrize("to", ["", "XYZ", "a" * 33, None, 5])
def test_envelopes_need_a_participant_id(to: Any) -> None:
    refused(lambda: envelope(b64url(bytes(60)), to=to))


def test_envelope_fields_are_exactly_to_and_envelope() -> None:
    frame = {"type": "key_envelope", "to": "ab", "envelope": b64url(bytes(60)), "from": "cd"}
    refused(lambda: p.parse_client_message(json.dumps(frame)))


def test_an_oversized_envelope_is_refused_before_decoding() -> None:
    with pytest.raises(ClientError):
        envelope("A" * 60_000)


def test_allow_unencrypted_is_a_boolean() -> None:
    good = p.parse_client_message('{"type": "allow_unencrypted", "allowed": true}')
    assert isinstance(good, p.AllowUnencrypted) and good.allowed
    refused(lambda: p.parse_client_message('{"type": "allow_unencrypted"}'))
