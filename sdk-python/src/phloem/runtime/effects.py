"""What the runtime tells its shell, besides frames to send: typed effects, never callbacks.

The core never calls out (h11's pattern): each :class:`~phloem.runtime.connection.Output` carries
``frames`` to send, maybe a ``close`` code, and ``effects`` that the shell interprets in order.
A shell with no event loop to protect (the test client, the stdio adapter) passes
``Hub(offload=False)``, and the core runs every :class:`Run` itself before returning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phloem.runtime.connection import Connection, Output


@dataclass(frozen=True, slots=True)
class Opened:
    """This connection opened a new session (the shell may record it, join its wake group)."""

    session: str


@dataclass(frozen=True, slots=True)
class Resumed:
    """This connection took over an existing session by resume (PHL-DELIV-005)."""

    session: str


@dataclass(frozen=True, slots=True)
class Superseded:
    """``connection`` lost its session to this one's resume: the shell closes it with 4409
    (PHL-DELIV-011) and sends it nothing more; what it had not sent is replayed here."""

    connection: Connection


@dataclass(frozen=True, slots=True)
class Closed:
    """The session ended for good (a fatal failure): it can no longer be resumed."""

    session: str


@dataclass(frozen=True, slots=True)
class Wake:
    """Job frames were queued for these other sessions (the same owner's other tabs): the
    shell wakes their connections, as after a push, so that each drains its own."""

    sessions: frozenset[str]


@dataclass(frozen=True, slots=True)
class Run:
    """Run app code (a handler, a page function) or a step that must wait its turn: call
    ``call()`` off the event loop, in ``session``'s lane, and treat what it returns like any
    other output. A lane runs one call at a time, in the order they were handed out, so one
    session's events stay ordered (PHL-EVT-009) while other sessions go on. Until it returns,
    the shell feeds this connection nothing else, and touches the session only through that
    lane."""

    session: str
    call: Callable[[], Output]


Effect = Opened | Resumed | Superseded | Closed | Run | Wake


def settle(out: Output) -> Output:
    """``out`` with every :class:`Run` called here and now, its output spliced in its place:
    for a shell already inside the session's lane, or one that has no loop to protect."""
    if not out.effects or not any(type(e) is Run for e in out.effects):  # the common case
        return out
    from phloem.runtime.connection import Output

    frames = list(out.frames)
    effects: list[Any] = []
    close = out.close
    for effect in out.effects:
        if type(effect) is Run:
            more = settle(effect.call())
            frames += more.frames
            effects += more.effects
            close = more.close if more.close is not None else close
        else:
            effects.append(effect)
    return Output(frames, close, tuple(effects))
