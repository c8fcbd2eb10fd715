"""What the suite knows of components, read from the generated catalog (:mod:`.catalog_gen`,
from the schemas' ``x-phloem`` blocks; the suite imports neither ``phloem`` nor its server).

- :func:`fields` computes a node's semantic-node fields from its projection rules
  (spec/1.0/components/index.md, "The x-phloem block");
- :func:`random_props` draws valid props for a component from its props schema, for the case
  generators' components without a hand-written drawer;
- :func:`choices` lists an enumerated prop's values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from .catalog_gen import COMPONENTS, TYPES

LEAVES = tuple(t for t in TYPES if t != "Column")  # what a Column holds in generated trees
SERVER_ONLY = frozenset({"fallback"})  # props a server sets (PHL-HS-016), never an author


def choices(kind: str, prop: str) -> list[Any]:
    return list(COMPONENTS[kind]["props"][prop]["enum"])


def optional(kind: str) -> tuple[str, ...]:
    """The props a node of ``kind`` may go without (what an ``unset`` may remove)."""
    comp = COMPONENTS[kind]
    return tuple(
        p for p in comp["props"] if p not in comp["required"] and p not in SERVER_ONLY
    )


def fields(
    kind: str,
    props: dict[str, Any],
    displayed: Any = None,
    resolve: Callable[[Any], str | None] = lambda href: href,
) -> dict[str, Any]:
    """The semantic node's fields but ``id``, ``type`` and ``children`` for a node of core type
    ``kind``. ``displayed``: what the user entered into an input (the echo rule), if anything;
    ``resolve``: a URL as the renderer would follow it, None when not allowed (PHL-SEC-003)."""
    comp = COMPONENTS[kind]
    out: dict[str, Any] = {}
    for field, rule in comp["projection"].items():
        if field == "children":
            continue
        if isinstance(rule, str):
            out[field] = rule
        elif "prop" in rule:
            if rule["prop"] in props:
                out[field] = rule.get("prefix", "") + props[rule["prop"]]
        elif "not" in rule:
            out[field] = props.get(rule["not"]) is not True
        elif "present" in rule:
            if rule["present"] in props:
                out[field] = True
        elif "url" in rule:
            href = resolve(props.get(rule["url"]))
            if href is not None:
                out[field] = href
        elif "bound" in rule:
            bound = comp["bound"]
            value = displayed if displayed is not None else props.get(bound["prop"])
            if value is None:
                value = bound.get("default")
            if value is not None:
                out[field] = value
        else:
            raise ValueError(f"{kind}: projection rule {rule!r} for {field} is not defined")
    return out


def random_props(kind: str, rng: random.Random, word: Callable[[], str]) -> dict[str, Any]:
    """Valid props for ``kind``: every required one, each optional one now and then."""
    comp = COMPONENTS[kind]
    out: dict[str, Any] = {}
    for prop, schema in comp["props"].items():
        if prop in SERVER_ONLY or (prop not in comp["required"] and rng.random() >= 0.4):
            continue
        out[prop] = _value(schema, rng, word)
    return out


def _value(schema: dict[str, Any], rng: random.Random, word: Callable[[], str]) -> Any:
    if "enum" in schema:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    if kind == "boolean":
        return rng.random() < 0.5
    if kind in ("integer", "number"):
        low = int(schema.get("minimum", 0))
        return rng.randrange(low, min(int(schema.get("maximum", low + 32)), low + 32) + 1)
    if kind == "string":
        return word()
    raise ValueError(f"no generator for a prop of schema {schema!r}")
