import base64
import hashlib
import hmac

import pytest

from rathaus.config import TurnSettings
from rathaus.meetings.ratelimit import TokenBucket
from rathaus.meetings.turn import ice_servers, turn_credentials
from rathaus.rooms.slug import is_valid_slug, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Bezirksausschuss Süd", "bezirksausschuss-sued"),
        ("  Straße & Grün!  ", "strasse-gruen"),
        ("Café Ñandú", "cafe-nandu"),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
    assert is_valid_slug(slug)


def test_slugify_of_nothing_readable_is_random() -> None:
    slug = slugify("!!!")
    assert is_valid_slug(slug) and len(slug) == 12


@pytest.mark.parametrize("bad", ["", "-a", "a-", "A", "a/b", "a" * 65, "ä", "abc\n", "abc\n\n"])
def test_invalid_slugs(bad: str) -> None:
    assert not is_valid_slug(bad)


def test_turn_credentials_follow_coturns_rest_scheme() -> None:
    username, credential = turn_credentials("secret", "p1", 600, now=1_700_000_000)
    assert username == "1700000600:p1"
    expected = hmac.new(b"secret", username.encode(), hashlib.sha1).digest()
    assert base64.b64decode(credential) == expected


def test_no_ice_servers_without_turn() -> None:
    assert ice_servers(TurnSettings(), "p") == []
    servers = ice_servers(TurnSettings(urls=["turn:t:3478"], secret="s", ttl=60), "p")
    assert servers[0].urls == ["turn:t:3478"] and servers[0].username.endswith(":p")


def test_token_bucket() -> None:
    bucket = TokenBucket(rate=10, burst=3)
    now = bucket._last
    assert [bucket.take(now) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now + 0.11)
    assert not bucket.take(now + 0.11)
