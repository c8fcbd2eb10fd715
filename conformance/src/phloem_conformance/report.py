"""Report outputs: NDJSON (schemas/report.schema.json), a Markdown summary, JUnit XML."""

from __future__ import annotations

import datetime
import json
import platform
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from . import ADAPTER_PROTOCOL, PROTOCOL_VERSION, __version__
from .baseline import BaselineProblem
from .runner import CaseResult

REPORT_VERSION = 1
STATUSES = ("PASS", "FAIL", "WARN", "INFO", "ERROR", "SKIP", "N/A", "XFAIL")


def header(target: str, implementation: dict[str, Any], adapter_command: str) -> dict[str, Any]:
    return {
        "kind": "header",
        "report_version": REPORT_VERSION,
        "suite": {"name": "phloem-conformance", "version": __version__},
        "adapter_protocol": ADAPTER_PROTOCOL,
        "protocol_version": PROTOCOL_VERSION,
        "role": target,
        "implementation": implementation.get("implementation", {}),
        "fixtures": implementation.get("fixtures", []),
        "adapter": adapter_command,
        "run": {
            "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }


def case_line(result: CaseResult) -> dict[str, Any]:
    line: dict[str, Any] = {
        "kind": "case",
        "case": result.case.id,
        "rev": result.case.data["rev"],
        "hash": result.case.hash,
        "title": result.case.data["title"],
        "area": result.case.area,
        "status": result.status,
        "level": result.level,
        "requirements": result.case.data["requirements"],
        "duration_ms": result.duration_ms,
        "transcript": result.transcript,
    }
    if result.reason:
        line["reason"] = result.reason
    if result.divergence is not None:
        line["first_divergence"] = result.divergence
    if result.baseline is not None:
        line["baseline"] = result.baseline
    return line


def footer(results: list[CaseResult], problems: Sequence[BaselineProblem] = ()) -> dict[str, Any]:
    counts = Counter(r.status for r in results)
    not_passed = [r.case.id for r in results if r.must_not_passed]
    unexpected = [r.case.id for r in results if r.counts_against]
    profiles: dict[str, Counter[str]] = {}
    for r in results:
        profiles.setdefault(str(r.case.data.get("profile", "core")), Counter())[r.status] += 1
    return {
        "kind": "footer",
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "profiles": {
            name: {status: c.get(status, 0) for status in STATUSES}
            for name, c in sorted(profiles.items())
        },
        "must_not_passed": not_passed,
        "warnings": [r.case.id for r in results if r.status == "WARN"],
        "information": [r.case.id for r in results if r.status == "INFO"],
        "expected_failures": [r.case.id for r in results if r.status == "XFAIL"],
        "unexpected": unexpected,
        "baseline_problems": [p.to_json() for p in problems],
        "conformant": not not_passed,
        "passed": not unexpected and not problems,
    }


def write_ndjson(path: Path, lines: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def summary_markdown(
    head: dict[str, Any], results: list[CaseResult], problems: Sequence[BaselineProblem] = ()
) -> str:
    impl = head["implementation"]
    foot = footer(results, problems)
    counts = ", ".join(f"{n} {s}" for s, n in foot["counts"].items() if n)
    lines = [
        f"# Phloem conformance: {impl.get('name', '?')} {impl.get('version', '')} ({head['role']})",
        "",
        f"Protocol {head['protocol_version']} · suite {head['suite']['version']} · {counts}",
        "",
        "| profile | " + " | ".join(STATUSES) + " |",
        "|---|" + "---|" * len(STATUSES),
        *(
            f"| {name} | " + " | ".join(str(c[s]) for s in STATUSES) + " |"
            for name, c in foot["profiles"].items()
        ),
        "",
        "**Conformant** (every MUST case passes)"
        if foot["conformant"]
        else f"**Not conformant**: {len(foot['must_not_passed'])} MUST case(s) did not pass",
        "",
        *(
            [
                f"Warnings (SHOULD cases that diverged, not counted against conformance): "
                f"{', '.join(f'`{c}`' for c in foot['warnings'])}",
                "",
            ]
            if foot["warnings"]
            else []
        ),
        *(
            [
                f"Information (MAY cases that diverged): {', '.join(f'`{c}`' for c in foot['information'])}",
                "",
            ]
            if foot["information"]
            else []
        ),
        *(
            [
                f"Expected failures (XFAIL, listed in the baseline): "
                f"{', '.join(f'`{c}`' for c in foot['expected_failures'])}",
                "",
            ]
            if foot["expected_failures"]
            else []
        ),
        *(
            [
                "**Baseline problems** (these fail the run):",
                "",
                *(f"- `{p.case}`: {p.message}" for p in problems),
                "",
            ]
            if problems
            else []
        ),
        "| status | case | level | requirements | reason |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        reason = r.reason
        if r.baseline is not None:
            reason = f"[baseline {r.baseline['outcome']}: {r.baseline['reason']}] {reason}"
        reason = reason.replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(
            f"| {r.status} | `{r.case.id}` | {r.level} | {', '.join(r.case.data['requirements'])} | {reason} |"
        )
    for r in results:
        if r.divergence is None:
            continue
        d = r.divergence
        lines += [
            "",
            f"## {r.status} `{r.case.id}`: {r.case.data['title']}",
            "",
            f"First divergence at step {d['step']}{d.get('within', '')} ({d['kind']})"
            + (f" on connection `{d['connection']}`" if d.get("connection") else "")
            + f", pointer `{d['pointer'] or '/'}`: {d['reason']}",
            "",
            "```json",
            "expected: " + json.dumps(d["expected"], ensure_ascii=False)[:500],
            "actual:   " + json.dumps(d["actual"], ensure_ascii=False, default=str)[:500],
            "```",
        ]
    return "\n".join(lines) + "\n"


def junit_xml(
    head: dict[str, Any], results: list[CaseResult], problems: Sequence[BaselineProblem] = ()
) -> str:
    counts = footer(results, problems)["counts"]
    by_case: dict[str, list[BaselineProblem]] = {}
    for p in problems:
        by_case.setdefault(p.case, []).append(p)
    ran = {r.case.id for r in results}
    suite = ET.Element(
        "testsuite",
        name=f"phloem-conformance.{head['role']}",
        tests=str(len(results)),
        errors=str(counts["ERROR"]),
        skipped=str(counts["SKIP"] + counts["N/A"] + counts["XFAIL"]),
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{head['role']}.{r.case.area}",
            name=r.case.id,
            time=f"{r.duration_ms / 1000:.3f}",
        )
        if r.status == "FAIL":
            failure = ET.SubElement(case, "failure", message=r.reason, type=r.level)
            failure.text = json.dumps(r.divergence, indent=2, ensure_ascii=False, default=str)
        elif r.status in ("WARN", "INFO"):  # JUnit has no warning: a passing testcase with a note
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.status} ({r.level}): {r.reason}\n" + json.dumps(
                r.divergence, indent=2, ensure_ascii=False, default=str
            )
        elif r.status == "ERROR":
            ET.SubElement(case, "error", message=r.reason)
        elif r.status in ("SKIP", "N/A"):
            ET.SubElement(case, "skipped", message=f"{r.status}: {r.reason}")
        elif (
            r.status == "XFAIL" and r.baseline is not None
        ):  # expected: a skipped testcase, as pytest does
            ET.SubElement(
                case, "skipped", message=f"XFAIL (baseline: {r.baseline['reason']}): {r.reason}"
            )
        for p in by_case.get(r.case.id, []):
            ET.SubElement(case, "failure", message=p.message, type=f"baseline-{p.problem}")
    for p in problems:  # entries naming no case of the suite
        if p.case not in ran:
            orphan = ET.SubElement(
                suite, "testcase", classname=f"{head['role']}.baseline", name=p.case, time="0"
            )
            ET.SubElement(orphan, "failure", message=p.message, type=f"baseline-{p.problem}")
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(sum(1 for case in suite if case.find("failure") is not None)))
    return str(ET.tostring(suite, encoding="unicode", xml_declaration=True)) + "\n"
