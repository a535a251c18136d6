"""What Rathaus accepts as a device's public keys and as a key envelope, and what it refuses."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
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
    with pytest.raises(ClientError) as caught:
        envelope("A" * 60_000)
    assert caught.value.code == "bad_message"


def test_allow_unencrypted_is_a_boolean() -> None:
    good = p.parse_client_message('{"type": "allow_unencrypted", "allowed": true}')
    assert isinstance(good, p.AllowUnencrypted) and good.allowed
    refused(lambda: p.parse_client_message('{"type": "allow_unencrypted"}'))


# --- the rules themselves (keys.py), each refusal with the reason it gives ----------------------

P = 2**255 - 19
A = 486662  # Curve25519: v² = u³ + A·u² + u (RFC 7748)
ORDER_8 = {
    int.from_bytes(bytes.fromhex(value), "little")
    for value in (  # as libsodium lists them
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    )
}


def key_refusal(call: Callable[[], object]) -> str:
    """The reason ``keys`` gives for refusing what ``call`` passes it."""
    with pytest.raises(keys.KeyRefused) as caught:
        call()
    return str(caught.value)


def sqrt_mod_p(a: int) -> int | None:
    """A square root modulo p (p ≡ 5 mod 8, so Atkin's formula), or None if there is none."""
    a %= P
    root = pow(a, (P + 3) // 8, P)
    if root * root % P != a:
        root = root * pow(2, (P - 1) // 4, P) % P
    return root if root * root % P == a else None


def small_order_u() -> set[int]:
    """The u of every point of order 2, 4 or 8 (curve and twist), from the doubling formula
    u(2P) = (u² - 1)² / (4u(u² + Au + 1)), independently of the list in keys.py:
    order 2 is u = 0 (u² + Au + 1 has no root: A² - 4 is no square); order 4 doubles to
    u = 0, so u² = 1; order 8 doubles to u = 1, a palindromic quartic that w = u + 1/u turns
    into w² - 4w - 4(A + 1) = 0, so w = 2 ± 2·√(A + 2), and then u² - wu + 1 = 0."""
    assert sqrt_mod_p(A * A - 4) is None
    found = {0, 1, P - 1}
    s = sqrt_mod_p(A + 2)
    assert s is not None
    half = pow(2, P - 2, P)
    for w in (2 + 2 * s, 2 - 2 * s):
        d = sqrt_mod_p(w * w - 4)
        if d is not None:
            found |= {(w + d) * half % P, (w - d) * half % P}
    return found


# Each value also as u + p where that still fits in 255 bits, and each with the top bit (which
# X25519 ignores) clear and set: 14 encodings of 5 points.
SMALL_ORDER = sorted({u + k * P for u in small_order_u() for k in (0, 1) if u + k * P < 2**255})
SMALL_ORDER_ENCODINGS = [
    (u | top).to_bytes(32, "little") for u in SMALL_ORDER for top in (0, 1 << 255)
]


def test_the_small_order_points_are_the_seven_well_known_values() -> None:
    assert SMALL_ORDER == sorted({0, 1, P - 1, P, P + 1} | ORDER_8)
    assert len(SMALL_ORDER_ENCODINGS) == 14


@pytest.mark.parametrize("point", SMALL_ORDER_ENCODINGS, ids=lambda point: point.hex())
def test_every_encoding_of_a_small_order_point_is_refused(point: bytes) -> None:
    # OpenSSL agrees that it is one: the agreement gives the all-zero secret, which it refuses.
    with pytest.raises(ValueError, match="Error computing shared key"):
        X25519PrivateKey.generate().exchange(X25519PublicKey.from_public_bytes(point))
    assert key_refusal(lambda: keys.public_key(b64url(point), "the x25519 key", x25519=True)) == (
        "the x25519 key is not a usable X25519 public key (small order)"
    )


@pytest.mark.parametrize("u", [2, 3, 9, 18, P - 2, P + 2, P + 18, 2**255 - 1])
def test_the_neighbours_of_small_order_points_are_usable(u: int) -> None:
    value = b64url(u.to_bytes(32, "little"))
    assert keys.public_key(value, "the x25519 key", x25519=True) == value


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00", b"\x00\x00", b"\x00\x00\x17", b"\xff\xfe\xfd\xfc", bytes(range(32)), bytes(256)]
    + [bytes(range(200, 200 + n)) for n in range(1, 20)],
)
def test_canonical_base64url_decodes_to_its_bytes(data: bytes) -> None:
    assert keys.b64url_decode(b64url(data), "the key") == data


def test_four_characters_decode_to_three_bytes() -> None:
    assert keys.b64url_decode("AAAX", "the key") == b"\x00\x00\x17"
    assert keys.b64url_decode("AAAA", "the key") == bytes(3)


@pytest.mark.parametrize(
    "value",
    [
        *("AA==", "AA=", "AB+/", "AB/A", " AAA", "AA A", "AA.A", "AAä"),
        *("A", "AAAAA", "A" * 41, "A" * 45),  # lengths no base64 has
    ],
)
def test_anything_but_unpadded_base64url_is_refused(value: str) -> None:
    assert key_refusal(lambda: keys.b64url_decode(value, "the key")) == (
        "the key must be unpadded base64url"
    )


@pytest.mark.parametrize("value", ["AAA\n", "A" * 43 + "\n"])
def test_a_trailing_newline_is_refused_as_not_base64url(value: str) -> None:
    assert key_refusal(lambda: keys.b64url_decode(value, "the key")) == (
        "the key must be unpadded base64url"
    )


@pytest.mark.parametrize("value", ["AB", "AAB", "AAAAAB", "A" * 42 + "B", "A" * 42 + "_"])
def test_leftover_bits_are_refused_as_not_canonical(value: str) -> None:
    assert key_refusal(lambda: keys.b64url_decode(value, "the key")) == (
        "the key is not canonical base64url"
    )


@pytest.mark.parametrize("x25519", [True, False])
@pytest.mark.parametrize("length", [0, 1, 31, 33, 48, 64])
def test_a_public_key_has_exactly_32_bytes(x25519: bool, length: int) -> None:
    value = b64url(bytes(range(100, 100 + length)))
    assert key_refusal(lambda: keys.public_key(value, "the key", x25519=x25519)) == (
        "the key must be a raw 32-byte public key"
    )


@pytest.mark.parametrize("x25519", [True, False])
def test_a_public_key_in_bad_base64url_is_refused_under_its_name(x25519: bool) -> None:
    assert key_refusal(lambda: keys.public_key("AA==", "the key", x25519=x25519)) == (
        "the key must be unpadded base64url"
    )


@pytest.mark.parametrize("x25519", [True, False])
def test_a_pkcs8_private_key_is_refused_as_one(x25519: bool) -> None:
    for key in (DEVICE.agreement, DEVICE.signing):
        der = b64url(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
        check = functools.partial(keys.public_key, der, "the key", x25519=x25519)
        assert key_refusal(check) == (
            "the key is a private key (PKCS#8); send only the raw public key"
        )


@pytest.mark.parametrize("field", ["x25519", "ed25519"])
def test_real_public_keys_pass_unchanged(field: str) -> None:
    value = DEVICE.public()[field]
    assert keys.public_key(value, "the key", x25519=field == "x25519") == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"kty": "OKP", "x": "abc", "d": "secret"}, "a private JWK ('d')"),
        ({"d": ""}, "a private JWK ('d')"),
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQ...", "a private key (PEM)"),
        ("-----BEGIN EC PRIVATE KEY-----", "a private key (PEM)"),
        ("-----begin private key-----", "a private key (PEM)"),
    ],
)
def test_private_keys_are_refused_as_what_they_are(value: Any, reason: str) -> None:
    assert key_refusal(lambda: keys.refuse_private_key(value, "the key")) == (
        f"the key is {reason}; send only the raw public key"
    )


