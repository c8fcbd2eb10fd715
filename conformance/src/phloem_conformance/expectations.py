"""Expecting a message: by pattern, by its effect on the reference tree (``$effect``), or as a
snapshot equal to the tree the patches before it built (``$reduced``)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .divergence import Diverged
from .matching import CaseError, Mismatch, match
from .tree import normalize

if TYPE_CHECKING:
    from .session import Session


async def expect(session: Session, pattern: dict[str, Any], kind: str) -> dict[str, Any]:
    message = await session.receive(kind, pattern)
    mismatch = match(pattern, message, session.bindings)
    if mismatch is not None:
        raise session.mismatch(kind, mismatch, message)
    return message


async def expect_effect(session: Session, pattern: dict[str, Any]) -> None:
    """Accept ui.patch messages until the reduced tree matches (their effect, not encoding)."""
    effect = pattern["$effect"]
    rest = {k: v for k, v in pattern.items() if k != "$effect"}
    rest.setdefault("type", "ui.patch")
    short: Mismatch | None = None  # how far the tree still is from the effect
    while True:
        try:
            message = await session.receive("s2c", rest)
        except Diverged:
            if short is None:
                raise
            raise session.diverge(
                "effect",
                f"the tree after the patches does not match: {short.reason}",
                pointer=short.pointer,
                expected=short.expected,
                actual=short.actual,
                received=session.tree.root,
            ) from None
        if message.get("type") not in ("ui.patch", "ui.snapshot"):
            raise session.diverge(
                "s2c",
                "expected a ui.patch",
                pointer="/type",
                expected=rest.get("type"),
                actual=message.get("type"),
                received=message,
            )
        assert session.tree.root is not None
        short = match(effect, session.tree.root, session.bindings.copy())
        if short is not None:
            continue  # not there yet: a server may split the change over several patches
        mismatch = match(rest, message, session.bindings)
        if mismatch is not None:
            raise session.mismatch("s2c", mismatch, message)
        match(effect, session.tree.root, session.bindings)
        return


async def expect_reduced(session: Session, pattern: dict[str, Any]) -> None:
    """``$reduced: true``: a ui.snapshot whose root equals, exactly, the tree the runner built
    from the snapshots and patches before it (metamorphic: patched result = fresh snapshot)."""
    rest = {k: v for k, v in pattern.items() if k != "$reduced"}
    rest.setdefault("type", "ui.snapshot")
    message = await expect(session, rest, "s2c")
    if message.get("type") != "ui.snapshot":
        raise CaseError(f"step {session.step}: $reduced judges a ui.snapshot")
    difference = first_difference(session.link.before, normalize(message["root"]))
    if difference is not None:
        pointer, expected, actual = difference
        raise session.diverge(
            "reduced",
            "the snapshot differs from the tree the patches built: at "
            f"{pointer or '/'} expected {json.dumps(expected, ensure_ascii=False)[:80]}, "
            f"got {json.dumps(actual, ensure_ascii=False)[:80]}",
            pointer="/root" + pointer,
            expected=expected,
            actual=actual,
            received=message,
        )


def first_difference(expected: Any, actual: Any, pointer: str = "") -> tuple[str, Any, Any] | None:
    """(JSON pointer, expected, actual) of the first place two JSON values differ, or None."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
            if key not in actual or key not in expected:
                return here, expected.get(key), actual.get(key)
            found = first_difference(expected[key], actual[key], here)
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            found = first_difference(a, b, f"{pointer}/{i}")
            if found is not None:
                return found
        if len(expected) != len(actual):
            return pointer, f"{len(expected)} items", f"{len(actual)} items"
        return None
    same = (expected == actual and type(expected) is type(actual)) or (
        isinstance(expected, (int, float))
        and isinstance(actual, (int, float))
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
        and expected == actual
    )
    return None if same else (pointer, expected, actual)
