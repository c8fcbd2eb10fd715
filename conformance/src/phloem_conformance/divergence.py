"""What a case run reports when the IUT does not do what the case says, and why it may not run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .matching import Bindings


@dataclass
class Divergence:
    step: int  # index into the case's steps; -1 for the connection itself
    kind: str
    pointer: str
    expected: Any
    actual: Any
    reason: str
    received: Any = None
    within: str = ""  # inside a compound step: "/any_order/1", "/repeat/steps/0 (iteration 3)"...
    connection: str | None = (
        None  # the connection (`on:`) the step was on, when the case has several
    )

    def to_json(self, bindings: Bindings | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "step": self.step,
            "kind": self.kind,
            "pointer": self.pointer,
            "expected": self.expected,
            "actual": self.actual,
            "reason": self.reason,
            "bindings": dict(bindings.values) if bindings else {},
        }
        if self.received is not None:
            out["received"] = self.received
        if self.within:
            out["within"] = self.within
        if self.connection is not None:
            out["connection"] = self.connection
        return out


class Diverged(Exception):
    def __init__(self, divergence: Divergence) -> None:
        super().__init__(divergence.reason)
        self.divergence = divergence


class Silence(Diverged):
    """Nothing came where a message was expected: no frame within the timeout, nothing pending
    from a sans-IO SDK, or the connection closed. A look-ahead (``peek``) takes it as "no
    message"; every other divergence (a malformed, oversized or schema-invalid frame) stands."""


class ControlUnsupported(Exception):
    """The adapter cannot perform a ``control`` step (e.g. it cannot move the IUT's clock), or
    open a second connection: the case cannot be run against this adapter, which says nothing
    about the IUT."""