@pytest.mark.parametrize(
    "value", [{"kty": "OKP", "x": "abc"}, {}, "abcd", "PUBLIC KEY", "PRIVATE", ["d"], 7, None]
)
def test_what_is_no_private_key_is_left_to_the_other_checks(value: Any) -> None:
    keys.refuse_private_key(value, "the key")


@pytest.mark.parametrize("size", [keys.MIN_ENVELOPE_BYTES, 18, keys.MAX_ENVELOPE_BYTES])
def test_envelopes_at_the_limits_pass_unchanged(size: int) -> None:
    value = b64url(bytes(size - 1) + b"\x17")  # 18 bytes end in an 'X'
    assert keys.envelope(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b64url(bytes(keys.MIN_ENVELOPE_BYTES - 1)), "an envelope has at least 16 bytes"),
        ("", "an envelope has at least 16 bytes"),
        (b64url(bytes(keys.MAX_ENVELOPE_BYTES + 1)), "an envelope may have at most 4096 bytes"),
        # too long is refused before decoding: whatever the characters are
        ("!" * 5463, "an envelope may have at most 4096 bytes"),
        ("!" * 5462, "the envelope must be unpadded base64url"),
        (b64url(bytes(60)) + "==", "the envelope must be unpadded base64url"),
        ("A" * 22 + "B", "the envelope is not canonical base64url"),
    ],
)
def test_envelope_refusals(value: str, reason: str) -> None:
    assert key_refusal(lambda: keys.envelope(value)) == reason
