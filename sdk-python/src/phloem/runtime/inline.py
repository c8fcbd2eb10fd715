"""Which events' app code may run on the shell's event loop rather than in the session's lane.

Opt-in, for a shell that offloads (``Hub(offload=True, inline=InlinePolicy(clock))``). Handing
app code to a lane costs two thread wake-ups per event, several times the work of a click on a
busy machine (bench/bench_rtt.py). The policy lets the shell skip them for code known to be
quick: the app code of an event (the page function, and the handler when there is one) runs in
the lane and is timed there until it has stayed within ``budget`` seconds ``runs`` times in a
row; from then on it runs inline, still timed. A run that takes longer (a strike) sends it back
to the lane, and it must then stay quick twice as many times in a row as before to come back:
code that is slow from the start never touches the loop, code that turns slow holds it for a
run and ever more rarely after, and a quick handler that a busy machine once preempted past
the budget soon comes back. The trade against issue 7's "handlers never block the server" is
the shell's to make: without a policy, nothing changes.

The clock is injected (``time.perf_counter`` in a server), so the core still reads none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from typing import TypeVar

logger = logging.getLogger("phloem.runtime")
T = TypeVar("T")


class InlinePolicy:
    __slots__ = ("_streak", "_strikes", "budget", "clock", "runs")

    def __init__(self, clock: Callable[[], float], budget: float = 0.001, runs: int = 3) -> None:
        if budget <= 0 or runs < 1:
            raise ValueError("an inline policy needs a budget above 0 and at least 1 run")
        self.clock = clock
        self.budget = budget
        self.runs = runs
        # Both keyed by the app code. Races between lane threads lose a count at worst.
        self._streak: dict[Hashable, int] = {}  # runs in a row within the budget
        self._strikes: dict[Hashable, int] = {}  # runs that took longer, ever

    def _needed(self, key: Hashable) -> int:
        return self.runs << self._strikes.get(key, 0)

    def inline(self, key: Hashable) -> bool:
        """Whether the app code named ``key`` may run on the loop now."""
        return self._streak.get(key, 0) >= self._needed(key)

    def timed(self, key: Hashable, call: Callable[[], T]) -> T:
        """``call()``, timed against the budget (an exception counts as a run too)."""
        start = self.clock()
        try:
            return call()
        finally:
            self._took(key, self.clock() - start)

    def _took(self, key: Hashable, seconds: float) -> None:
        if seconds <= self.budget:
            self._streak[key] = self._streak.get(key, 0) + 1
            return
        if self.inline(key):
            logger.warning(
                "app code %r held the event loop for %.1f ms; it runs off the loop until it "
                "is quick again",
                key,
                seconds * 1000,
            )
        self._streak[key] = 0
        self._strikes[key] = min(self._strikes.get(key, 0) + 1, 20)  # 2**20 runs: for good


def code_of(handler: object) -> object:
    """What names a handler's code across renders, which build new closures, bound methods or
    partials each time: its code object, else its class (a bounded set of keys either way)."""
    while True:
        code = getattr(handler, "__code__", None)
        if code is not None:
            return code
        inner = getattr(handler, "__func__", None) or getattr(handler, "func", None)
        if inner is None:
            return type(handler) if handler is not None else None
        handler = inner
