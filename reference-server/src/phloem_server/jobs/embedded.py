"""The embedded job backend (`phloem run app.py`): a pool of worker processes the server starts
itself, so CPU-bound jobs never hold the server's GIL and nothing needs installing.

One supervisor thread runs the pool: it hands queued jobs to idle workers (a job submitted while
a worker is idle starts from the submitting thread, under the pool's lock), records what they
report (`mirror`, durable first) and passes it to the sink, renews the leases of running jobs,
and notices a worker that died (its process sentinel) to report the job ``interrupted``, or
run it again when the app declared it safe to retry. A cancel reaches the worker at once (its
``progress()`` raises); a job still running ``grace`` seconds later is stopped hard: the
worker's process group gets SIGTERM, then SIGKILL, the job is reported ``cancelled`` and a
fresh worker takes the slot (docs/design/jobs-1.1.md §7).

A worker reports progress on a pipe of its own. Once the server's event loop is known
(`read_reports_on`), the loop reads those pipes itself: a report reaches the session with one
thread hop less (bench_jobs: click -> first progress). Everything else a worker says (ready,
idle, running, log lines, its end) comes in order on its main pipe, read by the supervisor.

Workers are started with ``spawn`` (the server is multi-threaded, so ``fork`` could copy a
lock held by another thread) and load the app once; a job starts in a warm worker."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import multiprocessing as mp
import os
import selectors
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from phloem.jobs import TERMINAL, JobSpec, JobUpdate

from . import store, worker
from .mirror import PERSIST_EVERY, Mirror
from .rows import RETRIES, Rows, next_attempt
from .writer import Writer

log = logging.getLogger(__name__)
KILL_AFTER = 2.0  # seconds between SIGTERM and SIGKILL of a hard stop (design §7)
Sink = Callable[[JobUpdate], None]


# Compared by identity: a generated __eq__ compares every field, and the supervisor looks a
# worker up in its list at every report (py-spy, 100 busy jobs: 6 % of the server's GIL).
@dataclass(eq=False)
class _Worker:
    proc: Any  # multiprocessing's SpawnProcess
    conn: Connection
    reports: Connection  # its progress reports (the loop's to read, once it is known)
    ready: bool = False
    spec: JobSpec | None = None
    stop_at: float | None = None  # the hard stop's deadline, once a cancel was sent
    killed_at: float | None = None  # when SIGTERM went, once it did
    # Reports of the job held until its row is committed as running: a client that saw a
    # job run finds it in the table after a crash (durable first).
    held: list[JobUpdate] | None = None
    # Its newest progress not yet written: saved with the next beat of the pool (one batch
    # for every job, `store.beat_many`), or before its terminal state.
    latest: JobUpdate | None = None
    # Its job's "running" came (on the main pipe); until it does, a progress report that
    # overtook it on the report pipe waits here (the newest), so states stay in order.
    started: bool = False
    early: JobUpdate | None = None


@dataclass
class _Commands:
    submit: collections.deque[JobSpec] = field(default_factory=collections.deque)
    cancel: collections.deque[tuple[str, float]] = field(default_factory=collections.deque)
    claimed: collections.deque[str] = field(default_factory=collections.deque)


class ProcessBackend(Rows):
    """``submit``/``cancel``/``shutdown`` return at once (any thread). The sink is called from
    the supervisor thread for a running job's reports (at once: their rows are written behind
    them, `writer`), and from the writer thread for a terminal state, once it is committed."""

    def __init__(
        self,
        sink: Sink,
        app_path: str,
        workers: int | None = None,
        persist_every: float = PERSIST_EVERY,
    ) -> None:
        self.sink = sink
        self.app_path = app_path
        self.size = max(1, workers or os.cpu_count() or 1)
        self.persist_every = persist_every
        self.mirror = Mirror(persist_every)  # used by the writer thread only
        self.writer = Writer()
        self._ctx = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._queue: collections.deque[JobSpec] = collections.deque()
        self._commands = _Commands()
        self._wake_r, self._wake_w = self._ctx.Pipe(duplex=False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._stopping = False
        # The pool's state (workers, queue, commands taken) is changed under this lock: by the
        # supervisor, and by `submit` when it starts a job on an idle worker itself.
        self._lock = threading.Lock()
        self._name = f"{socket.gethostname()}:{os.getpid()}"
        self._loop: asyncio.AbstractEventLoop | None = None  # reads the report pipes, once set
        self._thread = threading.Thread(target=self._supervise, name="phloem-jobs", daemon=True)
        self._thread.start()

    # --- the Backend protocol (any thread) ----------------------------------------------------

    def submit(self, spec: JobSpec) -> None:
        # A job that finds a warm worker idle and nothing queued before it starts from the
        # submitting thread (a handler's lane): waking the supervisor to do it cost a thread
        # hop and a wait for the GIL, 0.2-5 ms of a click's first progress (bench_jobs).
        # Never waits for the lock: the supervisor may hold it while it starts a worker.
        if self._lock.acquire(blocking=False):
            try:
                if self._start_now(spec):
                    return
                self._commands.submit.append(spec)  # under the lock: in order with the above
            finally:
                self._lock.release()
        else:
            self._commands.submit.append(spec)
        self._wake()

    def _start_now(self, spec: JobSpec) -> bool:
        if spec.attempt != 1 or self._stopping or self._queue or self._commands.submit:
            return False  # first come, first served
        for w in self._workers:
            if w.ready and w.spec is None:
                self._start(w, spec, new=True)
                return True
        return False

    def cancel(self, job_id: str, grace: float) -> None:
        self._commands.cancel.append((job_id, grace))
        self._wake()

    def read_reports_on(self, loop: asyncio.AbstractEventLoop) -> None:
        """From now on ``loop`` reads the workers' progress reports (call it on that loop); the
        sink is then called on it for them. A new loop takes over from a previous one, which
        must have stopped (tests run one loop after another)."""
        with self._lock:
            old, self._loop = self._loop, loop
            if old is loop:
                return
            for w in self._workers:
                if old is None:
                    with contextlib.suppress(KeyError, ValueError):
                        self._selector.unregister(w.reports)
                elif not old.is_closed() and not w.reports.closed:
                    old.remove_reader(w.reports.fileno())
                self._watch(w)

    def _watch(self, w: _Worker) -> None:
        """(On the loop.) Read ``w``'s reports there until its pipe ends; only the loop closes
        it then, so its descriptor is never reused under a registered reader."""
        assert self._loop is not None
        if w.reports.closed:
            return
        self._loop.add_reader(w.reports.fileno(), self._reports_ready, w)

    def _reports_ready(self, w: _Worker) -> None:
        """(On the loop.) Hand on what ``w`` reported; its pipe's end unregisters it."""
        with self._lock:
            open_ = self._receive_reports(w)
        if not open_:
            assert self._loop is not None
            self._loop.remove_reader(w.reports.fileno())
            w.reports.close()

    def shutdown(self) -> None:
        """Stop every worker (their jobs end ``interrupted``) and the supervisor."""
        self._stopping = True
        self._wake()
        self._thread.join(10)
        self.writer.stop()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"!")

    # --- the supervisor thread -----------------------------------------------------------------

    def _supervise(self) -> None:
        try:
            with self._lock:
                self._recover()
                while len(self._workers) < self.size:
                    self._spawn()
            next_beat = time.monotonic() + self.persist_every
            while not self._stopping:
                now = time.monotonic()
                deadlines = [next_beat] + [
                    t for w in self._workers for t in (w.stop_at, w.killed_at) if t is not None
                ]
                # One selector for the pool's lifetime: rebuilding one over 2 fds per worker
                # at every report cost more than the reports (100 workers, 2,000 reports/s).
                ready = self._selector.select(max(0.0, min(deadlines) - now))
                with self._lock:
                    next_beat = self._step(ready, next_beat)
        except Exception:
            log.exception("the job supervisor failed; embedded jobs stop here")
        finally:
            with self._lock:
                for w in list(self._workers):
                    self._kill(w, signal.SIGKILL)
                    if w.spec is not None:
                        self._end(w.spec, "interrupted")

    def _step(self, ready: list[tuple[selectors.SelectorKey, int]], next_beat: float) -> float:
        """What the supervisor does once its selector returns (under the pool's lock); the
        time of the pool's next beat."""
        woken = False
        for key, _ in ready:
            if key.data is None:
                woken = True
                continue
            w, what = key.data
            if w not in self._workers:
                continue
            try:
                if what == "conn":
                    self._receive(w)
                elif what == "reports":
                    if self._loop is None:  # else the loop reads them (it took them over)
                        self._receive_reports(w)
                elif not w.proc.is_alive():
                    self._died(w)
            except Exception:
                # A fault in handling one worker costs that worker (its job ends as a crash
                # would, through its sentinel), not the pool.
                log.exception("the job supervisor failed on a worker; stopping that worker")
                self._kill(w, signal.SIGKILL)
        if woken:
            while self._wake_r.poll():
                self._wake_r.recv_bytes()
            self._take_commands()
        now = time.monotonic()
        self._hard_stops(now)
        if now >= next_beat:
            self._beat()
            next_beat = now + self.persist_every
        self._dispatch()
        return next_beat

    def _spawn(self) -> None:
        parent, child = self._ctx.Pipe()
        reports, reporter = self._ctx.Pipe(duplex=False)
        proc = self._ctx.Process(
            target=worker.main, args=(child, self.app_path, reporter), name="phloem-job-worker"
        )
        proc.start()
        child.close()
        reporter.close()
        w = _Worker(proc, parent, reports)
        self._workers.append(w)
        self._selector.register(parent, selectors.EVENT_READ, (w, "conn"))
        self._selector.register(proc.sentinel, selectors.EVENT_READ, (w, "sentinel"))
        if self._loop is None:
            self._selector.register(reports, selectors.EVENT_READ, (w, "reports"))
        else:
            self._loop.call_soon_threadsafe(self._watch, w)

    def _take_commands(self) -> None:
        while self._commands.submit:
            spec = self._commands.submit.popleft()
            if spec.attempt == 1:
                self._record_new(spec)
            self._queue.append(spec)
        while self._commands.cancel:
            job_id, grace = self._commands.cancel.popleft()
            self._cancel(job_id, grace)
        while self._commands.claimed:
            job_id = self._commands.claimed.popleft()
            for w in self._workers:
                if w.spec is not None and w.spec.job_id == job_id and w.held is not None:
                    held, w.held = w.held, None
                    for update in held:
                        self.sink(update)

    def _cancel(self, job_id: str, grace: float) -> None:
        for spec in list(self._queue):
            if spec.job_id == job_id:  # never started: cancelled at once (design §7)
                self._queue.remove(spec)
                self._end(spec, "cancelled")
                return
        for w in self._workers:
            if w.spec is not None and w.spec.job_id == job_id and w.stop_at is None:
                self.writer.put(lambda: store.flag_cancel(job_id))
                with contextlib.suppress(OSError):
                    w.conn.send(("cancel", job_id))
                w.stop_at = time.monotonic() + grace

    def _dispatch(self) -> None:
        for w in self._workers:
            if not self._queue:
                return
            if not w.ready or w.spec is not None:
                continue
            self._start(w, self._queue.popleft())

    def _start(self, w: _Worker, spec: JobSpec, new: bool = False) -> None:
        # Under the pool's lock, the one dispatcher of this job: it runs at once and its row
        # is created (``new``) and claimed behind it, in order (the writer keeps it), its
        # reports held until then. The writer is woken after the worker: its ORM work would
        # otherwise take the GIL from this thread before the "run" went (up to 5 ms).
        w.spec, w.held, w.started, w.early = spec, [], False, None
        w.conn.send(("run", spec))
        if new:
            self._record_new(spec)
        worker_name = f"{self._name}/{w.proc.pid}"
        self.writer.put(lambda: self._claim(spec, worker_name))

    def _receive(self, w: _Worker) -> None:
        while True:
            try:
                if not w.conn.poll():
                    return
                msg = w.conn.recv()
            except (EOFError, OSError):
                return  # it died; the sentinel says so
            if msg[0] == "ready":
                w.ready = True
            elif msg[0] == "idle":
                w.spec, w.stop_at, w.held, w.latest = None, None, None, None
                w.started, w.early = False, None
            elif msg[0] == "update":
                self._update(w, msg[1])

    def _receive_reports(self, w: _Worker) -> bool:
        """(Under the pool's lock.) Hand on what ``w`` reported; False once its pipe ended
        (it died: its sentinel says so to the supervisor)."""
        try:
            while w.reports.poll():
                msg = w.reports.recv()
                if w in self._workers:
                    self._update(w, msg[1])
        except (EOFError, OSError):
            return False
        return True

    def _update(self, w: _Worker, update: JobUpdate) -> None:
        if w.spec is None or (w.spec.job_id, w.spec.attempt) != (update.job_id, update.attempt):
            return  # not the job this worker runs now (a hard-stopped job's last words)
        kind = update.kind
        if kind == "progress" and not w.started:
            w.early = update  # it overtook its job's "running" (another pipe): after it
            return
        if kind in TERMINAL:  # durable first: delivered once committed
            latest, w.latest = w.latest, None
            self.writer.put(lambda: self._record_end(update, latest))
            return
        if w.held is not None:
            w.held.append(update)
        else:
            self.sink(update)  # a report: at once; its row follows (at most persist_every old)
        if kind == "progress":
            w.latest = update  # written with the pool's next beat: no write per report
            return
        self.writer.put(lambda: self._record(update))
        if kind == "running":
            w.started = True
            early, w.early = w.early, None
            if early is not None:
                self._update(w, early)

    def _died(self, w: _Worker) -> None:
        self._workers.remove(w)
        # Its report pipe is the loop's, once the loop reads them (it closes it at its end).
        watched = (w.conn, w.proc.sentinel) if self._loop else (w.conn, w.proc.sentinel, w.reports)
        for fileobj in watched:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fileobj)
        with contextlib.suppress(OSError):
            w.conn.close()
            if self._loop is None:  # else the loop closes it, at its end
                w.reports.close()
        spec = w.spec
        if spec is not None:
            log.warning("a job worker died (exit %s) running job %s", w.proc.exitcode, spec.job_id)
            if w.stop_at is not None:
                self._end(spec, "cancelled")  # it died on the hard stop of a cancel
            elif spec.options.retry and spec.attempt < RETRIES:
                # Claimed after the requeue: the writer keeps order.
                self.writer.put(lambda: self._requeue(spec))
                self._queue.append(next_attempt(spec))
            else:
                self._end(spec, "interrupted")
        if not self._stopping:
            self._spawn()

    def _hard_stops(self, now: float) -> None:
        for w in self._workers:
            if w.killed_at is not None and now >= w.killed_at:
                self._kill(w, signal.SIGKILL)
            elif w.stop_at is not None and w.killed_at is None and now >= w.stop_at:
                log.info("job %s ignored its cancel for the grace period: stopping it", _id(w))
                self._kill(w, signal.SIGTERM)
                w.killed_at = now + KILL_AFTER

    def _kill(self, w: _Worker, sig: int) -> None:
        # The worker leads its own group (worker.main): the job's children go with it.
        with contextlib.suppress(OSError):
            os.killpg(w.proc.pid, sig)
        with contextlib.suppress(OSError):
            os.kill(w.proc.pid, sig)

    def _beat(self) -> None:
        """Renew the leases of the running jobs, saving their newest progress: one batch."""
        beats: list[tuple[JobSpec, JobUpdate | None]] = []
        for w in self._workers:
            if w.spec is not None and w.stop_at is None:
                beats.append((w.spec, w.latest))
                w.latest = None
        if beats:
            self.writer.put(lambda: self._renew(beats))


def _id(w: _Worker) -> str:
    return w.spec.job_id if w.spec is not None else "-"
