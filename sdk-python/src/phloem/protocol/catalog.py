"""The core component catalog: each core type's props schema version and the events it emits,
as ``schemas/1.0/components/*.schema.json`` state them (``x-phloem``; a test keeps the two
equal), and the component negotiation built on it (PHL-HS-016)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ComponentInfo:
    version: int  # major version of the props schema
    events: frozenset[str]


CORE: Mapping[str, ComponentInfo] = {
    "Column": ComponentInfo(1, frozenset()),
    "Text": ComponentInfo(1, frozenset()),
    "Button": ComponentInfo(1, frozenset({"click"})),
    "TextInput": ComponentInfo(1, frozenset({"change"})),
    "Link": ComponentInfo(1, frozenset()),
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
