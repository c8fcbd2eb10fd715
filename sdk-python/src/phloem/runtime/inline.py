"""Which events' app code may run on the shell's event loop rather than in the session's lane.

Opt-in, for a shell that offloads (``Hub(offload=True, inline=InlinePolicy(clock))``). Handing
app code to a lane costs two thread wake-ups per event, several times the work of a click on a
busy machine (bench/bench_rtt.py). The policy lets the shell skip them for code known to be
quick: the app code of an event (the page function, and the handler when there is one) runs in
the lane and is timed there until it has stayed within ``budget`` seconds ``runs`` times in a
row; from then on it runs inline, still timed. Once a run takes longer, that code runs in the
lane for good. So the loop is held at most once by code that suddenly turns slow, for that
one run; code that is slow from the start never touches it. The trade against issue 7's
"handlers never block the server" is the shell's to make: without a policy, nothing changes.

The clock is injected (``time.perf_counter`` in a server), so the core still reads none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TypeVar

logger = logging.getLogger("phloem.runtime")
T = TypeVar("T")


class InlinePolicy:
    __slots__ = ("_quick", "_slow", "budget", "clock", "runs")

    def __init__(self, clock: Callable[[], float], budget: float = 0.001, runs: int = 3) -> None:
        if budget <= 0 or runs < 1:
            raise ValueError("an inline policy needs a budget above 0 and at least 1 run")
        self.clock = clock
        self.budget = budget
        self.runs = runs
        self._quick: dict[Hashable, int] = {}  # code -> runs in a row within the budget
        self._slow: set[Hashable] = set()  # code that took longer once: the lane, for good

    def inline(self, key: Hashable) -> bool:
        """Whether the app code named ``key`` may run on the loop now."""
        return self._quick.get(key, 0) >= self.runs

    def timed(self, key: Hashable, call: Callable[[], T]) -> T:
        """``call()``, timed against the budget (an exception counts as a run too)."""
        start = self.clock()
        try:
            return call()
        finally:
            self._took(key, self.clock() - start)

    def _took(self, key: Hashable, seconds: float) -> None:
        if key in self._slow:
            return
        if seconds <= self.budget:
            self._quick[key] = self._quick.get(key, 0) + 1
            return
        if self._quick.pop(key, 0) >= self.runs:
            logger.warning(
                "app code %r held the event loop for %.1f ms; it runs off the loop from now on",
                key,
                seconds * 1000,
            )
        self._slow.add(key)
