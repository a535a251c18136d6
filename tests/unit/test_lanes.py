import asyncio

from rathaus.meetings.lanes import Lanes


async def test_one_lane_keeps_order_and_lanes_run_side_by_side() -> None:
    log: list[str] = []
    release = asyncio.Event()

    async def handle(item: str) -> None:
        if item == "slow":
            await release.wait()
        log.append(item)

    lanes: Lanes[str] = Lanes(handle, max_lanes=4, depth=4)
    assert lanes.submit("pub:camera", "slow")
    assert lanes.submit("pub:camera", "after-slow")
    assert lanes.submit("sub:1", "fast")
    await asyncio.sleep(0.01)
    assert log == ["fast"]  # not held up by the slow lane
    release.set()
    await asyncio.sleep(0.01)
    assert log == ["fast", "slow", "after-slow"]
    assert lanes.submit("pub:camera", "again")  # an emptied lane starts afresh
    await asyncio.sleep(0.01)
    assert log[-1] == "again"
    await lanes.close()


async def test_limits_and_close_cancels_work_after_a_grace_period() -> None:
    started = asyncio.Event()

    async def handle(item: int) -> None:
        started.set()
        await asyncio.sleep(60)

    lanes: Lanes[int] = Lanes(handle, max_lanes=2, depth=2)
    assert lanes.submit("a", 1) and lanes.submit("a", 2)
    assert not lanes.submit("a", 3)  # lane full
    assert lanes.submit("b", 1)
    assert not lanes.submit("c", 1)  # too many lanes
    await started.wait()
    await asyncio.wait_for(lanes.close(grace=0.05), 1)
    assert not lanes.submit("c", 1)  # closed for good


async def test_close_lets_running_work_finish_and_drops_the_queue() -> None:
    done: list[int] = []

    async def handle(item: int) -> None:
        await asyncio.sleep(0.05)
        done.append(item)

    lanes: Lanes[int] = Lanes(handle, max_lanes=2, depth=4)
    for item in (1, 2, 3):
        lanes.submit("a", item)
    await asyncio.sleep(0)
    await lanes.close()
    assert done == [1]
