"""Bound values: the one behaviour every input component shares, declared by its schema.

An input component's ``x-phloem.bound`` names the prop the user edits (``value``), the event
that carries its new value (``change``) and the value's schema (that event's). Nothing here
knows a component by name: TextInput, and every input added to the catalog after it, gets

- the event value checked against the event's value schema, answered with ``invalid_message``
  when it does not validate (PHL-EVT-003);
- the value the user sent kept by the session per node id and sent back as the prop while the
  app leaves it unset, so the field never snaps back (PHL-COMP-022).

The renderer's half, the echo rule (PHL-COMP-021), is driven by the same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from phloem.protocol.catalog import CORE, NO_DEFAULT, Bound
from phloem.protocol.errors import RemoteProtocolError

Values = dict[str, Any]  # node id -> the bound value the user last sent
BOUND: Mapping[str, Bound] = {k: v.bound for k, v in CORE.items() if v.bound is not None}


def check_event(kind: str, name: str, value: Any, event_id: int) -> bool:
    """Raise ``invalid_message`` when ``value`` does not validate against the value schema of
    ``kind``'s event ``name``; True when the event sets ``kind``'s bound value. A type outside
    the catalog (a custom component) defines its own values: nothing is checked."""
    info = CORE.get(kind)
    if info is None:
        return False
    accepts, words = info.values[name]
    if not accepts(value):
        raise RemoteProtocolError(
            "invalid_message",
            f"the value of {kind}'s {name} event must be {words}",
            event=event_id,
        )
    return info.bound is not None and info.bound.event == name


def with_bound(
    kind: str, node_id: str, props: Mapping[str, Any] | None, values: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """``props`` with the bound value filled in when the app leaves it unset: what the user
    last sent, else the declared default (PHL-COMP-022). Bound props the app sets win."""
    bound = BOUND.get(kind)  # every node is rendered through here: one lookup for most
    if bound is None or (props is not None and bound.prop in props):
        return props
    value = values.get(node_id, bound.default)
    if value is NO_DEFAULT:
        return props
    return {**(props or {}), bound.prop: value}
