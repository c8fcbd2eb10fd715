"""Step kinds: one registry, filled by the ``@step`` decorator beside each step's code.

A step kind is one decorated function. The decorator says everything else about it: the roles
it applies to when a step does not say, the JSON Schema of its body, where its nested steps
are (compound steps), what the adapter must be told at ``open`` when a case has it, and its row
in the README's step table. From the registry derive:

- ``step_kind`` and ``applies`` (cases.py, compound.py), the walker ``walk`` (every step at any
  depth) and ``open_fields`` (harnesses.py), the session's dispatch (``run``);
- the case schema's step list (``conformance/schemas/case.schema.json``, ``$defs/step``) and
  the step table in ``conformance/README.md`` (registry_gen.py writes both; a test fails when
  either is stale).

The families (modules of step functions) are imported on first use, not at import time: they
import this module for the decorator.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import Session

Step = Callable[["Session", dict[str, Any]], Awaitable[None]]
Roles = tuple[str, ...]
# The modules whose ``@step`` functions make up the suite's step kinds, in the order the schema
# and the README list them. A new kind in one of them needs nothing else; a new module, a line here.
FAMILIES = ("messages", "actions", "sync", "connections", "compound")
ROLES: Roles = ("server", "sdk", "renderer")


@dataclass(frozen=True)
class Doc:
    """One row of the README's step table: the step's form, and what it does when the runner
    plays the client (server, sdk targets) and the server (renderer target); "—" when nothing."""

    form: str
    as_client: str = "—"
    as_server: str = "—"


@dataclass(frozen=True)
class StepKind:
    name: str
    run: Step
    body: dict[str, Any]  # JSON Schema of the step's value
    roles: Roles | Callable[[Any], Roles] | None  # None: the case's roles
    description: str | None
    extra: dict[str, dict[str, Any]]  # further keys of the step beside the kind (s2c: stimulus)
    nested: Callable[[Any], list[list[dict[str, Any]]]] | None  # the lists of nested steps
    open_fields: dict[str, dict[str, Any]]  # role -> fields of the adapter's `open`
    docs: tuple[Doc, ...]
    order: tuple[int, int] = field(default=(0, 0), compare=False)


REGISTRY: dict[str, StepKind] = {}
_loaded = False
_ordered: dict[str, StepKind] | None = None


def step(
    name: str,
    *,
    body: dict[str, Any],
    docs: list[Doc],
    roles: Roles | Callable[[Any], Roles] | None = None,
    description: str | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
    nested: Callable[[Any], list[list[dict[str, Any]]]] | None = None,
    open_fields: dict[str, dict[str, Any]] | None = None,
) -> Callable[[Step], Step]:
    """Registers the decorated function as the runner of steps ``{name: BODY}``."""

    def register(run: Step) -> Step:
        global _ordered
        if name in REGISTRY and REGISTRY[name].run is not run:
            raise ValueError(f"step kind {name!r} registered twice")
        family = run.__module__.rsplit(".", 1)[-1]
        # A kind defined elsewhere (a test's) comes after the suite's own.
        rank = FAMILIES.index(family) if family in FAMILIES else len(FAMILIES)
        REGISTRY[name] = StepKind(
            name,
            run,
            body,
            roles,
            description,
            extra or {},
            nested,
            open_fields or {},
            tuple(docs),
            (rank, run.__code__.co_firstlineno),
        )
        _ordered = None
        return run

    return register


def kinds() -> dict[str, StepKind]:
    """Every step kind, in the families' order, then the order of definition."""
    global _loaded, _ordered
    if not _loaded:
        for family in FAMILIES:
            importlib.import_module(f"{__package__}.{family}")
        _loaded = True
    if _ordered is None:
        _ordered = dict(sorted(REGISTRY.items(), key=lambda item: item[1].order))
    return _ordered


def step_kind(step: dict[str, Any]) -> str:
    """The kind of a step: its one key that names a kind (the case schema allows one)."""
    known = kinds()
    for key in step:
        if key in known:
            return key
    raise KeyError(f"a step of no known kind (keys {sorted(step)})")


def default_roles(kind: str, step: dict[str, Any], case_roles: list[str]) -> Roles | list[str]:
    """The roles a step applies to when it does not say."""
    roles = kinds()[kind].roles
    if roles is None:
        return case_roles
    return roles(step[kind]) if callable(roles) else roles


def applies(step: dict[str, Any], role: str, case_roles: list[str]) -> bool:
    kind = step_kind(step)
    return role in step.get("roles", default_roles(kind, step, case_roles))


def walk(steps: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, step) of every step, nested ones after the compound step that holds them."""
    known = kinds()
    for one in steps:
        kind = step_kind(one)
        yield kind, one
        nested = known[kind].nested
        if nested is not None:
            for inner in nested(one[kind]):
                yield from walk(inner)


def open_fields(steps: list[dict[str, Any]], role: str, case_roles: list[str]) -> dict[str, Any]:
    """What the adapter's ``open`` must carry for a case (a renderer's controllable clock when
    a ``control`` step applies to it): the ``open_fields`` of every step kind it holds."""
    out: dict[str, Any] = {}
    known = kinds()
    for kind, one in walk(steps):
        wanted = known[kind].open_fields.get(role)
        if wanted and applies(one, role, case_roles):
            out.update(wanted)
    return out


async def run(session: Session, kind: str, step: dict[str, Any]) -> None:
    await kinds()[kind].run(session, step)
