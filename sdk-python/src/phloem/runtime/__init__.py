"""Sans-IO session runtime: ``Hub(app).connect(now).receive(frame, now) -> Output``.

No clock reads, no I/O, no threads: the shell passes the time in and sends what comes out.
"""

from phloem.runtime.connection import Connection, ErrorHook, Output
from phloem.runtime.hub import Hub, default_token
from phloem.runtime.limits import Limits
from phloem.runtime.session import Session

__all__ = ["Connection", "ErrorHook", "Hub", "Limits", "Output", "Session", "default_token"]
