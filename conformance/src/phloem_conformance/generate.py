"""Generated cases: seeded random sessions, run like written cases, shrunk when they fail.

Three generators, each a module of plain data (design record, issue 3, §6): **trees**
(:mod:`.generate_trees`) and **malformed** (:mod:`.generate_malformed`) for the sdk and server
roles, **patches** (:mod:`.generate_renderer`, shrunk by :mod:`.generate_renderer_shrink`) for
renderers. This module is what they share: a generated session is a :class:`Script`; it becomes
an ordinary case (``to_case``), so a failure is reported with the same first divergence as any
case. A failing script is shrunk (fewer events, smaller trees, fewer props) to a minimal one
that still fails, and written out as a YAML case.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import generate_malformed, generate_renderer, generate_renderer_shrink, generate_trees
from .case_yaml import dump_case
from .cases import Case
from .runner import CaseResult, Runner

__all__ = [
    "Generated",
    "Script",
    "candidates",
    "dump_case",
    "malformed_script",
    "patch_script",
    "run_generated",
    "scripts",
    "shrink",
    "to_case",
    "tree_script",
]

Node = dict[str, Any]


@dataclass
class Script:
    """One generated session. ``kind`` trees: ``sets`` is the list of described child lists;
    kind malformed: ``frames`` is a list of (raw frame, expected error code); kind patches
    (renderer): ``root`` the initial snapshot's root, ``patches`` a list of ``{rev, ops}``."""

    kind: str
    seed: int
    index: int
    sets: list[list[Node]] = field(default_factory=list)
    frames: list[tuple[Any, str]] = field(default_factory=list)
    root: Node | None = None
    patches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"generated-{self.kind}-{self.seed}-{self.index}"

    def size(self) -> int:
        """What the shrinker makes smaller: events, then nodes and props."""
        if self.kind == "patches":
            assert self.root is not None
            return generate_renderer_shrink.size(self.root, self.patches)
        return generate_trees.size(self.sets) + len(self.frames)


def tree_script(seed: int, index: int, events: int = 8) -> Script:
    return Script("trees", seed, index, sets=generate_trees.generate(seed, index, events))


def malformed_script(seed: int, index: int) -> Script:
    return Script("malformed", seed, index, frames=generate_malformed.generate(seed, index))


def patch_script(seed: int, index: int) -> Script:
    root, patches = generate_renderer.generate(seed, index)
    return Script("patches", seed, index, root=root, patches=patches)


def scripts(seed: int, count: int, target: str | None = None) -> list[Script]:
    """``count`` scripts; the same seed gives the same scripts. For a renderer, patches; else
    trees and malformed alternating."""
    if target == "renderer":
        return [patch_script(seed, i) for i in range(count)]
    return [tree_script(seed, i) if i % 2 == 0 else malformed_script(seed, i) for i in range(count)]


def to_case(script: Script, folder: Path | None = None) -> Case:
    base = {
        "id": script.id,
        "rev": 1,
        "level": "MUST",
        "since": "1.0",
        "roles": ["server", "sdk"],
        "profile": "core",
    }
    if script.kind == "patches":
        assert script.root is not None
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): a renderer shows the tree its patches build, "
            "as a fresh snapshot of it",
            "requirements": generate_renderer.REQUIREMENTS,
            "roles": ["renderer"],
            "steps": generate_renderer.steps(script.root, script.patches),
        }
    elif script.kind == "trees":
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): patches build the tree a resync sends",
            "requirements": generate_trees.REQUIREMENTS,
            "fixture": "tree-echo",
            "steps": generate_trees.steps(script.sets),
        }
    else:
        data = {
            **base,
            "title": f"Generated (seed {script.seed}): malformed frames get their codes, the session lives",
            "requirements": generate_malformed.REQUIREMENTS,
            "fixture": "counter",
            "steps": generate_malformed.steps(script.frames),
        }
    where = (folder or Path("generated")) / f"{script.id}.yaml"
    return Case(data, where, "generated")


# ---- shrinking ---------------------------------------------------------------------------


def candidates(script: Script) -> Iterator[Script]:
    """Smaller variants that are still well-formed sessions, the biggest cuts first."""
    s = script
    if s.kind == "patches":
        assert s.root is not None
        for root, patches in generate_renderer_shrink.smaller(s.root, s.patches):
            yield Script(s.kind, s.seed, s.index, root=root, patches=patches)
    elif s.kind == "malformed":
        for frames in generate_malformed.smaller(s.frames):
            yield Script(s.kind, s.seed, s.index, frames=frames)
    else:
        for sets in generate_trees.smaller(s.sets):
            yield Script(s.kind, s.seed, s.index, sets=sets)


async def shrink(
    script: Script, fails: Callable[[Script], Awaitable[bool]], budget: int = 400
) -> tuple[Script, int]:
    """The smallest variant of ``script`` that still fails (greedy, first improvement), and the
    number of runs it took. ``fails`` runs a script against the implementation."""
    runs = 0
    improved = True
    while improved and runs < budget:
        improved = False
        for candidate in candidates(script):
            if runs >= budget:
                break
            runs += 1
            if await fails(candidate):
                script, improved = candidate, True
                break
    return script, runs


# ---- running -----------------------------------------------------------------------------


@dataclass
class Generated:
    script: Script
    result: CaseResult  # of the script as generated, or of the shrunk script when it failed
    shrunk_from: int | None = None  # size before shrinking
    shrink_runs: int = 0
    written: Path | None = None


async def run_generated(
    runner: Runner,
    seed: int,
    count: int,
    out: Path | None,
    *,
    shrink_timeout: float | None = None,
) -> list[Generated]:
    """Run ``count`` generated scripts; shrink each one that fails and write the minimal one
    to ``out/<id>.yaml`` (its result, the shrunk session's, goes in the report).

    While shrinking, expectations wait ``shrink_timeout`` seconds (by default a quarter of the
    step timeout, at least a second): a failing ``render`` or ``$effect`` retries until its
    deadline, and many candidates fail.
    The minimal script is then run again with the full timeout; should it not fail the same
    way there (a slow IUT), the script as generated and its result stand."""
    results = []
    for script in scripts(seed, count, runner.target):
        result = await runner.run_case(to_case(script, out))
        item = Generated(script, result)
        if result.status == "FAIL":
            signature = _signature(result)

            async def fails(candidate: Script, signature: Any = signature) -> bool:
                """Fails the same way (same kind of divergence), not some other way."""
                outcome = await runner.run_case(to_case(candidate, out))
                return bool(_signature(outcome) == signature)

            full = runner.step_timeout
            runner.step_timeout = shrink_timeout or min(full, max(1.0, full / 4))
            try:
                budget = SHRINK_BUDGET.get(runner.target, 400)
                small, item.shrink_runs = await shrink(script, fails, budget)
            finally:
                runner.step_timeout = full
            confirmed = await runner.run_case(to_case(small, out))
            if _signature(confirmed) == signature:
                item.shrunk_from, item.script, item.result = script.size(), small, confirmed
            if out is not None:
                item.written = out / f"{item.script.id}.yaml"
                dump_case(item.result.case, item.written)
        results.append(item)
    return results


SHRINK_BUDGET = {"renderer": 150}  # runs; a browser renderer takes a second or so per run


def _signature(result: CaseResult) -> Any:
    if result.status != "FAIL":
        return None
    return (result.status, (result.divergence or {}).get("kind"))
