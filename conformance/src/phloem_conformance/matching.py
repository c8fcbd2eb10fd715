"""Pattern matching for expectations, and substitution for stimuli.

A pattern is JSON with a few reserved forms (the ``$`` prefix is reserved; ``$$`` escapes it):

- objects match by subset: every key of the pattern must match, extra keys are allowed;
- arrays match in order and length;
- scalars match by value (numbers numerically, ``true`` is not ``1``);
- ``"$bind:x"`` captures the value on first sight, ``"$ref:x"`` must equal it later;
- ``"$rebind:x"`` captures the value whether or not ``x`` is bound, replacing what ``x`` held: a
  value the implementation may either keep or change (a resume token the server may rotate,
  PHL-DELIV-004), which ``$bind`` could not capture twice (it would demand the same value);
- matcher objects: ``{$any: true}``, ``{$type: T}``, ``{$re: R}``, ``{$num: [lo, hi]}`` (a bound may be ``$ref:x``),
  ``{$absent: true}`` (as an object member), ``{$contains: [p, ...]}``, ``{$not: p}`` (as an
  object member it also matches an absent member), and the long form
  ``{$bind: x, ...matchers}`` (``{$rebind: x, ...}`` likewise). A matcher object may carry ``$stimulus: value``, the value the
  runner sends when the pattern is a stimulus rather than an expectation.

Bindings are a bijection on string values (node ids, tokens): two names may not capture the
same string. That catches reused and dangling ids, which ignore-lists cannot. A rebind lets go
of the name's old value first, so it may capture that same value again, never another name's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MATCHERS = frozenset(
    {
        "$any",
        "$type",
        "$re",
        "$num",
        "$absent",
        "$contains",
        "$not",
        "$bind",
        "$rebind",
        "$stimulus",
    }
)
_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


class CaseError(Exception):
    """The case itself is wrong (unknown matcher, unbound variable): a suite bug, not a FAIL."""


@dataclass(frozen=True)
class Mismatch:
    """Where and why an actual value diverges from a pattern."""

    pointer: str
    expected: Any
    actual: Any
    reason: str

    def at(self, prefix: str) -> Mismatch:
        return Mismatch(prefix + self.pointer, self.expected, self.actual, self.reason)


_MISSING = object()


@dataclass
class Bindings:
    values: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Bindings:
        return Bindings(dict(self.values))

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def owner(self, value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        return next((n for n, v in self.values.items() if v == value and isinstance(v, str)), None)

    def bind(self, name: str, value: Any) -> str | None:
        """Bind ``name``; returns the reason it cannot be bound, or None."""
        if name in self.values:
            if _equal(self.values[name], value):
                return None
            return f"${name} is already bound to {_short(self.values[name])}"
        other = self.owner(value)
        if other is not None:
            return f"{_short(value)} is already bound to ${other} (bindings are a bijection)"
        self.values[name] = value
        return None

    def rebind(self, name: str, value: Any) -> str | None:
        """Bind ``name`` to ``value`` whatever it held; returns the reason it cannot, or None."""
        previous = self.values.pop(name, _MISSING)
        reason = self.bind(name, value)
        if reason is not None and previous is not _MISSING:
            self.values[name] = previous
        return reason


VARIABLE_KINDS = ("bind", "rebind", "ref")


def variable(pattern: Any) -> tuple[str, str] | None:
    """``("bind"|"rebind"|"ref", name)`` for the string forms ``$bind:x`` / ``$rebind:x`` /
    ``$ref:x``."""
    if isinstance(pattern, str):
        for kind in VARIABLE_KINDS:
            if pattern.startswith(f"${kind}:"):
                return kind, pattern[len(kind) + 2 :]
    return None


def is_matcher(pattern: Any) -> bool:
    return isinstance(pattern, Mapping) and any(
        isinstance(k, str) and k.startswith("$") and not k.startswith("$$") for k in pattern
    )


def _unescape(key: str) -> str:
    return key[1:] if key.startswith("$$") else key


def _escape_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def match(pattern: Any, actual: Any, bindings: Bindings) -> Mismatch | None:
    """Match ``actual`` against ``pattern``. On success the new bindings are committed."""
    scratch = bindings.copy()
    mismatch = _match(pattern, actual, scratch)
    if mismatch is None:
        bindings.values = scratch.values
    return mismatch


def _match(pattern: Any, actual: Any, b: Bindings) -> Mismatch | None:
    var = variable(pattern)
    if var is not None:
        kind, name = var
        if kind == "ref":
            if name not in b:
                raise CaseError(f"$ref:{name} used before $bind:{name}")
            if not _equal(b[name], actual):
                return Mismatch("", b[name], actual, f"differs from ${name}")
            return None
        reason = b.rebind(name, actual) if kind == "rebind" else b.bind(name, actual)
        return None if reason is None else Mismatch("", pattern, actual, reason)
    if is_matcher(pattern):
        return _match_matcher(pattern, actual, b)
    if isinstance(pattern, Mapping):
        if not isinstance(actual, Mapping):
            return Mismatch("", pattern, actual, "expected an object")
        for raw_key, sub in pattern.items():
            key = _unescape(raw_key)
            pointer = "/" + _escape_token(key)
            if isinstance(sub, Mapping) and sub.get("$absent") is True:
                if key in actual:
                    return Mismatch(pointer, sub, actual[key], "must be absent")
                continue
            if key not in actual:
                if (
                    isinstance(sub, Mapping)
                    and "$not" in sub
                    and len(sub) == 1 + ("$stimulus" in sub)
                ):
                    continue  # an absent member is not the value $not excludes
                return Mismatch(pointer, sub, None, "missing")
            found = _match(sub, actual[key], b)
            if found is not None:
                return found.at(pointer)
        return None
    if isinstance(pattern, list):
        if not isinstance(actual, list):
            return Mismatch("", pattern, actual, "expected an array")
        for i, (sub, item) in enumerate(zip(pattern, actual, strict=False)):
            found = _match(sub, item, b)
            if found is not None:
                return found.at(f"/{i}")
        if len(pattern) != len(actual):
            return Mismatch(
                "", pattern, actual, f"expected {len(pattern)} items, got {len(actual)}"
            )
        return None
    if isinstance(pattern, str) and pattern.startswith("$$"):
        pattern = pattern[1:]
    if not _equal(pattern, actual):
        return Mismatch("", pattern, actual, f"expected {_short(pattern)}, got {_short(actual)}")
    return None


def _match_matcher(pattern: Mapping[str, Any], actual: Any, b: Bindings) -> Mismatch | None:
    unknown = [k for k in pattern if k not in MATCHERS]
    if unknown:
        raise CaseError(f"unknown matcher or mixed matcher/object keys: {unknown}")

    def fail(reason: str) -> Mismatch:
        return Mismatch("", dict(pattern), actual, reason)

    if pattern.get("$absent") is True:
        return fail("must be absent")
    if "$type" in pattern:
        wanted = pattern["$type"]
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        if unknown_types := set(wanted) - _TYPES:
            raise CaseError(f"unknown $type {sorted(unknown_types)}")
        if json_type(actual) not in wanted and not (
            "number" in wanted and json_type(actual) == "integer"
        ):
            return fail(f"expected type {'|'.join(wanted)}, got {json_type(actual)}")
    if "$re" in pattern:
        if not isinstance(actual, str):
            return fail("expected a string")
        if re.search(pattern["$re"], actual) is None:
            return fail(f"does not match /{pattern['$re']}/")
    if "$num" in pattern:
        lo, hi = (_bound(x, b) for x in pattern["$num"])
        if json_type(actual) not in ("number", "integer"):
            return fail("expected a number")
        if (lo is not None and actual < lo) or (hi is not None and actual > hi):
            return fail(f"not within [{lo}, {hi}]")
    if "$contains" in pattern:
        if not isinstance(actual, list):
            return fail("expected an array")
        for sub in pattern["$contains"]:
            if not any(match(sub, item, b) is None for item in actual):
                return Mismatch("", sub, actual, "no item matches")
    if "$not" in pattern and match(pattern["$not"], actual, b.copy()) is None:
        return fail(f"must not match {_short(pattern['$not'])}")
    if "$bind" in pattern and "$rebind" in pattern:
        raise CaseError("a matcher may not both $bind and $rebind")
    if "$bind" in pattern:
        reason = b.bind(pattern["$bind"], actual)
        if reason is not None:
            return fail(reason)
    if "$rebind" in pattern:
        reason = b.rebind(pattern["$rebind"], actual)
        if reason is not None:
            return fail(reason)
    return None


def _bound(value: Any, b: Bindings) -> Any:
    """A ``$num`` bound: a number, null, or ``$ref:x`` (a bound number)."""
    var = variable(value)
    if var is None:
        return value
    if var[1] not in b:
        raise CaseError(f"$ref:{var[1]} used before $bind:{var[1]}")
    bound = b[var[1]]
    if json_type(bound) not in ("number", "integer"):
        raise CaseError(f"$num bound ${var[1]} is not a number: {_short(bound)}")
    return bound


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def _equal(a: Any, b: Any) -> bool:
    ta, tb = json_type(a), json_type(b)
    if {ta, tb} <= {"integer", "number"}:
        return bool(a == b)
    if ta != tb:
        return False
    if ta == "object":
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if ta == "array":
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


class NotConcrete(CaseError):
    """A stimulus still holds a matcher the runner cannot turn into a value."""


def concretize(pattern: Any, bindings: Bindings) -> Any:
    """Turn a pattern into the concrete value the runner sends.

    ``$ref:x`` becomes the bound value; ``$bind:x`` and ``$rebind:x`` become the bound value
    or, when unbound, the string ``x`` (the runner, playing the server, picks ids by the
    variable's name); a matcher object becomes its ``$stimulus`` (which a ``$rebind`` in it then
    binds, replacing the old value), or the value of its bound ``$rebind`` name when it has no
    ``$stimulus``; an ``$absent`` member is left out.
    """
    var = variable(pattern)
    if var is not None:
        kind, name = var
        if name in bindings:
            return bindings[name]
        if kind == "ref":
            raise NotConcrete(f"$ref:{name} used before $bind:{name}")
        reason = bindings.bind(name, name)
        if reason is not None:
            raise NotConcrete(reason)
        return name
    if is_matcher(pattern):
        name = pattern.get("$bind")
        if name is not None and name in bindings:
            return bindings[name]
        renamed = pattern.get("$rebind")
        if "$stimulus" not in pattern:
            if renamed is not None and renamed in bindings:
                return bindings[renamed]
            raise NotConcrete(f"matcher {dict(pattern)} has no $stimulus value")
        value = concretize(pattern["$stimulus"], bindings)
        # A rebind's stimulus is a new value for its name (the runner, as server, rotating a
        # token); a bind's, the first value of its name.
        for reason in (
            bindings.bind(name, value) if name is not None else None,
            bindings.rebind(renamed, value) if renamed is not None else None,
        ):
            if reason is not None:
                raise NotConcrete(reason)
        return value
    if isinstance(pattern, Mapping):
        out = {}
        for key, sub in pattern.items():
            if isinstance(sub, Mapping) and sub.get("$absent") is True:
                continue
            out[_unescape(key)] = concretize(sub, bindings)
        return out
    if isinstance(pattern, list):
        return [concretize(item, bindings) for item in pattern]
    if isinstance(pattern, str) and pattern.startswith("$$"):
        return pattern[1:]
    return pattern


def walk_variables(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``(kind, name)`` variable use in document order (for the case linter)."""
    var = variable(value)
    if var is not None:
        yield var
    elif isinstance(value, Mapping):
        for kind in ("bind", "rebind"):
            if isinstance(value.get(f"${kind}"), str):
                yield kind, value[f"${kind}"]
        for key, sub in value.items():
            if key not in ("$bind", "$rebind"):
                yield from walk_variables(sub)
    elif isinstance(value, list):
        for item in value:
            yield from walk_variables(item)


def pointer_get(document: Any, pointer: str) -> Any:
    """The value at a JSON pointer, or None when it does not resolve."""
    if not pointer:
        return document
    current = document
    for token in pointer.lstrip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(current, Mapping) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return None
    return current
