"""The shell's half of the job interface (docs/design/jobs-1.1.md §9) for one served app in
this process: it hands the job table's commands to the backend, brings the backend's updates
onto the serving loop and into the table, keeps the table's one coalescing timer, and wakes
the consumers whose sessions got frames.

Everything that touches the table runs on the serving loop (the Hub is not thread-safe);
backends report from their own threads through :meth:`Bridge.report`, and from other
processes (Celery workers, scaled out) through the channel layer group of the job's owner,
which this process joins while it serves a session of that owner. Jobs this table did not
start (another server process's, or a previous run's, read from the Job table) are adopted
when their owner's first session here connects, so a reload, a second tab, another server or
a restart show the same jobs (PHL-JOB-041, PHL-JOB-042)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import re
import threading
import time
from collections import Counter
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from phloem.jobs import TERMINAL, JobUpdate

from .. import registry, updates
from . import backends, records

log = logging.getLogger(__name__)
SETTLED = 2.0  # seconds a live terminal message gets before the table's row is trusted
MESSAGE = "phloem.job"  # channel layer message type: {"type", "update": pickled JobUpdate}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def owner_group(owner: str) -> str:
    """The channel layer group that carries an owner's job updates between processes."""
    return f"phloem.jobs.{_UNSAFE.sub('_', owner)}"[:99]


