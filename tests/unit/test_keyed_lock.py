"""KeyedLock: one holder per key at a time, keys forgotten when free, no circular waits."""

import asyncio

from rathaus.keyed_lock import KeyedLock


async def test_holders_of_one_key_take_turns_and_others_do_not_wait() -> None:
    locks, inside, most = KeyedLock(), 0, 0
    order: list[str] = []

    async def attempt(name: str, *keys: str) -> None:
        nonlocal inside, most
        async with locks.hold(*keys):
            inside += 1
            most = max(most, inside)
            order.append(f"{name} in")
            await asyncio.sleep(0)  # let the others try to get in meanwhile
            order.append(f"{name} out")
            inside -= 1

    await asyncio.gather(*(attempt(f"a{i}", "address:1") for i in range(5)))
    assert most == 1
    assert order == [x for i in range(5) for x in (f"a{i} in", f"a{i} out")]
    assert len(locks) == 0  # nothing kept once nobody holds or waits

    order.clear()
    await asyncio.gather(attempt("x", "address:1"), attempt("y", "address:2"))
    assert order[:2] == ["x in", "y in"]  # different keys: at the same time


async def test_overlapping_keys_in_any_order_never_deadlock() -> None:
    locks = KeyedLock()
    done: list[int] = []

    async def attempt(i: int, *keys: str) -> None:
        async with locks.hold(*keys):
            await asyncio.sleep(0)
            done.append(i)

    await asyncio.wait_for(
        asyncio.gather(*(attempt(i, *(("u", "a") if i % 2 else ("a", "u"))) for i in range(20))),
        5,
    )
    assert sorted(done) == list(range(20)) and len(locks) == 0


async def test_a_failing_holder_releases_its_keys() -> None:
    locks = KeyedLock()
    try:
        async with locks.hold("k"):
            raise RuntimeError("the check failed")
    except RuntimeError:
        pass
    assert len(locks) == 0
    async with locks.hold("k"):
        assert len(locks) == 1
