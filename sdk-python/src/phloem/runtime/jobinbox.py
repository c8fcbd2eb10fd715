"""A session's job messages between the job table and the session's numbering.

The table (:mod:`phloem.runtime.jobs`) sends every job message to every session of the owner
(PHL-JOB-042), from wherever it is driven: a shell's loop applying a backend's report, or
another session's handler that started or cancelled a job. Numbering a message
(``Session.emit``: the next seq, the replay buffer) is the session's own business, and a
session's seqs must be taken in one order by one path at a time (PHL-DELIV-001): its event
answers are numbered wherever its handler runs. So the table only *queues* messages here, and
the session numbers them itself when its connection drains (``Connection.drain``: in the
session's turn) or when it resumes.

Writers and the reader may be different threads (a server runs handlers off its loop), and the
sans-IO core takes no locks: every step below is one operation that is atomic under the GIL
(``deque.append``/``popleft``, a dict item set/pop, a set add/discard), and the progress slot
is written before its marker is checked and read after its marker is cleared, so a newest
progress is never stranded (see :meth:`Inbox.progress`).
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phloem.runtime.session import Session

_MESSAGE, _PROGRESS, _REFRESH, _FORGET = range(4)


def progress_key(job_id: str) -> str:
    """The replay buffer's compaction key of a job's progress (PHL-JOB-040)."""
    return f"job.progress {job_id}"


class Inbox:
    __slots__ = ("_marked", "_newest", "_queue")

    def __init__(self) -> None:
        self._queue: deque[tuple[int, Any]] = deque()
        self._newest: dict[str, dict[str, Any]] = {}  # job id -> its newest unnumbered progress
        self._marked: set[str] = set()  # job ids with a progress marker in the queue

    def __bool__(self) -> bool:
        return bool(self._queue)

    def message(self, msg: dict[str, Any]) -> None:
        """A job message numbered exactly once, in order (``job.state``, ``job.log``)."""
        self._queue.append((_MESSAGE, msg))

    def progress(self, job_id: str, msg: dict[str, Any]) -> None:
        """A ``job.progress``: latest wins (PHL-JOB-025) at the place of the first one not yet
        numbered, so a terminal state queued after it still comes after it (PHL-JOB-013).
        The slot is set before the marker is checked (the reader clears the marker before it
        reads the slot): whichever way a reader interleaves, it numbers the newest value."""
        self._newest[job_id] = msg
        if job_id not in self._marked:
            self._marked.add(job_id)
            self._queue.append((_PROGRESS, job_id))

    def refresh(self) -> None:
        """A job's lifecycle changed: the page re-renders (app code), in the session's turn."""
        self._queue.append((_REFRESH, None))

    def forget(self, job_id: str) -> None:
        """A job left the table: the replay buffer stops tracking its newest progress."""
        self._queue.append((_FORGET, job_id))

    def clear(self) -> None:
        """The session is about to get the full state of every job (sync, PHL-JOB-041)."""
        self._queue.clear()
        self._marked.clear()
        self._newest.clear()

    def flush(self, session: Session) -> None:
        """Number what is queued, in order, on the session's path (the caller's turn); frames
        for an attached connection join its unsent frames, like a push's patch."""
        queue = self._queue
        while queue:
            kind, item = queue.popleft()
            if kind == _MESSAGE:
                frame = session.emit(dict(item))
            elif kind == _PROGRESS:
                self._marked.discard(item)
                newest = self._newest.pop(item, None)
                if newest is None:
                    continue
                frame = session.emit(dict(newest), compact=progress_key(item))  # PHL-JOB-040
            elif kind == _REFRESH:
                session.refresh()  # queues its patch for the attached connection itself
                continue
            else:
                session.forget_compact(progress_key(item))
                continue
            if session.conn is not None:
                session.unsent.append(frame)
