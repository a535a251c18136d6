"""secrets_store: signed values (``Signer``) that a browser may hold but not forge, one key per
purpose; the keyed log pseudonyms; and the installation's key file (in ``tmp_path``).

A token is ``<base64url of the value>.<base64url of HMAC-SHA256 over that text>``, unpadded,
under the key HMAC-SHA256(installation key, purpose); ``forge`` below makes one from that
description alone, for the tests that need a correctly signed but malformed token."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from rathaus import secrets_store
from rathaus.secrets_store import KEY_FILE, Pseudonyms, Signer, load_or_create_key
from tests.support.devices import b64url

KEY = b"k" * 32
SIGNER = Signer(KEY, "guest-link")
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
VALUES = [
    "",
    "council\n1700003600",
    "aaW",  # its base64url ends in "X"
    "a.b",
    "Zoë ✓ 会议",
    *("x" * n for n in range(1, 40)),  # every length modulo 3 and 4
]


def forge(data: str, key: bytes = KEY, purpose: str = "guest-link") -> str:
    derived = hmac.new(key, purpose.encode(), hashlib.sha256).digest()
    return f"{data}.{b64url(hmac.new(derived, data.encode(), hashlib.sha256).digest())}"


class FakeSecrets:
    """Stands in for the ``secrets`` module: notes how many random bytes were asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def token_bytes(self, n: int) -> bytes:
        self.asked.append(n)
        return bytes(range(n))


@pytest.fixture
def fake_secrets(monkeypatch: pytest.MonkeyPatch) -> FakeSecrets:
    fake = FakeSecrets()
    monkeypatch.setattr(secrets_store, "secrets", fake)
    return fake


# --- Signer -----------------------------------------------------------------------------------


def test_a_token_is_what_the_scheme_says() -> None:
    token = SIGNER.sign("council\n1700003600")
    assert token == "Y291bmNpbAoxNzAwMDAzNjAw.VPt10m_nWLEcwemYe0kgFVmnCg_F68S7EGhNL8OlPbs"
    assert token == forge(b64url(b"council\n1700003600"))


@pytest.mark.parametrize("value", VALUES)
def test_what_was_signed_comes_back_unchanged(value: str) -> None:
    token = SIGNER.sign(value)
    assert token == forge(b64url(value.encode()))
    assert SIGNER.unsign(token) == value


@pytest.mark.parametrize("value", VALUES)
def test_a_token_is_unpadded_base64url_around_one_dot(value: str) -> None:
    data, mac = SIGNER.sign(value).split(".")
    assert set(data + mac) <= set(B64URL)
    assert len(mac) == 43  # 32 bytes


def flipped(token: str, i: int) -> str:
    """The token with its i-th character changed in the top bit of the six it stands for (a
    bit every base64 character carries, even the last one of the MAC)."""
    char = token[i]
    other = B64URL[B64URL.index(char) ^ 32] if char in B64URL else "A"
    return token[:i] + other + token[i + 1 :]


@pytest.mark.parametrize("value", ["council\n1700003600", "", "aaW"])
def test_every_changed_character_is_noticed(value: str) -> None:
    token = SIGNER.sign(value)
    for i in range(len(token)):
        assert SIGNER.unsign(flipped(token, i)) is None, i


