"""Requirements ↔ cases: ids a case names that the spec lacks, and requirements with no case."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .cases import Case
from .schemas import SafeLoader, suite_dir


def default_requirements_path() -> Path:
    return suite_dir().parent / "spec" / "requirements.yaml"


def load_requirements(path: Path | None = None) -> list[dict[str, Any]]:
    data = yaml.load(
        (path or default_requirements_path()).read_text(encoding="utf-8"), Loader=SafeLoader
    )
    return list(data if isinstance(data, list) else data.get("requirements", []))


@dataclass
class Trace:
    covered: dict[str, list[str]]  # requirement id -> case ids
    uncovered: list[dict[str, Any]]  # requirements with no case
    unknown: dict[str, list[str]]  # case id -> ids the spec does not define

    @property
    def uncovered_must(self) -> list[dict[str, Any]]:
        """MUST requirements with no case: the suite cannot judge them (``trace`` fails)."""
        return [r for r in self.uncovered if r.get("level") == "MUST"]

    @property
    def ok(self) -> bool:
        return not self.unknown and not self.uncovered_must

    def markdown(self) -> str:
        total = len(self.covered) + len(self.uncovered)
        lines = [f"# Traceability: {len(self.covered)} of {total} requirements have a case", ""]
        if self.uncovered_must:
            lines += [
                f"**{len(self.uncovered_must)} MUST requirement(s) have no case**: "
                + ", ".join(r["id"] for r in self.uncovered_must),
                "",
            ]
        if self.unknown:
            lines += ["## Cases naming unknown requirement ids", ""]
            lines += [f"- `{case}`: {', '.join(ids)}" for case, ids in sorted(self.unknown.items())]
            lines.append("")
        lines += [
            "## Requirements with no case",
            "",
            "| id | level | profile | summary |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {r['id']} | {r.get('level', '')} | {r.get('profile', '')} | {r.get('summary', '')} |"
            for r in self.uncovered
        ]
        return "\n".join(lines) + "\n"


def trace(cases: list[Case], requirements: list[dict[str, Any]]) -> Trace:
    known = {r["id"] for r in requirements}
    covered: dict[str, list[str]] = defaultdict(list)
    unknown: dict[str, list[str]] = {}
    for case in cases:
        ids = case.data.get("requirements", [])
        missing = [i for i in ids if i not in known]
        if missing:
            unknown[case.id] = missing
        for i in ids:
            if i in known:
                covered[i].append(case.id)
    uncovered = [r for r in requirements if r["id"] not in covered]
    return Trace(dict(covered), uncovered, unknown)
