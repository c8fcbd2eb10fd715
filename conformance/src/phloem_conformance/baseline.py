"""Expected-failure baselines (``run --baseline FILE``), kept by each implementation.

As in WPT and Bowtie: a listed case that fails as expected is XFAIL and does not fail the run; a
listed case that now passes fails the run as a stale entry (so baselines only shrink); a listed
case whose content hash changed fails the run until it is re-triaged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .cases import Case
from .runner import CaseResult
from .schemas import SafeLoader, suite_schema

# Which statuses each expectation accepts.
EXPECTED = {"fail": ("FAIL", "WARN", "INFO", "ERROR"), "skip": ("SKIP",)}


class BaselineError(Exception):
    """A baseline file that cannot be read or does not match schemas/baseline.schema.json."""


@dataclass(frozen=True)
class BaselineProblem:
    case: str
    problem: str  # stale | retriage
    message: str

    def to_json(self) -> dict[str, str]:
        return {"case": self.case, "problem": self.problem, "message": self.message}


def load_baseline(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of a baseline file by case id."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise BaselineError(f"{path}: {exc}") from None
    errors = [
        f"{path}/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in suite_schema("baseline").iter_errors(data)
    ]
    if errors:
        raise BaselineError("\n".join(errors))
    entries: dict[str, dict[str, Any]] = {}
    for entry in data["entries"]:
        if entry["case"] in entries:
            raise BaselineError(f"{path}: case {entry['case']!r} is listed twice")
        entries[entry["case"]] = entry
    return entries


def apply_baseline(
    results: list[CaseResult], entries: dict[str, dict[str, Any]], known: list[Case]
) -> list[BaselineProblem]:
    """Turn expected failures into XFAIL (in place); the entries that fail the run.

    ``known`` is every case of the suite (before ``--case`` filtering): an entry naming none of
    them is stale; an entry for a case not run (filtered out) is ignored."""
    problems = []
    known_ids = {c.id for c in known}
    for case_id in entries:
        if case_id not in known_ids:
            problems.append(
                BaselineProblem(case_id, "stale", f"stale baseline entry: no case {case_id!r}")
            )
    for result in results:
        entry = entries.get(result.case.id)
        if entry is None or result.status == "N/A":
            continue
        note = {
            "expect": entry["expect"],
            "reason": entry["reason"],
            "actual": result.status,
            **({"issue": entry["issue"]} if "issue" in entry else {}),
        }
        if entry["hash"] != result.case.hash:
            note["outcome"] = "retriage"
            problems.append(
                BaselineProblem(
                    result.case.id,
                    "retriage",
                    f"re-triage: case changed since the baseline was written (baseline {entry['hash'][:15]}…, "
                    f"case {result.case.hash[:15]}…, rev {result.case.data['rev']}); it is {result.status}",
                )
            )
        elif result.status == "PASS":
            note["outcome"] = "stale"
            problems.append(
                BaselineProblem(
                    result.case.id,
                    "stale",
                    f"stale baseline entry: expected {entry['expect']}, the case now passes",
                )
            )
        elif result.status in EXPECTED[entry["expect"]]:
            note["outcome"] = "xfail"
            result.status = "XFAIL"
        else:  # e.g. expected skip, got FAIL: reported as it is
            note["outcome"] = "unexpected"
        result.baseline = note
    return problems


def baseline_from_report(
    report: Path, previous: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A baseline listing the MUST cases of an NDJSON report that did not pass (FAIL, ERROR: fail;
    SKIP: skip; XFAIL: as before). Reasons and issues of ``previous`` entries are kept."""
    previous = previous or {}
    entries = []
    for number, text in enumerate(report.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{report}:{number}: {exc}") from None
        if line.get("kind") != "case" or line.get("level") != "MUST":
            continue
        status = line["status"]
        if status == "XFAIL":
            status = line.get("baseline", {}).get("actual", "FAIL")
        if status not in ("FAIL", "ERROR", "SKIP"):
            continue
        expect = "skip" if status == "SKIP" else "fail"
        old = previous.get(line["case"], {})
        entry: dict[str, Any] = {
            "case": line["case"],
            "expect": expect,
            "reason": old.get("reason") or line.get("reason") or status,
        }
        if "issue" in old:
            entry["issue"] = old["issue"]
        entry["hash"] = line["hash"]
        entries.append(entry)
    return {"entries": sorted(entries, key=lambda e: e["case"])}


def dump_baseline(baseline: dict[str, Any]) -> str:
    header = (
        "# phloem-conformance expected failures (schemas/baseline.schema.json).\n"
        "# Written by `phloem-conformance baseline update`; give each entry a real reason and issue.\n"
    )
    return header + yaml.safe_dump(baseline, sort_keys=False, allow_unicode=True, width=120)