@pytest.mark.parametrize(
    "token",
    [
        "",
        ".",
        "Y291bmNpbA",
        "Y291bmNpbA.",
        "." + SIGNER.sign("council").partition(".")[2],
        SIGNER.sign("council")[:-1],
        SIGNER.sign("council") + "A",
        SIGNER.sign("council") + ".A",
        SIGNER.sign("council").partition(".")[0] + ".A",  # a MAC no base64 decodes
        SIGNER.sign("council").partition(".")[0] + ".!!!!",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert SIGNER.unsign(token) is None


def test_one_key_per_purpose() -> None:
    other_purpose = Signer(KEY, "oidc-pending")
    assert other_purpose.sign("council") != SIGNER.sign("council")
    assert other_purpose.unsign(SIGNER.sign("council")) is None
    assert SIGNER.unsign(other_purpose.sign("council")) is None
    assert Signer(KEY, "guest-link").unsign(SIGNER.sign("council")) == "council"


def test_another_installations_tokens_are_refused() -> None:
    theirs = Signer(b"l" * 32, "guest-link")
    assert theirs.unsign(SIGNER.sign("council")) is None
    assert SIGNER.unsign(theirs.sign("council")) is None


@pytest.mark.parametrize(
    "data",
    [
        "AAAAA",  # a length no base64 has
        b64url(b"\xff\xfe\xfd"),  # not UTF-8
        "YQ.YQ",  # the signed part ends at the first dot
    ],
)
def test_a_correctly_signed_token_that_is_not_a_value_is_refused(data: str) -> None:
    assert SIGNER.unsign(forge(data)) is None


def other_spellings(token: str) -> list[str]:
    """The same token, spelled otherwise: padded, with something after the MAC, with other bits
    in the last character of the MAC (base64's last character of 43 carries 4 unused bits)."""
    last = token[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    same_bits = [c for c in alphabet if alphabet.index(c) >> 2 == alphabet.index(last) >> 2]
    return [token + "=", token + "==", token + "!!", token + "\n"] + [
        token[:-1] + c for c in same_bits if c != last
    ]


def test_a_token_has_one_spelling_only() -> None:
    token = SIGNER.sign("council")
    for other in other_spellings(token):
        assert SIGNER.unsign(other) is None, other
    data, _, mac = token.partition(".")
    assert SIGNER.unsign(f"{data}=.{mac}") is None  # a padded signed part


# --- Pseudonyms ---------------------------------------------------------------------------------


def test_a_pseudonym_is_what_the_scheme_says() -> None:
    """The first 12 hex digits of HMAC-SHA256 under HMAC-SHA256(key, "log-pseudonym")."""
    value = "address:203.0.113.9"
    derived = hmac.new(KEY, b"log-pseudonym", hashlib.sha256).digest()
    expected = hmac.new(derived, value.encode(), hashlib.sha256).hexdigest()[:12]
    assert Pseudonyms(KEY)(value) == expected == "87222cb2b851"


def test_different_values_and_keys_give_different_pseudonyms() -> None:
    ours = Pseudonyms(KEY)
    names = [ours(f"user:{i}") for i in range(100)]
    assert len(set(names)) == 100
    assert all(len(name) == 12 for name in names)
    assert Pseudonyms(b"l" * 32)("user:1") != ours("user:1")
    # A pseudonym is not the same keyed hash a Signer with that key would make.
    assert ours("user:1") not in Signer(KEY, "log-pseudonym").sign("user:1")


def test_ephemeral_pseudonyms_have_a_random_key_of_32_bytes(fake_secrets: FakeSecrets) -> None:
    assert Pseudonyms.ephemeral()("user:1") == Pseudonyms(bytes(range(32)))("user:1")
    assert fake_secrets.asked == [32]


# --- the key file -------------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_first_start_makes_a_private_key_of_32_random_bytes(
    tmp_path: Path, fake_secrets: FakeSecrets
) -> None:
    data_dir = tmp_path / "data"
    key = load_or_create_key(data_dir)
    assert key == bytes(range(32))
    assert fake_secrets.asked == [32]
    assert (data_dir / KEY_FILE).read_bytes() == base64.b64encode(key)
    assert mode(data_dir / KEY_FILE) == 0o600
    assert mode(data_dir) == 0o700


def test_later_starts_read_the_same_key(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path)
    written = (tmp_path / KEY_FILE).read_bytes()
    assert load_or_create_key(tmp_path) == key
    assert (tmp_path / KEY_FILE).read_bytes() == written
    assert len(key) == 32


def test_a_key_file_others_could_read_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    path.write_bytes(base64.b64encode(b"s" * 32))
    path.chmod(0o644)
    assert load_or_create_key(tmp_path) == b"s" * 32
    assert mode(path) == 0o600


@pytest.mark.parametrize("content", [b"not base64!", b"c2Vj*cmV0"])
def test_a_damaged_key_file_stops_the_start_and_is_kept(tmp_path: Path, content: bytes) -> None:
    """Never quietly another key (every signed token and pseudonym would change with it)."""
    path = tmp_path / KEY_FILE
    path.write_bytes(content)
    with pytest.raises(binascii.Error):
        load_or_create_key(tmp_path)
    assert path.read_bytes() == content
