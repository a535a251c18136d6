"""Lockouts: the window, the lockout and its end, the reset on success, which keys lock, the
bound on the keys kept; and how the log names what was locked: by a keyed pseudonym, never by
the key itself nor by a plain hash of it that anyone could recompute from a guess.

Time is passed as ``now=``; where a test leaves it out, the module's clock is a fake."""

import hashlib
import logging

import pytest

from rathaus.accounts import throttle as throttle_module
from rathaus.accounts.throttle import Throttle
from rathaus.secrets_store import Pseudonyms

KEY = "address:203.0.113.9"


def lock(throttle: Throttle, caplog: pytest.LogCaptureFixture) -> str:
    """Lock KEY; the log line that says so."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rathaus.accounts.throttle"):
        for t in range(3):
            throttle.failed(KEY, now=float(t))
    assert throttle.locked(KEY, now=3.0)
    (record,) = caplog.records
    return record.getMessage()


def throttle(pseudonyms: Pseudonyms | None) -> Throttle:
    return Throttle("sign-in", max_failures=3, window=60, lockout=60, pseudonyms=pseudonyms)


def test_the_log_names_a_key_by_the_installations_pseudonym(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ours, theirs = Pseudonyms(b"k" * 32), Pseudonyms(b"l" * 32)
    line = lock(throttle(ours), caplog)
    assert line.endswith(f"(key {ours(KEY)})")
    assert "203.0.113.9" not in line
    assert hashlib.sha256(KEY.encode()).hexdigest()[:10] not in line  # the old, unkeyed one
    # The same installation always gives the same pseudonym; another installation another.
    assert Pseudonyms(b"k" * 32)(KEY) == ours(KEY) != theirs(KEY)
    assert lock(throttle(theirs), caplog).endswith(f"(key {theirs(KEY)})")


def test_without_the_installations_key_the_pseudonym_is_still_keyed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, second = lock(throttle(None), caplog), lock(throttle(None), caplog)
    assert hashlib.sha256(KEY.encode()).hexdigest()[:10] not in first
    assert first != second  # a random key each


# --- the rules: 3 failures within 60 s lock a key for 60 s ---------------------------------------


def three_in_a_minute(max_keys: int = 100_000) -> Throttle:
    return Throttle("sign-in", max_failures=3, window=60, lockout=60, max_keys=max_keys)


def fail(throttle: Throttle, key: str, *times: float) -> None:
    for t in times:
        throttle.failed(key, now=t)


class Clock:
    """Stands in for the ``time`` module: ``monotonic()`` is whatever ``now`` is set to."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


def test_the_third_failure_locks_until_the_lockout_has_passed() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101)
    assert not t.locked(KEY, now=102)
    fail(t, KEY, 102)
    assert t.locked(KEY, now=102)
    assert t.locked(KEY, now=161.99)
    assert not t.locked(KEY, now=162)  # locked until 102 + 60, not a moment longer


def test_fewer_failures_never_lock() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100)
    assert not t.locked(KEY, now=100)
    fail(t, KEY, 101)
    assert not t.locked(KEY, now=101)


def test_failures_count_only_within_the_window() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101, 160)  # the first is exactly 60 s old: out of the window
    assert not t.locked(KEY, now=160)
    fail(t, KEY, 160.5)  # 101, 160 and 160.5 are within one
    assert t.locked(KEY, now=160.5)


def test_failures_just_inside_the_window_lock() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101, 159.99)
    assert t.locked(KEY, now=159.99)


def test_a_key_never_seen_is_not_locked_at_any_time() -> None:
    t = three_in_a_minute()
    assert not t.locked(KEY, now=0.0)
    assert not t.locked(KEY, now=0.5)
    assert not t.locked(now=1.0)


def test_a_lock_also_begins_at_the_clocks_very_start() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 0.0, 0.1, 0.2)
    assert t.locked(KEY, now=0.2)


def test_success_forgets_the_failures_so_far() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101)
    t.succeeded(KEY)
    fail(t, KEY, 102, 103)
    assert not t.locked(KEY, now=103)  # two, not four
    fail(t, KEY, 104)
    assert t.locked(KEY, now=104)


