"""Sans-IO session runtime: ``Hub(app).connect(now).receive(frame, now) -> Output``.

No clock reads, no I/O, no threads: the shell passes the time in and sends what comes out.
"""

from phloem.runtime.connection import Connection, ErrorHook, Output
from phloem.runtime.hub import Hub, UnknownSession, default_token
from phloem.runtime.limits import Limits
from phloem.runtime.session import Session, TreeTooLarge

__all__ = [
    "Connection",
    "ErrorHook",
    "Hub",
    "Limits",
    "Output",
    "Session",
    "TreeTooLarge",
    "UnknownSession",
    "default_token",
]
