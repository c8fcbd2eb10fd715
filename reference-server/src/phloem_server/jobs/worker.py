"""The embedded worker process: loads the app script once, then runs the jobs the server's
pool hands it, one at a time, reporting over its pipe. It imports neither Django nor the
server (the server records what it reports), so it starts in the time the app takes to load.

It leads its own process group, so the pool's hard stop also ends the processes a job started
(joblib/loky workers of ``n_jobs=-1``), and it ends itself, group and all, the moment its
pipe to the server closes: a worker never outlives the server that owns its jobs."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from phloem.jobs import JobError, JobSpec, JobUpdate, Reporter, execute
from phloem.jobs.reporter import REPORT_INTERVAL

# A job process's niceness: by default the lowest priority, so the server's threads come
# first. PHLOEM_JOB_NICE (0-19, the environment: a worker does not load Django) changes it.
NICE = 19
RESULT_BYTES = 64 * 2**20  # a job's pickled result, at most (result_limit)


def find_job(app: Any, name: str) -> Callable[..., Any]:
    """The job function registered under ``name`` by ``@app.job``."""
    jobs = getattr(app, "jobs", None) or {}
    job = jobs.get(name)
    if job is None:
        raise LookupError(f"the app has no job named {name!r}")
    return getattr(job, "fn", job)  # type: ignore[no-any-return]


class Pipe:
    """The worker's end of its pipes: progress reports go on ``reports`` when there is one
    (the server's loop reads it), everything else on ``conn``, in order. Sends from the job's
    thread and the flusher are locked."""

    def __init__(self, conn: Connection, reports: Connection | None = None) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.reports = reports
        self.reports_lock = threading.Lock()

    def send(self, msg: tuple[Any, ...]) -> None:
        with self.lock:
            self.conn.send(msg)

    def update(self, update: JobUpdate) -> None:
        if update.kind == "progress" and self.reports is not None:
            with self.reports_lock:
                self.reports.send(("update", update))
            return
        if update.kind != "succeeded":
            self.send(("update", update))
            return
        # A result is pickled here, once, to say why it cannot be kept (it cannot be pickled,
        # or it is over the limit) as the job's failure rather than as a broken worker.
        kind = type(update.result).__name__
        try:
            data = pickle.dumps(("update", update), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            self._fail(
                update, f"the job's result ({kind}) cannot be pickled: {exc}", "PicklingError"
            )
            return
        limit = result_limit()
        if len(data) > limit:
            why = (
                f"the job's result ({kind}) is {_mib(len(data))} pickled, over the limit of "
                f"{_mib(limit)} (PHLOEM_JOB_RESULT_BYTES): return a summary, or write the data "
                "to storage and return where it is"
            )
            self._fail(update, why, "ResultTooLarge")
            return
        with self.lock:
            self.conn.send_bytes(data)  # what Connection.recv() unpickles on the other end

    def _fail(self, update: JobUpdate, message: str, kind: str) -> None:
        error = JobError(message, kind)
        self.send(("update", JobUpdate(update.job_id, "failed", update.attempt, error=error)))


def result_limit() -> int:
    """The largest pickled result a job may return, in bytes (PHLOEM_JOB_RESULT_BYTES, the
    environment: a worker does not load Django). Results live in the Job table and travel
    through a pipe: a summary, not a data set."""
    value = _env_int("PHLOEM_JOB_RESULT_BYTES")
    return value if value is not None and value > 0 else RESULT_BYTES


def _env_int(name: str) -> int | None:
    """An integer from the environment, or None when unset or not an integer."""
    try:
        return int(os.environ.get(name, ""))
    except ValueError:
        return None


def _mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def run_one(app: Any, spec: JobSpec, reporter: Reporter, pipe: Pipe) -> None:
    try:
        fn = find_job(app, spec.name)
    except LookupError as exc:
        error = JobError(str(exc), "LookupError")
        pipe.update(JobUpdate(spec.job_id, "failed", spec.attempt, error=error))
        return
    pipe.update(execute(fn, spec.params, reporter))


def lower_priority() -> None:
    """Jobs are batch work beside a server that answers clicks: on a machine busy with jobs
    the event loop must still get the CPU first (bench/bench_jobs.py: other sessions' clicks
    while 100 jobs report flat out)."""
    with contextlib.suppress(OSError):
        os.nice(nice())


def nice() -> int:
    """The niceness jobs run at (PHLOEM_JOB_NICE, else NICE), within 0-19."""
    value = _env_int("PHLOEM_JOB_NICE")
    return NICE if value is None else min(19, max(0, value))


def main(conn: Connection, app_path: str, reports: Connection | None = None) -> None:
    """The worker process's entry point (a multiprocessing spawn target)."""
    with contextlib.suppress(OSError):
        os.setpgrp()  # its own group: a hard stop takes the job's children with it
    import phloem as ph

    # Loaded at the server's priority: on a busy machine a worker importing scikit-learn at
    # niceness 19 took minutes to become ready (busy-test); only jobs run at the low priority.
    app = ph.load_app(app_path)
    lower_priority()
    pipe = Pipe(conn, reports)
    current: list[Reporter] = []
    reading = threading.Lock()  # the turn to read the pipe

    def serve() -> None:
        # Two threads take turns: the one that reads a "run" runs that job itself, at once,
        # while the other reads the pipe (a cancel) meanwhile. A reader handing the job to
        # a runner cost a thread wake-up at the job's start, 0.1-5 ms at niceness 19 on a
        # busy machine (bench_jobs: click -> first progress).
        while True:
            with reading:
                spec = _next_run(conn, current)
                reporter = Reporter(spec.job_id, pipe.update, time.perf_counter, spec.attempt)
                current[:] = [reporter]  # before the next reader can see its cancel
            run_one(app, spec, reporter, pipe)
            current.clear()
            pipe.send(("idle", spec.job_id))

    threading.Thread(target=serve, daemon=True).start()
    threading.Thread(target=_flusher, args=(lambda: list(current),), daemon=True).start()
    pipe.send(("ready", os.getpid()))
    serve()


def _next_run(conn: Connection, current: list[Reporter]) -> JobSpec:
    """Read the pipe until it says run a job; pass cancels on to the running job."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            _die()  # the server is gone: so are this process and its children
        if msg[0] == "run":
            return msg[1]  # type: ignore[no-any-return]
        if msg[0] == "cancel":
            for reporter in list(current):
                if reporter.job_id == msg[1]:
                    reporter.cancel()


def serve_one(conn: Connection, app: Any, spec: JobSpec) -> None:
    """Run one job in this (forked) process for a Celery task that supervises it."""
    lower_priority()
    pipe = Pipe(conn)
    reporter = Reporter(spec.job_id, pipe.update, time.perf_counter, spec.attempt)

    def read() -> None:
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                _die()  # the supervising task is gone
            if msg[0] == "cancel":
                reporter.cancel()

    threading.Thread(target=read, daemon=True).start()
    threading.Thread(target=_flusher, args=(lambda: [reporter],), daemon=True).start()
    run_one(app, spec, reporter, pipe)


def _flusher(reporters: Callable[[], list[Reporter]]) -> None:
    """Send what a job reported and then held back for its slot (a stage named just before a
    long step), once the slot comes, even if the job does not call progress() again."""
    while True:
        time.sleep(REPORT_INTERVAL / 2)
        for reporter in reporters():
            reporter.flush_if_due(time.perf_counter())


def _die() -> None:
    if os.getpgid(0) == os.getpid():  # never the server's group, if setpgrp failed
        with contextlib.suppress(OSError):
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)