def test_success_of_a_key_without_failures_changes_nothing() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101)
    t.succeeded("user:anna")  # never failed
    t.succeeded("user:ben", KEY)
    fail(t, KEY, 102)
    assert not t.locked(KEY, "user:anna", "user:ben", now=102)


def test_success_does_not_lift_a_lock() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101, 102)
    t.succeeded(KEY)
    assert t.locked(KEY, now=150)


def test_failures_during_a_lock_do_not_prolong_it() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101, 102)  # locked until 162
    fail(t, KEY, 110, 111, 112)
    assert not t.locked(KEY, now=162)


def test_failures_during_a_lock_count_again_once_it_ends() -> None:
    t = three_in_a_minute()
    fail(t, KEY, 100, 101, 102)  # locked until 162
    fail(t, KEY, 150, 155)
    fail(t, KEY, 162)  # the lock has just ended: the third failure within a minute
    assert t.locked(KEY, now=162)
    assert t.locked(KEY, now=221.99)
    assert not t.locked(KEY, now=222)


def test_each_key_counts_its_own_failures() -> None:
    t = three_in_a_minute()
    for now in (100, 101, 102):
        t.failed("user:anna", "address:203.0.113.9", now=now)
    t.failed("user:ben", now=103)
    t.failed("user:ben", now=104)
    assert t.locked("user:anna", now=105)
    assert t.locked("address:203.0.113.9", now=105)
    assert not t.locked("user:ben", now=105)  # two of his own; Anna's do not count
    assert not t.locked("address:203.0.113.10", now=105)
    # Any one locked key is enough: Ben at Anna's address is locked out too.
    assert t.locked("user:ben", "address:203.0.113.9", now=105)


def test_the_failures_kept_are_bounded() -> None:
    """Past ``max_keys`` keys, every count starts again (rather than memory growing without
    bound under a spray of names); up to it, they are kept."""
    t = three_in_a_minute(max_keys=2)
    fail(t, "a", 100, 101)
    fail(t, "b", 101)  # two keys: kept
    fail(t, "a", 102)
    assert t.locked("a", now=102)

    t = three_in_a_minute(max_keys=2)
    fail(t, "a", 100, 101)
    fail(t, "b", 101)
    fail(t, "c", 101)  # three keys: more than two, so the next failure starts again
    fail(t, "a", 102)
    assert not t.locked("a", now=102)


def test_by_default_a_hundred_thousand_keys_are_kept() -> None:
    t = Throttle("sign-in", max_failures=2, window=60, lockout=60)
    t.failed(KEY, now=100)
    t.failed(*(f"user:{i}" for i in range(99_999)), now=100)
    t.failed(KEY, now=101)  # 100 000 keys so far: kept
    assert t.locked(KEY, now=101)

    t = Throttle("sign-in", max_failures=2, window=60, lockout=60)
    t.failed(KEY, now=100)
    t.failed(*(f"user:{i}" for i in range(100_000)), now=100)
    t.failed(KEY, now=101)  # 100 001: forgotten
    assert not t.locked(KEY, now=101)


def test_the_lock_is_logged_with_what_how_long_and_how_many(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pseudonyms = Pseudonyms(b"k" * 32)
    t = Throttle("room password", max_failures=4, window=300, lockout=120, pseudonyms=pseudonyms)
    with caplog.at_level(logging.WARNING, logger="rathaus.accounts.throttle"):
        fail(t, KEY, 1, 2, 3, 4)
    assert [r.getMessage() for r in caplog.records] == [
        f"room password locked for 120 s after 4 failed attempts (key {pseudonyms(KEY)})"
    ]


def test_without_now_the_monotonic_clock_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(1000.0)
    monkeypatch.setattr(throttle_module, "time", clock)
    t = three_in_a_minute()
    for now in (1000.0, 1001.0, 1002.0):
        clock.now = now
        t.failed(KEY)
    assert t.locked(KEY)
    assert t.locked(KEY, now=1061.0)  # a time given wins over the clock
    assert not t.locked(KEY, now=1062.0)
    clock.now = 1062.0
    assert not t.locked(KEY)
    t.failed(KEY, now=5000.0)  # a failure at a given time is counted at that time
    t.failed(KEY, now=5000.0)
    assert not t.locked(KEY, now=5000.0)
    t.failed(KEY, now=5000.0)
    assert t.locked(KEY, now=5000.0)
