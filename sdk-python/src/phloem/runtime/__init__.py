"""Sans-IO session runtime: ``Hub(app).connect(now).receive(frame, now) -> Output``.

No clock reads, no I/O, no threads: the shell passes the time in, sends what comes out and
interprets the output's typed effects (:mod:`phloem.runtime.effects`), such as running app code
off its event loop.
"""

from phloem.runtime.connection import Connection, ErrorHook, Output
from phloem.runtime.effects import Closed, Effect, Opened, Resumed, Run, Superseded, Wake, settle
from phloem.runtime.hub import Hub, UnknownSession, default_token
from phloem.runtime.lifecycle import Life
from phloem.runtime.limits import Limits
from phloem.runtime.session import Session, TreeTooLarge

__all__ = [
    "Closed",
    "Connection",
    "Effect",
    "ErrorHook",
    "Hub",
    "Life",
    "Limits",
    "Opened",
    "Output",
    "Resumed",
    "Run",
    "Session",
    "Superseded",
    "TreeTooLarge",
    "UnknownSession",
    "Wake",
    "default_token",
    "settle",
]
