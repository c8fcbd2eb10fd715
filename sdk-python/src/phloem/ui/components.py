"""Authoring-time components: what a page function returns.

An :class:`Element` is cheap and throwaway: the page function builds a fresh tree of them on
every render, and :func:`phloem.ui.render.render` turns it into protocol nodes with ids and a
handler table. Props that are left at their default are not sent, to keep frames small.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phloem.protocol._catalog import COMPONENT_TYPE_PATTERN, NODE_ID_PATTERN, PROPS
from phloem.protocol.catalog import CORE
from phloem.ui._props import ButtonVariant, ColumnAlign, TextVariant

_NODE_ID = re.compile(NODE_ID_PATTERN)  # PHL-TREE-002
_TYPE = re.compile(COMPONENT_TYPE_PATTERN)  # PascalCase (node schema)
_EVENT = re.compile(r"[a-z][a-z0-9_]{0,63}")
_CORE_TYPES = frozenset(PROPS)  # the catalog's types, which match _TYPE
_CORE_EVENTS = frozenset(name for info in CORE.values() for name in info.events)


@dataclass(frozen=True, slots=True)
class Event:
    """What a handler receives: the node the user acted on, the event name and its value."""

    node: str
    name: str
    value: Any = None


Handler = Callable[[Event], object]
_NO_HANDLERS: dict[str, Handler] = {}


class Element:
    """A component instance in an authored tree. Use :class:`Component` for a type the SDK has
    no helper for; ``Column``, ``Text``, ``Button``, ``TextInput`` and ``Link`` build the core
    components."""

    __slots__ = ("children", "handlers", "id", "props", "type")

    def __init__(
        self,
        type: str,
        props: Mapping[str, Any] | None = None,
        children: tuple[Element, ...] = (),
        id: str | None = None,
        handlers: Mapping[str, Handler] | None = None,
    ) -> None:
        # A page function builds its whole tree on every render: the catalog's own types and
        # event names are known good, so only other ones are matched against their patterns.
        if type not in _CORE_TYPES and not _TYPE.fullmatch(type):
            raise ValueError(f"component type {type!r} must be PascalCase letters and digits")
        if id is not None and not _NODE_ID.fullmatch(id):
            raise ValueError(f"node id {id!r} must be 1-128 characters from A-Z a-z 0-9 _ . : / -")
        for child in children:
            if not isinstance(child, Element):
                raise TypeError(f"a child of {type} must be a component, not {child!r}")
        self.type = type
        self.props = props
        self.children = children
        self.id = id
        if not handlers:
            self.handlers = _NO_HANDLERS  # shared and never written: render only reads it
            return
        self.handlers = {k: v for k, v in handlers.items() if v is not None}
        for name in self.handlers:
            if name not in _CORE_EVENTS and not _EVENT.fullmatch(name):
                raise ValueError(f"event name {name!r} must be lower_snake_case")

    def __repr__(self) -> str:
        return f"{self.type}(id={self.id!r}, props={self.props!r}, {len(self.children)} children)"


def checked(type: str, props: dict[str, Any]) -> dict[str, Any]:
    """``props`` of a core component, each checked against its props schema when authored, so
    a wrong value fails here with the prop's name, not later on the wire."""
    checks = PROPS[type]
    for name, value in props.items():
        check = checks.get(name)
        if check is not None and not check[0](value):
            raise ValueError(f"{type}: {name} must be {check[1]}, not {value!r}")
    return props


def Component(
    type: str,
    props: Mapping[str, Any] | None = None,
    *children: Element,
    id: str | None = None,
    on: Mapping[str, Handler] | None = None,
) -> Element:
    """Any component type, e.g. one a renderer plugs in: ``Component("Sparkline",
    {"values": [1, 2, 3]})``. ``on`` maps event names to handlers."""
    return Element(type, props, children, id, on)


def Column(
    *children: Element,
    id: str | None = None,
    gap: float | None = None,
    align: ColumnAlign | None = None,
) -> Element:
    """Children laid out top to bottom (PHL-COMP-010)."""
    props: dict[str, Any] = {}
    if gap is not None:
        props["gap"] = gap
    if align is not None:
        props["align"] = align
    return Element("Column", checked("Column", props), children, id)


def Text(text: str, id: str | None = None, variant: TextVariant | None = None) -> Element:
    """Plain text, never interpreted as markup (PHL-COMP-011)."""
    props: dict[str, Any] = {"text": str(text)}
    if variant is not None:
        props["variant"] = variant
    return Element("Text", checked("Text", props), (), id)


def Button(
    label: str,
    id: str | None = None,
    on_click: Handler | None = None,
    disabled: bool = False,
    variant: ButtonVariant | None = None,
) -> Element:
    """A button; ``on_click`` runs when the user presses it (PHL-COMP-012)."""
    props: dict[str, Any] = {"label": str(label)}
    if disabled:
        props["disabled"] = True
    if variant is not None:
        props["variant"] = variant
    return Element("Button", checked("Button", props), (), id, {"click": on_click} if on_click else None)


def TextInput(
    label: str,
    id: str | None = None,
    value: str | None = None,
    on_change: Handler | None = None,
    placeholder: str | None = None,
    disabled: bool = False,
) -> Element:
    """A single-line text field (PHL-COMP-019). ``on_change`` receives the field's complete
    text as ``event.value``. Leave ``value`` unset and the session keeps what the user typed
    (by node id), so the field never snaps back (PHL-COMP-022); set it to show the app's own
    value (e.g. ``value=name.value`` with ``on_change=lambda e: name.set(e.value)``)."""
    props: dict[str, Any] = {"label": str(label)}
    if value is not None:
        props["value"] = str(value)
    if placeholder is not None:
        props["placeholder"] = str(placeholder)
    if disabled:
        props["disabled"] = True
    return Element(
        "TextInput", checked("TextInput", props), (), id, {"change": on_change} if on_change else None
    )


def Link(text: str, href: str, id: str | None = None) -> Element:
    """A hyperlink, opened in a new tab; a renderer shows it as plain text when the URL's
    scheme is not http, https or mailto (PHL-COMP-023, PHL-SEC-003)."""
    return Element("Link", checked("Link", {"text": str(text), "href": str(href)}), (), id)
