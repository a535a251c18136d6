"""Which client an address stands for, for the limits and bars kept per address: an IPv4 address
as it is, an IPv6 address by its /64 — one subscriber's prefix, within which privacy addresses
change at will (RFC 8981), so that a single client cannot pose as 2^64 guessers."""

from __future__ import annotations

import ipaddress


def client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP address (a test client's name, a Unix socket): as it is
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)
