"""Test helpers for the SDK tests: the JSON Schemas of schemas/1.0, and a runtime driven by
hand. A module of its own (not conftest) so that no other test tree's conftest can shadow it."""

from __future__ import annotations

import json
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import phloem as ph
from jsonschema import Draft202012Validator
from phloem.runtime import Connection, Hub, Limits, Output
from referencing import Registry, Resource

REPO = Path(__file__).resolve().parents[2]
SCHEMAS = REPO / "schemas" / "1.0"
BASE = "https://phloem.dev/schemas/1.0/"


@cache
def registry() -> Registry:
    resources = []
    for path in SCHEMAS.glob("*/*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """Validator for e.g. ``messages/server-message`` or ``defs/patch-op``."""
    uri = f"{BASE}{name}.schema.json"
    schema = registry().contents(uri)
    return Draft202012Validator(schema, registry=registry())


@cache
def ecma_validator(name: str) -> jsonschema_rs.Validator:
    """As :func:`validator`, but judging ``pattern`` with ECMA-262 regular expressions as JSON
    Schema says: Python's ``re`` lets ``$`` match before a final newline (``"ok\n"`` passes
    ``^[a-z]+$``), which the SDK and jsonschema_rs rightly refuse. For property tests that hold
    a hand check to the schema on arbitrary strings."""
    by_id = {}
    for path in SCHEMAS.glob("*/*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        by_id[schema["$id"]] = schema
    return jsonschema_rs.validator_for(
        by_id[f"{BASE}{name}.schema.json"], retriever=by_id.__getitem__
    )


def assert_valid(name: str, instance: Any) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda e: e.path)
    assert not errors, f"{name}: {errors[0].message} in {instance}"


def counter_app() -> ph.App:
    app = ph.App("Counter")

    @app.page("/")
    def home(ui: ph.UI) -> ph.Element:
        count = ui.state("count", 0)
        return ph.Column(
            ph.Text(f"Count: {count.value}", id="count"),
            ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
        )

    return app


class Wire:
    """A hub and one connection, with a fake clock; checks every server frame against the
    server-message schema as it passes."""

    def __init__(
        self, app: ph.App | None = None, limits: Limits | None = None, user: Any = None
    ) -> None:
        tokens = count(1)
        self.hub = Hub(app or counter_app(), limits, new_token=lambda: f"token-{next(tokens):012d}")
        self.now = 100.0
        self.conn: Connection = self.hub.connect(self.now, user)
        self.last: Output = Output([])

    def raw(self, frame: str | bytes, step: float = 0.1) -> list[dict[str, Any]]:
        self.now += step
        self.last = self.conn.receive(frame, self.now)
        messages = [orjson.loads(f) for f in self.last.frames]
        for msg in messages:
            assert_valid("messages/server-message", msg)
        return messages

    def send(self, msg: dict[str, Any], step: float = 0.1) -> list[dict[str, Any]]:
        return self.raw(orjson.dumps(msg).decode(), step)

    def hello(self, **fields: Any) -> list[dict[str, Any]]:
        return self.send({"type": "hello", "versions": ["1.0"], **fields})

    def click(
        self, event_id: int, node: str = "inc", step: float = 0.1, **fields: Any
    ) -> list[dict[str, Any]]:
        msg = {"type": "event", "id": event_id, "node": node, "name": "click", **fields}
        return self.send(msg, step)

    def reconnect(self, user: Any = None) -> None:
        self.conn.disconnect(self.now)
        self.conn = self.hub.connect(self.now, user)

    def other(self, user: Any = None) -> Wire:
        """A second client of the same hub (another browser), sharing the clock."""
        peer = Wire.__new__(Wire)
        peer.hub, peer.now, peer.last = self.hub, self.now, Output([])
        peer.conn = self.hub.connect(self.now, user)
        return peer

    def drain(self) -> list[dict[str, Any]]:
        """Frames of server-initiated updates queued for this connection."""
        messages = [orjson.loads(f) for f in self.conn.drain().frames]
        for msg in messages:
            assert_valid("messages/server-message", msg)
        return messages
