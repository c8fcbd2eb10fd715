"""Report outputs: NDJSON (schemas/report.schema.json), a Markdown summary, JUnit XML."""

from __future__ import annotations

import datetime
import json
import platform
from collections import Counter
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from . import ADAPTER_PROTOCOL, PROTOCOL_VERSION, __version__
from .runner import CaseResult

REPORT_VERSION = 1
STATUSES = ("PASS", "FAIL", "WARN", "INFO", "ERROR", "SKIP", "N/A")


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
    return line


def footer(results: list[CaseResult]) -> dict[str, Any]:
    counts = Counter(r.status for r in results)
    failing = [r.case.id for r in results if r.counts_against]
    return {
        "kind": "footer",
        "counts": {status: counts.get(status, 0) for status in STATUSES},
        "must_not_passed": failing,
        "warnings": [r.case.id for r in results if r.status == "WARN"],
        "information": [r.case.id for r in results if r.status == "INFO"],
        "conformant": not failing,
    }


def write_ndjson(path: Path, lines: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")


def summary_markdown(head: dict[str, Any], results: list[CaseResult]) -> str:
    impl = head["implementation"]
    foot = footer(results)
    counts = ", ".join(f"{n} {s}" for s, n in foot["counts"].items() if n)
    lines = [
        f"# Phloem conformance: {impl.get('name', '?')} {impl.get('version', '')} ({head['role']})",
        "",
        f"Protocol {head['protocol_version']} · suite {head['suite']['version']} · {counts}",
        "",
        "**Conformant** (every MUST case passes)" if foot["conformant"]
        else f"**Not conformant**: {len(foot['must_not_passed'])} MUST case(s) did not pass",
        "",
        *([f"Warnings (SHOULD cases that diverged, not counted against conformance): "
           f"{', '.join(f'`{c}`' for c in foot['warnings'])}", ""] if foot["warnings"] else []),
        *([f"Information (MAY cases that diverged): {', '.join(f'`{c}`' for c in foot['information'])}", ""]
          if foot["information"] else []),
        "| status | case | level | requirements | reason |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        reason = r.reason.replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {r.status} | `{r.case.id}` | {r.level} | {', '.join(r.case.data['requirements'])} | {reason} |")
    for r in results:
        if r.divergence is None:
            continue
        d = r.divergence
        lines += [
            "",
            f"## {r.status} `{r.case.id}`: {r.case.data['title']}",
            "",
            f"First divergence at step {d['step']} ({d['kind']}), pointer `{d['pointer'] or '/'}`: {d['reason']}",
            "",
            "```json",
            "expected: " + json.dumps(d["expected"], ensure_ascii=False)[:500],
            "actual:   " + json.dumps(d["actual"], ensure_ascii=False, default=str)[:500],
            "```",
        ]
    return "\n".join(lines) + "\n"


def junit_xml(head: dict[str, Any], results: list[CaseResult]) -> str:
    counts = footer(results)["counts"]
    suite = ET.Element(
        "testsuite",
        name=f"phloem-conformance.{head['role']}",
        tests=str(len(results)),
        failures=str(counts["FAIL"]),
        errors=str(counts["ERROR"]),
        skipped=str(counts["SKIP"] + counts["N/A"]),
    )
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"{head['role']}.{r.case.area}",
                             name=r.case.id, time=f"{r.duration_ms / 1000:.3f}")
        if r.status == "FAIL":
            failure = ET.SubElement(case, "failure", message=r.reason, type=r.level)
            failure.text = json.dumps(r.divergence, indent=2, ensure_ascii=False, default=str)
        elif r.status in ("WARN", "INFO"):  # JUnit has no warning: a passing testcase with a note
            out = ET.SubElement(case, "system-out")
            out.text = f"{r.status} ({r.level}): {r.reason}\n" + json.dumps(
                r.divergence, indent=2, ensure_ascii=False, default=str)
        elif r.status == "ERROR":
            ET.SubElement(case, "error", message=r.reason)
        elif r.status in ("SKIP", "N/A"):
            ET.SubElement(case, "skipped", message=f"{r.status}: {r.reason}")
    return str(ET.tostring(suite, encoding="unicode", xml_declaration=True)) + "\n"
