"""Per-address limits key an IPv6 client by its /64."""

import pytest

from rathaus.addresses import client_key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("testclient", "testclient"),
        ("", ""),
    ],
)
def test_client_key(address: str, key: str) -> None:
    assert client_key(address) == key


def test_two_addresses_of_one_prefix_are_one_client() -> None:
    assert client_key("2001:db8::1") == client_key("2001:db8::dead:beef")
    assert client_key("2001:db8:0:1::1") != client_key("2001:db8:0:2::1")
