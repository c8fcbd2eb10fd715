"""Mutation testing of the suite: every mutant must be caught by the cases expected to catch it.

``conformance/mutants/expected.yaml`` maps each mutant to the cases that must catch it, per
role. A mutant is *killed* when at least one of those cases FAILs against the real
implementation behind the mutating proxy (``python -m phloem_conformance.mutants``); the
unmutated proxy (``none``) must pass every case, or the score means nothing.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .cases import Case
from .runner import CaseResult, run_sync
from .schemas import ProtocolSchemas, SafeLoader, suite_dir


def expected_path() -> Path:
    return suite_dir() / "mutants" / "expected.yaml"


def load_expected(path: Path | None = None) -> dict[str, dict[str, list[str]]]:
    """mutant name -> role -> ids of the cases that must catch it."""
    data = yaml.load((path or expected_path()).read_text(encoding="utf-8"), Loader=SafeLoader)
    return {name: dict(entry["kill"]) for name, entry in data["mutants"].items()}


def proxy_command(mutant: str, adapter_command: str) -> str:
    return shlex.join(
        [
            sys.executable,
            "-m",
            "phloem_conformance.mutants",
            "--mutant",
            mutant,
            "--",
            adapter_command,
        ]
    )


@dataclass
class MutantResult:
    mutant: str
    expected: list[str]
    killed_by: list[str] = field(default_factory=list)  # expected cases that FAILed
    other: dict[str, str] = field(default_factory=dict)  # expected cases that did not fail: status

    @property
    def killed(self) -> bool:
        return bool(self.killed_by)


@dataclass
class MutationReport:
    target: str
    baseline: list[CaseResult]
    mutants: list[MutantResult]

    @property
    def baseline_ok(self) -> bool:
        # SKIP: the adapter lacks the case's fixture, so the case never ran through the proxy.
        return all(r.status in ("PASS", "N/A", "SKIP") for r in self.baseline)

    @property
    def score(self) -> tuple[int, int]:
        return sum(m.killed for m in self.mutants), len(self.mutants)

    @property
    def ok(self) -> bool:
        killed, total = self.score
        return self.baseline_ok and killed == total

    def text(self) -> str:
        lines = []
        bad = [r for r in self.baseline if r.status not in ("PASS", "N/A", "SKIP")]
        passed = sum(r.status == "PASS" for r in self.baseline)
        skipped = sum(r.status == "SKIP" for r in self.baseline)
        lines.append(
            f"unmutated proxy: {passed} PASS"
            + (f", {skipped} SKIP (fixture not provided)" if skipped else "")
            + (
                ""
                if not bad
                else " · NOT PASSING: "
                + ", ".join(f"{r.case.id} {r.status} ({r.reason})" for r in bad)
            )
        )
        width = max((len(m.mutant) for m in self.mutants), default=0)
        for m in self.mutants:
            if m.killed:
                lines.append(f"KILLED   {m.mutant:{width}}  by {', '.join(m.killed_by)}")
            else:
                survived = ", ".join(f"{case} {status}" for case, status in m.other.items())
                lines.append(f"SURVIVED {m.mutant:{width}}  expected cases: {survived}")
        killed, total = self.score
        pct = 100 * killed / total if total else 0.0
        lines.append(f"mutation score ({self.target}): {killed}/{total} killed ({pct:.0f}%)")
        return "\n".join(lines)


def run_mutants(
    target: str,
    adapter_command: str,
    cases: list[Case],
    schemas: ProtocolSchemas,
    *,
    expected: dict[str, dict[str, list[str]]] | None = None,
    only: list[str] | None = None,
    **options: Any,
) -> MutationReport:
    expected = load_expected() if expected is None else expected
    _, baseline = run_sync(
        target, proxy_command("none", adapter_command), cases, schemas, **options
    )
    by_id = {c.id: c for c in cases}
    results = []
    for name, kill in expected.items():
        if target not in kill or (only and name not in only):
            continue
        wanted = [by_id[i] for i in kill[target] if i in by_id]
        result = MutantResult(name, list(kill[target]))
        _, outcomes = run_sync(
            target, proxy_command(name, adapter_command), wanted, schemas, **options
        )
        for r in outcomes:
            if r.status == "FAIL":
                result.killed_by.append(r.case.id)
            else:
                result.other[r.case.id] = r.status
        results.append(result)
    return MutationReport(target, baseline, results)
