"""Compile the small JSON Schemas of the catalog (event values, component props) to Python
checks and to the words an author reads in an error message.

Only the keywords a component's scalar props and event values need are supported; any other
keyword fails generation loudly (:class:`Unsupported`), so a schema is never checked more
loosely in code than it reads. Checks are plain expressions over ``v``: they run on the hot path
(every event value, every authored prop), where a generic validator would cost more than the
handler.
"""

from __future__ import annotations

from typing import Any

ANNOTATIONS = frozenset({"description", "title", "$comment", "examples", "default", "deprecated"})
SUPPORTED = ANNOTATIONS | {"type", "enum", "minLength", "maxLength", "minimum", "maximum", "pattern"}

# JSON Schema "integer" accepts 2.0 (2020-12, section 6.1.1), as orjson may hand it over.
_TYPE_CHECK = {
    "string": "isinstance(v, str)",
    "boolean": "type(v) is bool",
    "integer": "(type(v) is int or (type(v) is float and v.is_integer()))",
    "number": "type(v) in (int, float)",
    "null": "v is None",
    "array": "isinstance(v, list)",
    "object": "isinstance(v, dict)",
}
_TYPE_WORDS = {
    "string": "a string",
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
    "array": "a list",
    "object": "an object",
}
PY_TYPES = {
    "string": "str",
    "boolean": "bool",
    "integer": "int",
    "number": "float",
    "null": "None",
    "array": "list[Any]",
    "object": "dict[str, Any]",
}
TS_TYPES = {
    "string": "string",
    "boolean": "boolean",
    "integer": "number",
    "number": "number",
    "null": "null",
    "array": "unknown[]",
    "object": "Record<string, unknown>",
}


class Unsupported(ValueError):
    """A schema uses a keyword the catalog compiler does not implement."""


def check(schema: Any, where: str) -> tuple[str, str]:
    """``(expression over v, what v must be in words)`` for ``schema``."""
    if schema is True or schema == {} or (
        isinstance(schema, dict) and set(schema) <= ANNOTATIONS
    ):
        return "True", "any value"
    if not isinstance(schema, dict):
        raise Unsupported(f"{where}: a value schema is a JSON object, not {schema!r}")
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise Unsupported(f"{where}: keywords {sorted(unknown)} are not supported by the catalog")
    parts: list[str] = []
    words: list[str] = []
    kind = schema.get("type")
    if "enum" in schema:
        values = schema["enum"]
        kinds = {type(x) for x in values}
        if kinds == {str}:
            parts.append("isinstance(v, str)")
        elif kinds == {int}:
            parts.append("type(v) is int")
        else:
            raise Unsupported(f"{where}: an enum holds strings only or integers only")
        parts.append(f"v in {tuple(values)!r}")
        words.append("one of " + ", ".join(repr(x) for x in values))
    elif kind is not None:
        if kind not in _TYPE_CHECK:
            raise Unsupported(f"{where}: type {kind!r} (a single type name is supported)")
        parts.append(_TYPE_CHECK[kind])
        words.append(_TYPE_WORDS[kind])
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        parts.append(f"v >= {low!r}")
    if high is not None:
        parts.append(f"v <= {high!r}")
    if low is not None and high is not None:
        words.append(f"from {low} to {high}")
    elif low is not None:
        words.append(f"of at least {low}")
    elif high is not None:
        words.append(f"of at most {high}")
    short, long = schema.get("minLength"), schema.get("maxLength")
    if short is not None:
        parts.append(f"len(v) >= {short}")
    if long is not None:
        parts.append(f"len(v) <= {long}")
    if short is not None and long is not None:
        words.append(f"of {short} to {long} characters")
    elif long is not None:
        words.append(f"of at most {long} characters")
    elif short is not None:
        words.append(f"of at least {short} characters")
    if "pattern" in schema:
        parts.append(f"_re.search({schema['pattern']!r}, v) is not None")
        words.append(f"matching {schema['pattern']}")
    if (low is not None or high is not None) and kind not in ("integer", "number"):
        raise Unsupported(f"{where}: minimum/maximum need type integer or number")
    if (short is not None or long is not None or "pattern" in schema) and kind != "string":
        raise Unsupported(f"{where}: minLength/maxLength/pattern need type string")
    return " and ".join(parts) or "True", " ".join(words)


def py_type(schema: Any, alias: str | None = None) -> str:
    """The annotation an authoring helper gives a prop of ``schema``."""
    if alias is not None:
        return alias
    if isinstance(schema, dict) and isinstance(schema.get("type"), str):
        return PY_TYPES[schema["type"]]
    return "Any"


def literal(schema: Any) -> str | None:
    """``Literal[...]`` for an enum prop, else None."""
    if isinstance(schema, dict) and "enum" in schema:
        return "Literal[" + ", ".join(repr(x) for x in schema["enum"]) + "]"
    return None
