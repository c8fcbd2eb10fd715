"""A self-contained HTML report: no external assets, no script. Every value from a case, an
adapter or a transcript is untrusted and escaped."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

from .baseline import BaselineProblem
from .report import footer
from .runner import CaseResult

COLOURS = {
    "PASS": "#d7f5d7",
    "FAIL": "#f8c9c9",
    "WARN": "#fbe7b5",
    "INFO": "#dde8fb",
    "ERROR": "#f3b0e0",
    "SKIP": "#e6e6e6",
    "N/A": "#f4f4f4",
    "XFAIL": "#efe0c8",
}
STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:.5em;max-height:40em;overflow:auto}
code{background:#f1f1f1}.problems{background:#f8c9c9;padding:.5em}
""" + "".join(f".s-{s.replace('/', '')}{{background:{c}}}" for s, c in COLOURS.items())


def _json(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _short(value: Any) -> str:
    return escape(json.dumps(value, ensure_ascii=False, default=str)[:500])


def html_report(
    head: dict[str, Any], results: list[CaseResult], problems: Sequence[BaselineProblem] = ()
) -> str:
    foot = footer(results, problems)
    impl = head.get("implementation", {})
    title = f"Phloem conformance: {impl.get('name', '?')} {impl.get('version', '')} ({head.get('role', '?')})"
    verdict = (
        "Conformant (every MUST case passes)"
        if foot["conformant"]
        else f"Not conformant: {len(foot['must_not_passed'])} MUST case(s) did not pass"
    )
    run_verdict = "run passed" if foot["passed"] else "run FAILED"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Protocol {escape(str(head.get('protocol_version', '')))} · suite "
        f"{escape(str(head.get('suite', {}).get('version', '')))} · <strong>{escape(verdict)}</strong> · {run_verdict}</p>",
        "<table><tr>"
        + "".join(f'<th class="s-{s.replace("/", "")}">{escape(s)}</th>' for s in foot["counts"])
        + "</tr><tr>"
        + "".join(f"<td>{n}</td>" for n in foot["counts"].values())
        + "</tr></table>",
    ]
    if problems:
        out.append(
            '<div class="problems"><strong>Baseline problems (these fail the run)</strong><ul>'
        )
        out += [f"<li><code>{escape(p.case)}</code>: {escape(p.message)}</li>" for p in problems]
        out.append("</ul></div>")
    out.append(
        "<table><tr><th>status</th><th>case</th><th>level</th><th>requirements</th><th>reason</th></tr>"
    )
    for r in results:
        cls = "s-" + r.status.replace("/", "")
        reason = escape(r.reason)
        if r.baseline is not None:
            reason = f"<em>baseline {escape(str(r.baseline['outcome']))}: {escape(str(r.baseline['reason']))}</em> {reason}"
        link = (
            f'<a href="#case-{escape(r.case.id)}">{escape(r.case.id)}</a>'
            if _detailed(r)
            else escape(r.case.id)
        )
        out.append(
            f'<tr class="{cls}"><td>{escape(r.status)}</td><td><code>{link}</code></td>'
            f"<td>{escape(r.level)}</td><td>{escape(', '.join(map(str, r.case.data['requirements'])))}</td>"
            f"<td>{reason}</td></tr>"
        )
    out.append("</table>")
    for r in results:
        if not _detailed(r):
            continue
        out.append(
            f'<section id="case-{escape(r.case.id)}"><h2 class="s-{r.status.replace("/", "")}">'
            f"{escape(r.status)} <code>{escape(r.case.id)}</code>: {escape(str(r.case.data['title']))}</h2>"
        )
        if r.reason:
            out.append(f"<p>{escape(r.reason)}</p>")
        d = r.divergence
        if d is not None:
            out.append(
                "<table>"
                f"<tr><th>step</th><td>{escape(str(d.get('step')))} ({escape(str(d.get('kind')))})</td></tr>"
                f"<tr><th>pointer</th><td><code>{escape(str(d.get('pointer') or '/'))}</code></td></tr>"
                f"<tr><th>expected</th><td><pre>{_short(d.get('expected'))}</pre></td></tr>"
                f"<tr><th>actual</th><td><pre>{_short(d.get('actual'))}</pre></td></tr>"
                "</table>"
            )
        if r.transcript:
            out.append(
                f"<details><summary>transcript ({len(r.transcript)} entries)</summary>"
                f"<pre>{_json(r.transcript)}</pre></details>"
            )
        out.append("</section>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _detailed(result: CaseResult) -> bool:
    """Cases shown in detail: those that did not pass and were judged (or errored)."""
    return result.status not in ("PASS", "N/A", "SKIP")
