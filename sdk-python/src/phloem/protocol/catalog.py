"""The core component catalog, generated from ``schemas/1.0/components/*.schema.json``
(``x-phloem``, :mod:`phloem.protocol._catalog`): each core type's props schema version, the
events it emits with their value checks, its bound value, and the component negotiation built
on it (PHL-HS-016)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phloem.protocol import _catalog

NO_DEFAULT = _catalog.NO_DEFAULT


@dataclass(frozen=True, slots=True)
class Bound:
    """An input component's bound value: the prop the user edits, the event that carries it,
    and what is shown while the prop is unset (:data:`NO_DEFAULT`: nothing is sent)."""

    prop: str
    event: str
    default: Any


@dataclass(frozen=True, slots=True)
class ComponentInfo:
    version: int  # major version of the props schema
    events: frozenset[str]
    # event name -> (does a value validate against the event's value schema?, in words)
    values: Mapping[str, tuple[Callable[[Any], bool], str]]
    bound: Bound | None = None


CORE: Mapping[str, ComponentInfo] = {
    kind: ComponentInfo(
        version,
        frozenset(_catalog.EVENTS[kind]),
        _catalog.EVENTS[kind],
        Bound(*_catalog.BOUND[kind]) if kind in _catalog.BOUND else None,
    )
    for kind, version in _catalog.VERSIONS.items()
}

# A type outside the catalog (a renderer's plug-in, a fixture's Probe) has no props schema
# here; any declared version of it will do.
_CUSTOM_VERSION = 1


def sent_as_themselves(declared: Mapping[str, int]) -> dict[str, int]:
    """The types of ``hello.components`` the server sends as they are (``welcome.components``):
    those declared with at least the server's major version. Every other type is sent as a
    Column fallback node (PHL-HS-016)."""
    return {
        kind: version
        for kind, version in declared.items()
        if version >= (CORE[kind].version if kind in CORE else _CUSTOM_VERSION)
    }
