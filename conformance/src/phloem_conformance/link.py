"""One connection of a case and the runner's view of the session behind it."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from .channels import Channel
from .tree import Tree

MAIN = "main"  # the name of the case's first connection (`on: main`)


@dataclass
class Link:
    """One connection of the case and what the runner knows of the session behind it."""

    name: str
    channel: Channel
    tree: Tree = field(default_factory=Tree)
    next_seq: int = 1  # the server's next seq (checked as client, assigned as server)
    last_hello: dict[str, Any] | None = None  # the runner's latest hello on it (as client)
    history: dict[int, tuple[Any, Any]] = field(
        default_factory=dict
    )  # seq -> tree after it (resume)
    welcomed: bool = False
    before: Any = None  # the reference tree before the latest message (for `$reduced`)
    token: str | None = None  # the resume token of the session it is attached to (as client)
    max_frame_bytes: int | None = None  # announced to a renderer in the runner's welcome
    # Messages already received, checked and applied, but not yet consumed by a step (the
    # look-ahead of a `repeat` with a range).
    pending: collections.deque[dict[str, Any]] = field(default_factory=collections.deque)
