"""The opt-in inline policy (phloem.runtime.inline): with offload, an event's app code runs as a
Run until it has stayed within the budget ``runs`` times, then in the step itself; once it takes
longer it is a Run until it has been quick twice as many times in a row. Time is a fake clock
that the handlers move on."""

from __future__ import annotations

from typing import Any

import orjson
import phloem as ph
import pytest
from phloem.runtime import Connection, Hub, Output, Run, settle
from phloem.runtime.inline import InlinePolicy, code_of

HELLO = '{"type":"hello","versions":["1.0"]}'


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _app(clock: Clock, costs: dict[str, list[float]]) -> ph.App:
    """A counter whose two buttons cost what `costs` lists next, on `clock`."""
    app = ph.App("inline")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)

        def spend(button: str) -> Any:
            def handler(e: ph.Event) -> None:
                clock.now += costs[button].pop(0)
                count.set(count.value + 1)

            return handler

        return ph.Column(
            ph.Text(f"Count: {count.value}", id="count"),
            ph.Button("Quick", id="quick", on_click=spend("quick")),
            ph.Button("Other", id="other", on_click=lambda e: count.set(count.value + 10)),
        )

    return app


def _open(policy: InlinePolicy | None, app: ph.App) -> Connection:
    tokens = iter(f"token-{i:016d}" for i in range(99))
    hub = Hub(app, new_token=tokens.__next__, offload=True, inline=policy)
    conn = hub.connect(0.0)
    settle(conn.receive(HELLO, 0.0))
    return conn


def _click(conn: Connection, node: str, event: int) -> Output:
    msg = {"type": "event", "id": event, "node": node, "name": "click"}
    return conn.receive(orjson.dumps(msg).decode(), event * 0.1)


def _ran_inline(out: Output) -> bool:
    """True when the click was answered in the step; else run its Run, as a lane would."""
    if out.frames:
        assert out.effects == () and orjson.loads(out.frames[0])["type"] == "ui.patch"
        return True
    (run,) = out.effects
    assert type(run) is Run
    assert orjson.loads(settle(run.call()).frames[0])["type"] == "ui.patch"
    return False


def test_quick_app_code_runs_in_the_step_after_enough_quick_runs_in_the_lane() -> None:
    clock = Clock()
    conn = _open(InlinePolicy(clock, budget=0.001, runs=2), _app(clock, {"quick": [0.0005] * 5}))
    assert [_ran_inline(_click(conn, "quick", i)) for i in range(1, 6)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_app_code_that_takes_longer_goes_back_to_the_lane_until_twice_as_many_quick_runs() -> None:
    clock = Clock()
    costs = {"quick": [0.0005, 0.0005, 0.005] + [0.0005] * 6}
    conn = _open(InlinePolicy(clock, budget=0.001, runs=2), _app(clock, costs))
    ran = [_ran_inline(_click(conn, "quick", i)) for i in range(1, 10)]
    # Two quick runs in the lane, the third inline and slow (a strike), then four quick runs
    # in the lane before it runs inline again.
    assert ran == [False, False, True, False, False, False, False, True, True]


def test_a_strike_in_the_lane_counts_too() -> None:
    clock = Clock()
    costs = {"quick": [0.0005, 0.005] + [0.0005] * 5}
    conn = _open(InlinePolicy(clock, budget=0.001, runs=2), _app(clock, costs))
    ran = [_ran_inline(_click(conn, "quick", i)) for i in range(1, 8)]
    assert ran == [False, False, False, False, False, False, True]


def test_slow_app_code_never_runs_in_the_step() -> None:
    clock = Clock()
    conn = _open(InlinePolicy(clock, budget=0.001, runs=1), _app(clock, {"quick": [0.002] * 4}))
    assert [_ran_inline(_click(conn, "quick", i)) for i in range(1, 5)] == [False] * 4


def test_each_handler_earns_its_own_way_onto_the_loop() -> None:
    clock = Clock()
    conn = _open(InlinePolicy(clock, budget=0.001, runs=1), _app(clock, {"quick": [0.0] * 3}))
    assert _ran_inline(_click(conn, "quick", 1)) is False
    assert _ran_inline(_click(conn, "other", 2)) is False  # not known yet, though "quick" is
    assert _ran_inline(_click(conn, "quick", 3)) is True
    assert _ran_inline(_click(conn, "other", 4)) is True


def test_without_a_policy_every_handler_is_a_run() -> None:
    clock = Clock()
    conn = _open(None, _app(clock, {"quick": [0.0] * 5}))
    assert [_ran_inline(_click(conn, "quick", i)) for i in range(1, 6)] == [False] * 5


def test_a_handler_that_fails_inline_is_answered_like_one_in_the_lane() -> None:
    clock = Clock()
    costs: dict[str, list[float]] = {"quick": [0.0, 0.0]}  # a third click finds no cost: raises
    conn = _open(InlinePolicy(clock, budget=0.001, runs=2), _app(clock, costs))
    assert [_ran_inline(_click(conn, "quick", i)) for i in (1, 2)] == [False, False]
    out = _click(conn, "quick", 3)
    (frame,) = (orjson.loads(f) for f in out.frames)
    assert out.effects == () and frame["code"] == "handler_error" and frame["event"] == 3
    # Nothing of it was kept (PHL-EVT-010): the next click counts on from 2.
    (run,) = _click(conn, "other", 4).effects
    assert type(run) is Run
    patch = orjson.loads(settle(run.call()).frames[0])
    assert patch["ops"] == [{"id": "count", "set": {"text": "Count: 12"}}]


def test_a_handler_is_known_by_its_code_whatever_wraps_it() -> None:
    from functools import partial

    def handler(e: object, n: int = 0) -> None: ...

    class Widget:
        def on(self, e: object) -> None: ...

        def __call__(self, e: object) -> None: ...

    assert code_of(handler) is code_of(partial(handler, n=1)) is handler.__code__
    assert code_of(Widget().on) is code_of(Widget().on) is Widget.on.__code__
    assert code_of(Widget()) is Widget and code_of(None) is None


@pytest.mark.parametrize(("budget", "runs"), [(0.0, 3), (-1.0, 3), (0.001, 0)])
def test_a_policy_needs_a_positive_budget_and_a_run(budget: float, runs: int) -> None:
    with pytest.raises(ValueError, match="budget above 0"):
        InlinePolicy(Clock(), budget=budget, runs=runs)