class Bridge:
    def __init__(self, key: str) -> None:
        self.key = key
        self.served = registry.get(key)
        self.table = self.served.hub.jobs
        self.loop: asyncio.AbstractEventLoop | None = None
        self.backend: Any = None
        self.channel: str | None = None  # this process's channel for owner groups
        self._listener: asyncio.Task[None] | None = None
        self._owners: Counter[str] = Counter()  # owner -> consumers of it in this process
        self._adopting = 0  # owners whose jobs are being loaded from the table
        self._held: list[JobUpdate] = []  # updates of unknown jobs meanwhile
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reconciler: asyncio.Task[None] | None = None
        self._inbox: list[JobUpdate] = []  # reports from backend threads, not yet applied
        self._draining = False  # a drain of the inbox is scheduled on the loop
        self._loop_thread: int | None = None  # the loop's thread, once known

    # --- the backend ---------------------------------------------------------------------------

    def start_backend(self) -> Any:
        """The backend, started on first use (or by `phloem run`, so workers are warm)."""
        if self.backend is None:
            self.backend = backends.make(self.report, self.served.path)
            self._bind()
        return self.backend

    def _on_loop(self) -> None:
        """(On the serving loop.) Note it, and let the backend read its reports there."""
        loop = asyncio.get_running_loop()
        if loop is not self.loop or self._loop_thread is None:
            self.loop, self._loop_thread = loop, threading.get_ident()
            self._bind()

    def _bind(self) -> None:
        read_on = getattr(self.backend, "read_reports_on", None)  # the embedded backend's
        if read_on is not None and self.loop is not None and self._loop_thread is not None:
            read_on(self.loop)

    def report(self, update: JobUpdate) -> None:
        """A backend's sink: any thread. Updates are handed to the loop in batches: one
        wake-up of the loop for all that arrived meanwhile (100 busy jobs report 2,000 times
        a second; a loop hop each would crowd out the clicks of other sessions)."""
        loop = self.loop
        if loop is None:
            log.warning("job update before the server served anything: %s", update.kind)
            return
        self._inbox.append(update)  # list.append is atomic: no lock on this path
        if threading.get_ident() == self._loop_thread:
            self._drain()  # read on the loop (a report pipe): no hop; earlier ones first
            return
        if not self._draining:
            self._draining = True
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        self._draining = False  # before taking the batch: a later report schedules anew
        batch, self._inbox = self._inbox, []
        touched: set[str] = set()
        for update in _newest_progress(batch):
            touched |= self._apply(update, wake=False)
        self._wake(touched)
        self._arm()

    def after(self) -> None:
        """Run the commands the last frame or push produced (on the loop, after it)."""
        self._on_loop()
        commands = self.table.commands()
        if commands:
            backend = self.start_backend()
            for command in commands:
                command.run(backend)
        self._arm()

    def dispatch(self) -> None:
        """Run the commands a handler produced, from its lane as soon as it returned (any
        thread: backends' submit and cancel are), rather than after its answer went out
        from the loop: a job starts that much sooner. Only once the backend is running
        (`phloem run` starts it): the loop creates it, in `after`."""
        backend = self.backend
        if backend is not None:
            for command in self.table.commands():
                command.run(backend)

    # --- sessions ----------------------------------------------------------------------------

    async def attach(self, owner: str) -> None:
        """A consumer of ``owner`` connected here: receive its jobs' updates from other
        processes, and adopt its jobs this table does not hold (before the hello is handled,
        so the session's sync includes them)."""
        self._on_loop()
        if self._reconciler is None:
            self._reconciler = asyncio.get_running_loop().create_task(self._reconcile())
        self._owners[owner] += 1
        if self._owners[owner] > 1:
            return
        self._adopting += 1
        try:
            await self._join(owner)
            found = await database_sync_to_async(records.load)(owner, self.served.path)
            for record in found:
                if record.id not in self.table.records:
                    records.adopt(self.table, record)
        except Exception:
            log.exception("could not load the jobs of %s", owner)
        finally:
            self._adopting -= 1
            held, self._held = self._held, []
            for update in held:
                self._apply(update)  # held again while another owner is being loaded

    async def detach(self, owner: str) -> None:
        self._owners[owner] -= 1
        if self._owners[owner] > 0:
            return
        del self._owners[owner]
        layer = get_channel_layer()
        if layer is not None and self.channel is not None:
            await updates.leave(layer, owner_group(owner), self.channel)

    async def _join(self, owner: str) -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if self.channel is None:
            # The default prefix, as the consumers': channels_redis serves every channel of a
            # process through one receive loop on one prefix; another prefix starves.
            self.channel = await layer.new_channel()
            self._listener = asyncio.get_running_loop().create_task(self._listen(layer))
        await updates.join(layer, owner_group(owner), self.channel)

    async def _listen(self, layer: Any) -> None:
        assert self.channel is not None
        receive = updates.wakes(lambda: layer.receive(self.channel), self._rejoin)
        while True:
            message = await receive()
            if message.get("type") == MESSAGE:
                try:
                    update = pickle.loads(message["update"])  # our own workers' messages
                except Exception:
                    log.exception("an unreadable job update on the channel layer")
                    continue
                await self._remote(update)

    async def _rejoin(self) -> None:
        layer = get_channel_layer()
        if layer is not None and self.channel is not None:
            for owner in list(self._owners):
                await updates.join(layer, owner_group(owner), self.channel)

    async def _remote(self, update: JobUpdate) -> None:
        if update.kind == "succeeded" and update.result is None:
            # Results travel through the Job table, not the channel layer (size).
            value = await database_sync_to_async(records.result)(update.job_id)
            update = records.with_result(update, value)
        self._apply(update)

    async def _reconcile(self) -> None:
        """Durable first, doorbell second: a live update can be lost (the channel layer is
        at-most-once, a full channel drops it), a terminal state cannot. Every REAP seconds,
        jobs the table holds as live but the Job table has ended (a while ago, so the live
        message had its chance) get their terminal update from the row (PHL-JOB-012)."""
        every = backends.option("PHLOEM_JOB_REAP", 10.0)
        while True:
            await asyncio.sleep(every)
            live = [r.id for r in self.table.records.values() if r.state not in TERMINAL]
            if not live:
                continue
            try:
                ended = await database_sync_to_async(records.ended)(live, SETTLED)
            except Exception:
                log.exception("could not reconcile jobs with the Job table")
                continue
            for update in ended:
                log.info("job %s ended %s without its live message", update.job_id, update.kind)
                self._apply(update)

    # --- into the table ----------------------------------------------------------------------

    def _apply(self, update: JobUpdate, wake: bool = True) -> set[str]:
        record = self.table.records.get(update.job_id)
        if record is None:
            if self._adopting:  # perhaps a job of an owner being loaded: apply it after
                self._held.append(update)
            return set()
        # A retry's first report (a higher attempt) is the table's to announce: queued again
        # with the new attempt, progress starting over (JobTable.apply, PHL-JOB-010).
        touched = self.table.apply(update, time.monotonic())
        if wake:
            self._wake(touched)
            self._arm()
        return touched

    def _arm(self) -> None:
        deadline = self.table.deadline()
        if deadline is None or deadline >= self._timer_at or self.loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        delay = max(0.0, deadline - time.monotonic())
        self._timer = self.loop.call_later(delay, self._poll)

    def _poll(self) -> None:
        self._timer, self._timer_at = None, float("inf")
        self._wake(self.table.poll(time.monotonic()))
        self._arm()

    def _wake(self, sessions: set[str]) -> None:
        """Wake the consumers of sessions that got job messages: directly when held in this
        process (`updates.nudge`: every session is, with the Hub that holds it), else
        through the channel layer."""
        if not sessions or self.loop is None:
            return
        layer = None
        for session in sessions:
            if updates.nudge(self.key, session):
                continue
            layer = layer or get_channel_layer()
            if layer is None:
                return
            task = self.loop.create_task(self._send_wake(layer, session))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send_wake(self, layer: Any, session: str) -> None:
        # The same wake `updates.apush` sends: the consumer drains its outbox in order.
        try:
            async with asyncio.timeout(updates.LAYER_TIMEOUT):
                await layer.group_send(updates.group(self.key, session), updates.WAKE)
        except Exception:
            log.debug("a job wake for %s was not sent", session, exc_info=True)


def _newest_progress(batch: list[JobUpdate]) -> list[JobUpdate]:
    """The batch with each run of progress reports of a job reduced to its newest (a report
    carries the job's whole progress, so the newest says all; the table would coalesce them
    anyway, PHL-JOB-025). Every other update keeps its place."""
    out: list[JobUpdate] = []
    pending: dict[tuple[str, int], int] = {}  # job -> index in out of its latest progress
    for update in batch:
        key = (update.job_id, update.attempt)
        if update.kind == "progress":
            at = pending.get(key)
            if at is not None:
                out[at] = update
                continue
            pending[key] = len(out)
        else:
            pending.pop(key, None)
        out.append(update)
    return out


_bridges: dict[str, Bridge] = {}


def get(key: str = registry.DEFAULT) -> Bridge:
    """This process's bridge for the app served under ``key``."""
    found = _bridges.get(key)
    if found is None or found.served is not registry.get(key):
        found = _bridges[key] = Bridge(key)
    return found


def shutdown() -> None:
    for bridge in list(_bridges.values()):
        if bridge.backend is not None:
            bridge.backend.shutdown()
    _bridges.clear()
