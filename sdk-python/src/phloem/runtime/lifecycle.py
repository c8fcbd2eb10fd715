"""The session lifecycle, as one table (like the connection's in :mod:`phloem.protocol.state`).

A session is created attached to the connection whose hello opened it. Its connection ends
(``detach``): it waits ``resume_seconds`` for a resume (PHL-DELIV-008). A resume takes it over
(``attach``), superseding a connection still attached (PHL-DELIV-011). A detached session past
its time (``expire``), or one whose connection failed fatally (``fail``), is forgotten for good.
The hub and the connection look up ``(state, input)`` and run the named action; they never decide
a transition on their own.
"""

from __future__ import annotations

from enum import Enum

from phloem.protocol.errors import LocalProtocolError


class Life(Enum):
    ATTACHED = "attached"
    DETACHED = "detached"
    EXPIRED = "expired"


ATTACHED, DETACHED, EXPIRED = Life.ATTACHED, Life.DETACHED, Life.EXPIRED
INPUTS = ("attach", "detach", "expire", "fail")

# (state, input) -> (action, next state). A pair missing from the table is a local misuse.
LIFECYCLE: dict[tuple[Life, str], tuple[str, Life]] = {
    (ATTACHED, "attach"): ("supersede", ATTACHED),  # PHL-DELIV-011
    (ATTACHED, "detach"): ("detach", DETACHED),  # PHL-DELIV-008: the wait starts now
    (ATTACHED, "expire"): ("nothing", ATTACHED),  # only a detached session's time runs out
    (ATTACHED, "fail"): ("forget", EXPIRED),
    (DETACHED, "attach"): ("attach", ATTACHED),  # PHL-DELIV-005
    (DETACHED, "detach"): ("nothing", DETACHED),
    (DETACHED, "expire"): ("forget", EXPIRED),  # PHL-DELIV-007: a later resume opens anew
    (DETACHED, "fail"): ("forget", EXPIRED),
    # An expired session is unreachable: no resume finds it (so no "attach"), but its last
    # connection may still end, and expiry sweeps or failures may still name it.
    (EXPIRED, "detach"): ("nothing", EXPIRED),
    (EXPIRED, "expire"): ("nothing", EXPIRED),
    (EXPIRED, "fail"): ("nothing", EXPIRED),
}


def life_transition(state: Life, event: str) -> tuple[str, Life]:
    """The action to run and the next state, or :class:`LocalProtocolError` when the caller
    tries to attach an expired session (or feeds an input that is not one of :data:`INPUTS`)."""
    step = LIFECYCLE.get((state, event))
    if step is None:
        raise LocalProtocolError(
            "internal_error", f"{event!r} is not allowed on an {state.value} session"
        )
    return step
