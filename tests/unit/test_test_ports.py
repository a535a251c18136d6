"""The suite's UDP port ranges never overlap: Janus's RTP ports, coturn's relay ports and the
kernel's ephemeral range, from which every test server's free API port is taken."""

from pathlib import Path

from tests.support.network import JANUS_RTP_PORTS, TURN_RELAY_PORTS


def overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def test_the_port_ranges_are_apart() -> None:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ranges = {"janus": JANUS_RTP_PORTS, "turn": TURN_RELAY_PORTS, "ephemeral": (low, high)}
    for name, (first, last) in ranges.items():
        assert 1024 <= first <= last <= 65535, name
    names = list(ranges)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not overlap(ranges[a], ranges[b]), f"{a} {ranges[a]} overlaps {b} {ranges[b]}"
