"""A Phloem app using a team's own React component, Sparkline (renderer/src/Sparkline.tsx).

phloem run app.py --renderer renderer/dist
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import phloem as ph


def Sparkline(
    values: Sequence[float],
    *,
    label: str | None = None,
    id: str | None = None,
    on_pick: Callable[[ph.Event], object] | None = None,
) -> ph.Element:
    """A small typed helper over ``ph.Component``: the props and events the React component
    reads and emits (``pick``: the index of the point the user clicked)."""
    props: dict[str, object] = {"values": [float(v) for v in values]}
    if label is not None:
        props["label"] = label
    return ph.Component("Sparkline", props, id=id, on={"pick": on_pick} if on_pick else None)


app = ph.App("Sales")
SALES = [3, 1, 4, 1, 5, 9, 2, 6]


@app.page("/")
def home(ui):
    picked = ui.state("picked", None)
    day = picked.value
    return ph.Column(
        ph.Text("Sales per day", variant="heading"),
        Sparkline(SALES, label="Sales per day", id="sales", on_pick=lambda e: picked.set(e.value)),
        ph.Text(
            "Click a day" if day is None else f"Day {day + 1}: {SALES[day]} sold",
            id="picked",
        ),
    )
