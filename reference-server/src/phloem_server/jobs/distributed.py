"""The scaled-out job backend: Celery with a Redis broker, used as a plain executor
(jobs-anchors §5). The Job table, not Celery's state, is the truth; progress goes from the
worker to every server process holding a session of the job's owner through the Redis
channel layer (group per owner, `bridge.owner_group`).

In the worker, the Celery task claims the job (a conditional UPDATE: a duplicate delivery
loses and returns), forks the job into its own process group, and supervises it: it records
and publishes the child's reports, renews the lease every heartbeat, polls the cancel key,
and stops the child's group hard (SIGTERM, then SIGKILL) ``grace`` seconds after a cancel.
The task never uses ``revoke(terminate)``, which would signal a pool process that may have
moved on to another task (Celery's own warning).

Acks are late (``task_acks_late``): a message whose worker host dies before the task returns
is redelivered once its visibility timeout passes, and its claim succeeds only for a job the
app declared safe to retry whose lease has expired. A killed pool process is acked anyway
(``task_reject_on_worker_lost`` off: no redelivery loops); the servers' reaper sees its lease
expire and reports the job ``interrupted``, or queues attempt + 1 when retrying is safe."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import os
import pickle
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from typing import Any

from phloem.jobs import TERMINAL, JobOptions, JobSpec, JobUpdate

from . import backends, store
from .mirror import Mirror

log = logging.getLogger(__name__)
QUEUE = "phloem.jobs"
TASK = "phloem.run_job"
PING = "phloem.ping"  # a no-op task: is a worker there, and how long is a round trip
TICK = 0.05  # seconds: how often the task polls its child's reports and the cancel key
KILL_AFTER = 2.0  # seconds between SIGTERM and SIGKILL (design §7)
RETRIES = 3  # attempts of a job declared safe to retry
# A late-acked message is redelivered after this; longer than any job should run, so that a
# living worker's job is never run twice (jobs-anchors §1: duplicates after an hour).
VISIBILITY = 24 * 3600


def cancel_key(job_id: str) -> str:
    return f"phloem:job:{job_id}:cancel"


def redis_url() -> str:
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    url = getattr(settings, "PHLOEM_REDIS_URL", None) or os.environ.get("PHLOEM_REDIS_URL")
    if not url:
        raise ImproperlyConfigured("PHLOEM_JOBS=celery needs PHLOEM_REDIS_URL (the broker)")
    return str(url)


_app: Any = None
_lock = threading.Lock()


def celery_app() -> Any:
    global _app
    with _lock:
        if _app is None:
            from celery import Celery

            app = Celery("phloem", broker=redis_url(), set_as_current=False)
            app.conf.update(
                task_acks_late=True,
                task_reject_on_worker_lost=False,
                worker_prefetch_multiplier=1,
                worker_disable_prefetch=True,  # no message waits unacked behind a long job
                broker_transport_options={"visibility_timeout": VISIBILITY},
                broker_connection_retry_on_startup=True,
                task_default_queue=QUEUE,
                task_ignore_result=True,
                worker_hijack_root_logger=False,
            )
            app.task(name=TASK, acks_late=True)(run_job)
            app.task(name=PING)(ping)
            _app = app
        return _app


# --- publishing (worker and servers) ---------------------------------------------------------


def publish(owner: str, update: JobUpdate) -> None:
    """Send an update to every server process holding a session of ``owner``. A result stays
    in the Job table (it may be large); servers read it from there."""
    from channels.layers import get_channel_layer

    from .bridge import MESSAGE, owner_group

    if update.kind == "succeeded":
        update = dataclasses.replace(update, result=None)
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": MESSAGE, "update": pickle.dumps(update)}
    try:
        sent = asyncio.run_coroutine_threadsafe(
            layer.group_send(owner_group(owner), message), _publishing_loop()
        )
        sent.result(PUBLISH_TIMEOUT)
    except Exception:  # at-most-once anyway: the bridge reconciles with the table
        log.warning("could not publish an update of job %s", update.job_id, exc_info=True)


PUBLISH_TIMEOUT = 5.0  # seconds: a Redis that stopped answering must not stall the job's task
_loop: tuple[int, asyncio.AbstractEventLoop] | None = None


def _publishing_loop() -> asyncio.AbstractEventLoop:
    """One event loop per process, on a thread of its own, so the channel layer keeps its
    Redis connections between updates (async_to_sync would open a loop, and a connection
    pool, per call: milliseconds each)."""
    global _loop
    with _lock:
        if _loop is None or _loop[0] != os.getpid():  # none yet, or inherited through fork
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="phloem-publish", daemon=True).start()
            _loop = (os.getpid(), loop)
        return _loop[1]


# --- the server side --------------------------------------------------------------------------


class CeleryBackend:
    """Submits to Celery and cancels through the Job table and a Redis key; reaps the jobs of
    dead workers. Its calls return at once: the work runs on one thread of its own."""

    def __init__(self, sink: Callable[[JobUpdate], None], app_path: str) -> None:
        import redis

        self.sink = sink
        self.app_path = app_path
        self.celery = celery_app()
        self.redis = redis.Redis.from_url(redis_url(), socket_timeout=5)
        self.lease = backends.option("PHLOEM_JOB_LEASE", 30.0)
        self.reap_every = backends.option("PHLOEM_JOB_REAP", 10.0)
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="phloem-celery")
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap_loop, name="phloem-reaper", daemon=True)
        self._reaper.start()

    def submit(self, spec: JobSpec) -> None:
        self._pool.submit(self._logged, self._submit, spec)

    def cancel(self, job_id: str, grace: float) -> None:
        self._pool.submit(self._logged, self._cancel, job_id)

    def shutdown(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=True)

    @staticmethod
    def _logged(fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("job backend call %s failed", fn.__name__)

    def _submit(self, spec: JobSpec) -> None:
        store.create(
            spec.job_id, spec.owner, self.app_path, spec.name, spec.params,
            backend="celery", retry_safe=spec.options.retry,
            max_attempts=RETRIES if spec.options.retry else 1, grace=spec.options.grace,
        )  # fmt: skip
        send(spec.job_id, spec.attempt)

    def _cancel(self, job_id: str) -> None:
        store.flag_cancel(job_id)
        job = store.get(job_id)
        if job is None:
            return
        if job.state == store.State.CANCELLED and job.started is None:
            # It never started: cancelled here, and no worker will claim it.
            publish(job.owner, JobUpdate(job_id, "cancelled", max(1, job.attempt + 1)))
            return
        self.redis.set(cancel_key(job_id), "1", ex=VISIBILITY)

    def _reap_loop(self) -> None:
        while not self._stop.wait(self.reap_every):
            try:
                reap(self.lease)
            except Exception:
                log.exception("the job reaper failed; it tries again")


def send(job_id: str, attempt: int) -> None:
    celery_app().send_task(TASK, args=[job_id, attempt], task_id=f"{job_id}-{attempt}")


def reap(lease: float) -> list[str]:
    """Jobs whose worker stopped renewing its lease: cancelled if a cancel was asked, queued
    again when retrying is safe, else interrupted. Every server runs this; the conditional
    updates let exactly one of them act on a job. The job ids acted on."""
    acted = []
    for job in store.expired(["celery"], lease):
        if job.cancel_requested is not None:
            state = "cancelled" if store.finish(job.id, job.attempt, "cancelled") else ""
        elif store.requeue(job.id, job.attempt):
            send(job.id, job.attempt + 1)
            state = "queued"
        else:
            state = "interrupted" if store.finish(job.id, job.attempt, "interrupted") else ""
        if state in TERMINAL:
            log.warning("job %s (%s): its worker stopped answering; %s", job.id, job.name, state)
            publish(job.owner, JobUpdate(job.id, state, job.attempt))  # type: ignore[arg-type]
        if state:
            acted.append(job.id)
    return acted


def ping(reply: str) -> None:
    """The no-op task: answers on the Redis list ``reply``."""
    import redis

    with redis.Redis.from_url(redis_url(), socket_timeout=5) as client:
        client.lpush(reply, "pong")
        client.expire(reply, 60)


# --- the worker side --------------------------------------------------------------------------

_loaded: dict[str, Any] = {}


def _load(path: str) -> Any:
    if path not in _loaded:
        import phloem as ph

        _loaded[path] = ph.load_app(path)
    return _loaded[path]


def run_job(job_id: str, attempt: int) -> str:
    """The Celery task: run one attempt of a job, supervising it in a child process."""
    import redis

    name = f"{socket.gethostname()}:{os.getpid()}"
    lease = backends.option("PHLOEM_JOB_LEASE", 30.0)
    if not store.claim(job_id, attempt, name, lease=lease):
        return "not claimed"  # cancelled while queued, a duplicate, or another's now
    job = store.get(job_id)
    assert job is not None
    options = JobOptions(grace=job.grace, retry=job.retry_safe)
    spec = JobSpec(job_id, job.name, store.params(job), job.owner, job.app, attempt, options)
    client = redis.Redis.from_url(redis_url(), socket_timeout=5)
    try:
        return _Supervisor(spec, client).run(_load(job.app))
    finally:
        client.close()


class _Supervisor:
    def __init__(self, spec: JobSpec, client: Any) -> None:
        self.spec = spec
        self.redis = client
        self.heartbeat = backends.option("PHLOEM_JOB_HEARTBEAT", 1.0)
        self.mirror = Mirror(self.heartbeat)
        self.stop_at: float | None = None
        self.kill_at: float | None = None
        self.ended = False
        self.fenced = False

    def emit(self, update: JobUpdate) -> None:
        if update.kind in TERMINAL:  # durable first: published once recorded
            if self.mirror.record(update):
                publish(self.spec.owner, update)
            self.ended = True
            return
        # A report is published at once (the claim made the row durable before the job ran);
        # its row follows, at most a heartbeat old. A refused write: the job is not ours.
        publish(self.spec.owner, update)
        if not self.mirror.record(update):
            self.fenced = True

    def run(self, app: Any) -> str:
        pid, conn = _fork(app, self.spec)
        next_beat = time.monotonic() + self.heartbeat
        try:
            while not self.ended:
                if conn in wait([conn], TICK):
                    self._drain(conn)
                if self.ended:
                    break
                if self.fenced:  # the reaper gave the job up: stop at once
                    _killpg(pid, signal.SIGKILL)
                    return "fenced"
                if _exited(pid):
                    self._drain(conn)
                    if not self.ended:
                        self._died()
                    break
                now = time.monotonic()
                if now >= next_beat:
                    next_beat = now + self.heartbeat
                    flag = self.mirror.beat(self.spec.job_id, self.spec.attempt)
                    if flag is None:  # the reaper gave the job up: stop at once
                        _killpg(pid, signal.SIGKILL)
                        return "fenced"
                    if flag:
                        self._cancel(conn)
                if self.stop_at is None and self.redis.exists(cancel_key(self.spec.job_id)):
                    self._cancel(conn)
                self._hard_stop(pid, now)
        finally:
            _killpg(pid, signal.SIGKILL)  # nothing of the job outlives its task
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            conn.close()
        return "done"

    def _drain(self, conn: Connection) -> None:
        while not self.ended:
            try:
                if not conn.poll():
                    return
                msg = conn.recv()
            except (EOFError, OSError):
                return
            if msg[0] == "update":
                self.emit(msg[1])

    def _cancel(self, conn: Connection) -> None:
        if self.stop_at is not None:
            return
        store.flag_cancel(self.spec.job_id)
        with contextlib.suppress(OSError):
            conn.send(("cancel", self.spec.job_id))
        self.stop_at = time.monotonic() + self.spec.options.grace

    def _hard_stop(self, pid: int, now: float) -> None:
        if self.kill_at is not None and now >= self.kill_at:
            _killpg(pid, signal.SIGKILL)
        elif self.stop_at is not None and self.kill_at is None and now >= self.stop_at:
            _killpg(pid, signal.SIGTERM)
            self.kill_at = now + KILL_AFTER

    def _died(self) -> None:
        spec = self.spec
        self.mirror.forget(spec.job_id, spec.attempt)
        if self.stop_at is not None:
            state = "cancelled"
        elif store.requeue(spec.job_id, spec.attempt):
            send(spec.job_id, spec.attempt + 1)
            self.ended = True
            return
        else:
            state = "interrupted"
        if store.finish(spec.job_id, spec.attempt, state):
            publish(spec.owner, JobUpdate(spec.job_id, state, spec.attempt))  # type: ignore[arg-type]
        self.ended = True


def _fork(app: Any, spec: JobSpec) -> tuple[int, Connection]:
    """Run the job in a forked child (the app is already loaded here) that leads its own
    process group; the child ends, group and all, when this task's end of the pipe closes."""
    from . import worker

    parent, child = Pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            parent.close()
            os.setpgrp()
            worker.serve_one(child, app, spec)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    child.close()
    return pid, parent


def _exited(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _killpg(pid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, sig)
