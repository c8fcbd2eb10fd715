"""Session lanes (phloem_server.lanes): one session's calls run one at a time in order, off the
event loop; another session's calls do not wait for them."""

import asyncio
import threading

from phloem_server import lanes


async def test_a_sessions_calls_run_one_at_a_time_in_the_order_handed_out():
    order: list[int] = []
    running = [0]
    overlap: list[int] = []

    def call(n: int):
        def run() -> int:
            running[0] += 1
            overlap.append(running[0])
            order.append(n)
            running[0] -= 1
            return n

        return run

    results = await asyncio.gather(*(lanes.run("app", "s1", call(n)) for n in range(30)))
    assert results == list(range(30)) and order == list(range(30))
    assert max(overlap) == 1
    assert lanes.idle("app", "s1")


async def test_a_blocked_session_does_not_hold_up_another_or_the_loop():
    release = threading.Event()
    loop_thread = threading.get_ident()
    blocked = asyncio.ensure_future(lanes.run("app", "a", lambda: release.wait(30)))
    await asyncio.sleep(0)  # let it start
    assert not lanes.idle("app", "a")
    # The loop is free (this coroutine runs) and session b's call completes meanwhile.
    assert await lanes.run("app", "b", threading.get_ident) != loop_thread
    assert not blocked.done()
    release.set()
    assert await blocked is True
    assert lanes.idle("app", "a") and lanes.idle("app", "b")


async def test_a_failing_call_raises_to_its_caller_and_frees_the_lane():
    def fail() -> None:
        raise ValueError("app bug")

    try:
        await lanes.run("app", "s2", fail)
    except ValueError as exc:
        assert str(exc) == "app bug"
    else:
        raise AssertionError("the call's exception did not reach the caller")
    assert await lanes.run("app", "s2", lambda: 7) == 7 and lanes.idle("app", "s2")


async def test_a_cancelled_caller_keeps_the_lane_until_its_call_returns():
    release = threading.Event()
    done: list[str] = []

    def slow() -> None:
        release.wait(30)
        done.append("slow")

    first = asyncio.ensure_future(lanes.run("app", "s3", slow))
    await asyncio.sleep(0)
    first.cancel()
    after = asyncio.ensure_future(lanes.run("app", "s3", lambda: done.append("after")))
    for _ in range(20):  # give a wrong lane every chance to start "after" (no wall-clock wait)
        await asyncio.sleep(0)
    assert done == [] and not after.done()  # "after" waits for "slow", whose caller is gone
    release.set()
    await after
    assert done == ["slow", "after"]
