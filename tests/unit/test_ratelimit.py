"""The token bucket: ``rate`` tokens a second, never more than ``burst`` saved up, and a clock
that goes backwards gives nothing away.

A bucket starts full at ``time.monotonic()``; here that clock is a fake, and every ``take``
is given its ``now=`` (except in the test of the clock itself)."""

from __future__ import annotations

import itertools

import pytest

from rathaus.meetings import ratelimit
from rathaus.meetings.ratelimit import TokenBucket

START = 1000.0


class Clock:
    """Stands in for the ``time`` module: ``monotonic()`` is whatever ``now`` is set to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(START)
    monkeypatch.setattr(ratelimit, "time", fake)
    return fake


def takes(bucket: TokenBucket, now: float, attempts: int = 100) -> int:
    """How many of ``attempts`` takes at one instant succeed."""
    return sum(bucket.take(now=now) for _ in range(attempts))


def test_rate_and_burst_are_what_was_asked_for() -> None:
    bucket = TokenBucket(0.5, 3)
    assert (bucket.rate, bucket.burst) == (0.5, 3)


def test_a_new_bucket_is_full_and_gives_exactly_its_burst_at_once() -> None:
    assert takes(TokenBucket(1, 3), now=START) == 3
    assert takes(TokenBucket(0.5, 1), now=START) == 1
    assert takes(TokenBucket(10, 30), now=START) == 30


def test_an_empty_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(0.5, 3)
    assert takes(bucket, now=START) == 3
    assert not bucket.take(now=START + 1.9)  # 0.95 of a token
    assert bucket.take(now=START + 2.0)  # exactly one
    assert not bucket.take(now=START + 2.0)
    assert takes(bucket, now=START + 6.0) == 2  # two more seconds each


def test_the_burst_cap_holds_however_long_the_bucket_was_idle() -> None:
    """It never holds more than ``burst``: after an hour (or a year) of nothing, still only
    ``burst`` at once, then the rate again."""
    for idle in (60.0, 3600.0, 365 * 86400.0):
        bucket = TokenBucket(1, 5)
        assert takes(bucket, now=START + idle) == 5
        assert not bucket.take(now=START + idle)
        assert takes(bucket, now=START + idle + 2) == 2


def test_the_cap_holds_between_takes_too() -> None:
    bucket = TokenBucket(2, 4)
    assert takes(bucket, now=START, attempts=1) == 1  # 3 left
    assert takes(bucket, now=START + 10) == 4  # refilled to 4, not to 3 + 20


def test_a_fractional_burst_rounds_down_at_once() -> None:
    bucket = TokenBucket(0.25, 2.5)
    assert takes(bucket, now=START) == 2
    assert bucket.take(now=START + 2)  # 0.5 left + 0.5


def test_a_clock_that_goes_back_gives_nothing() -> None:
    bucket = TokenBucket(1, 2)
    assert takes(bucket, now=START) == 2
    assert not bucket.take(now=START - 50)
    assert not bucket.take(now=START)  # back where it was: nothing earned meanwhile
    assert bucket.take(now=START + 1)  # and from there on the rate again
    assert not bucket.take(now=START + 1)


def test_a_full_bucket_with_a_clock_that_goes_back_stays_within_its_burst() -> None:
    bucket = TokenBucket(1, 2)
    assert takes(bucket, now=START - 3600) == 0  # an hour "earlier": no tokens at all
    assert takes(bucket, now=START + 3600) == 2


@pytest.mark.parametrize(("rate", "burst"), [(1.0, 1.0), (0.5, 3.0), (2.0, 2.0)])
def test_never_more_than_burst_plus_rate_times_time_whatever_the_clock_does(
    rate: float, burst: float
) -> None:
    """Every walk of the clock, forwards and backwards (steps of -3 s to +2 s), two takes at
    each instant: the successes never exceed the burst plus what the furthest point in time
    reached has earned."""
    for steps in itertools.product([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0], repeat=5):
        bucket = TokenBucket(rate, burst)
        now, furthest, granted = START, START, 0
        for step in steps:
            now += step
            furthest = max(furthest, now)
            granted += takes(bucket, now=now, attempts=2)
            assert granted <= burst + rate * (furthest - START), steps


def test_without_now_the_monotonic_clock_counts(clock: Clock) -> None:
    bucket = TokenBucket(1, 1)
    assert bucket.take()
    assert not bucket.take()
    clock.now = START + 1
    assert bucket.take()
    assert not bucket.take(now=START + 1.5)  # a time given wins over the clock
    assert bucket.take(now=START + 2.5)
