"""Helpers for the job tests: a hub whose job table is fed by hand (a test plays the backend),
clients that validate every frame against the 1.1 schemas, and a small app with jobs."""

from __future__ import annotations

import json
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

import orjson
import phloem as ph
from jsonschema import Draft202012Validator
from phloem.jobs import JobUpdate
from phloem.runtime import Connection, Hub, Limits
from phloem.runtime.jobs import Cancel, Command, Submit
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for a 1.1 schema, e.g. ``messages/server-message`` (1.0 files resolve)."""
    resources = []
    for path in [*SCHEMAS.glob("1.0/*/*.schema.json"), *SCHEMAS.glob("1.1/*/*.schema.json")]:
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry = Registry().with_resources(resources)
    schema = registry.contents(f"https://phloem.dev/schemas/1.1/{name}.schema.json")
    return Draft202012Validator(schema, registry=registry)


def assert_valid(name: str, instance: Any) -> None:
    errors = list(validator(name).iter_errors(instance))
    assert not errors, f"{name}: {errors[0].message} in {instance}"


def jobs_app() -> ph.App:
    """A Run button that starts ``crunch``; the page shows the newest run's JobProgress and a
    Text with its state and result (or error). ``boom`` fails the handler after a start."""
    app = ph.App("Jobs")

    @app.job
    def crunch(params: Any, progress: ph.jobs.Reporter) -> Any:
        for i in range(params["steps"]):
            progress(i / params["steps"], stage=f"step {i}")
            progress.log(f"did {i}")
        if params.get("fail"):
            raise ValueError("no convergence")
        return params["steps"] * 10

    @app.job(supersede=True)
    def latest_only(params: Any, progress: ph.jobs.Reporter) -> Any:
        return params

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        params = ui.state("params", {"steps": 3})
        job = crunch.latest(ui)
        kids = [
            ph.Button("Run", id="run", on_click=lambda e: crunch.start(ui, params.value)),
            ph.Button("Again", id="again", on_click=lambda e: latest_only.start(ui, 1)),
            ph.Button("Boom", id="boom", on_click=lambda e: _boom(ui, crunch)),
        ]
        if job is not None:
            kids.append(ph.JobProgress(job, label="Crunching", id="jp"))
            outcome = job.error.message if job.error else job.result
            kids.append(ph.Text(f"{job.state}: {outcome}", id="out"))
        return ph.Column(*kids, id="root")

    return app


def _boom(ui: ph.UI, job: ph.jobs.Job) -> None:
    job.start(ui, {"steps": 1})
    raise RuntimeError("the handler fails after starting a job")


class Client:
    """One connection to a shared hub, with its own owner; every frame is schema-checked."""

    def __init__(self, bench: Bench, owner: str | None, user: Any = None) -> None:
        self.bench = bench
        self.owner = owner
        self.user = user
        self.conn: Connection = bench.hub.connect(bench.now, user=user, owner=owner)
        self.ids = count(1)
        self.token = ""
        self.seq = 0

    def send(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        self.bench.now += 0.01
        out = self.conn.receive(orjson.dumps(msg).decode(), self.bench.now)
        return self._check([orjson.loads(f) for f in out.frames])

    def hello(self, versions: list[str] | None = None, **fields: Any) -> list[dict[str, Any]]:
        msg = {"type": "hello", "versions": versions or ["1.1"], "features": ["jobs"], **fields}
        replies = self.send(msg)
        self.token = replies[0].get("token", self.token)
        return replies

    def click(self, node: str) -> list[dict[str, Any]]:
        return self.send({"type": "event", "id": next(self.ids), "node": node, "name": "click"})

    def cancel(self, job: str) -> list[dict[str, Any]]:
        return self.send({"type": "job.cancel", "id": next(self.ids), "job": job})

    def drain(self) -> list[dict[str, Any]]:
        return self._check([orjson.loads(f) for f in self.conn.drain().frames])

    def reconnect(self, seq: int) -> list[dict[str, Any]]:
        self.conn.disconnect(self.bench.now)
        self.conn = self.bench.hub.connect(self.bench.now, user=self.user, owner=self.owner)
        return self.hello(resume={"token": self.token, "seq": seq})

    def _check(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for msg in messages:
            assert_valid("messages/server-message", msg)
            if "seq" in msg:
                assert msg["seq"] > self.seq or msg["type"] == "welcome", msg
                self.seq = msg["seq"]
        return messages


class Bench:
    """A hub with a fake clock; the test plays the backend: :meth:`commands` takes what the
    runtime asked for, :meth:`report` feeds updates in."""

    def __init__(self, app: ph.App | None = None, limits: Limits | None = None) -> None:
        tokens, jobs = count(1), count(1)
        self.hub = Hub(
            app or jobs_app(),
            limits,
            new_token=lambda: f"token-{next(tokens):012d}",
            new_job_id=lambda: f"job{next(jobs)}",
        )
        self.now = 100.0

    def client(self, owner: str | None = "anon:a", user: Any = None) -> Client:
        return Client(self, owner, user)

    def commands(self) -> list[Command]:
        return self.hub.jobs.commands()

    def submitted(self) -> list[str]:
        return [c.spec.job_id for c in self.commands() if isinstance(c, Submit)]

    def cancels(self) -> list[Cancel]:
        return [c for c in self.commands() if isinstance(c, Cancel)]

    def report(self, job: str, kind: Any, advance: float = 0.0, **fields: Any) -> set[str]:
        self.now += advance
        return self.hub.jobs.apply(JobUpdate(job, kind, **fields), self.now)

    def advance(self, seconds: float) -> set[str]:
        self.now += seconds
        return self.hub.jobs.poll(self.now)


def of_type(messages: list[dict[str, Any]], *types: str) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] in types]
