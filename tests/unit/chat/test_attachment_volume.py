"""The hourly upload volume of a member (rathaus.chat.attachments.VolumeLimit), on a clock of the
test's own."""

from __future__ import annotations

from rathaus.chat.attachments import VolumeLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bytes_count_within_the_hour_and_then_expire() -> None:
    clock = Clock()
    limit = VolumeLimit(1000, window=3600, clock=clock)
    assert limit.charge(1, 600)
    clock.now += 0.5
    assert limit.charge(1, 400)  # exactly the limit
    assert not limit.charge(1, 1)  # nothing counted for what is refused
    assert limit.used(1) == 1000
    assert limit.allows(2, 1000)  # each member apart
    clock.now += 1800
    assert limit.charge(1, 0) and not limit.allows(1, 1)
    clock.now += 1800  # an hour after the first bytes
    assert limit.used(1) == 0 and limit.charge(1, 1000)


def test_a_member_gone_quiet_is_forgotten() -> None:
    clock = Clock()
    limit = VolumeLimit(10, window=60, clock=clock)
    for _ in range(5):
        assert limit.charge(7, 2)
        clock.now += 2
    clock.now += 60
    assert limit.used(7) == 0
    assert limit._charges == {}  # no entry kept for nothing
