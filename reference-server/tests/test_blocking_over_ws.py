"""Handlers never block the server (issue 7 §1): while session A's handler burns CPU, sleeps or
waits on a socket, session B's clicks and pings are answered, and no connection is closed as
silent. The relations asserted here hold on a loaded 2-core machine; bench/bench_blocking.py
prints the exact numbers (with the idle floor of the same run)."""

import statistics

import pytest
from blocking import APP, idle, while_blocked
from live import phloem_run

pytestmark = [pytest.mark.socket, pytest.mark.subprocess]  # not in make test-fast


BURN = 2.0  # seconds of pure-Python CPU in A's handler (the figure)
WAIT = 3.0  # seconds A's handler sleeps or waits on a socket: past A's 3 s silence deadline


async def test_a_handler_burning_cpu_leaves_other_sessions_answered(tmp_path):
    with phloem_run(APP, tmp_path) as server:
        seen = await while_blocked(server, "burn", BURN)
    assert seen.a_answer >= BURN
    # B went on while A ran: today's loop-bound handler answered none of them before A's.
    assert seen.clicks_before_a >= 10
    # Each of B's round trips is far below A's handler; a stalled loop would show ~2 s.
    assert max(seen.rtts) < BURN / 4, max(seen.rtts)
    assert seen.pongs and max(seen.pongs) < BURN / 4, seen.pongs
    assert seen.closed == []  # no connection was taken for silent


@pytest.mark.parametrize("what", ["sleep", "io"])
async def test_a_handler_that_waits_leaves_other_sessions_as_fast_as_idle(tmp_path, what):
    with phloem_run(APP, tmp_path) as server:
        floor = statistics.median(await idle(server, 40))
        seen = await while_blocked(server, what, WAIT)
    assert seen.a_answer >= WAIT
    # A's connection sent nothing for WAIT > 3 heartbeats, yet it was not closed: it waits
    # for its answer, it is not silent.
    assert seen.closed == []
    assert seen.clicks_before_a >= 20
    # Waiting holds no GIL: B is as fast as with nothing running (a loaded machine's noise
    # allowed for; the bench checks 1.5x).
    assert statistics.median(seen.rtts) <= 3 * floor + 0.002, (seen.rtts, floor)
