"""Write tools/mutation/score.md from the recorded results and the hand-kept triage.

A mutant is *killed* when the conformance suite (the target's `phloem-conformance run`) exits
non-zero with it: a MUST case failed or errored, the adapter crashed, or the run timed out.
Every survivor is triaged in triage.yaml, keyed like the results:

- ``equivalent``: no client can tell it from the original (a log line, a placeholder the
  code overwrites, a check made twice): left out of the score;
- ``out-of-scope``: code the target's wire never reaches (the SDK's client-side patch
  application, used by ``phloem.testing``, while the sdk target plays the server): left out
  of the score and listed, so the choice stays visible;
- ``should-level``: a real difference only a SHOULD case reports (WARN); the judge counts MUST
  cases only, so it counts as a survivor;
- ``blind-spot``: a real difference the suite missed; ``case`` names the case written for it,
  and the verdict it gets when judged again (rejudged-<target>.json, ``mutate.py rejudge``)
  shows whether that case kills it. Without ``case`` it is still open.

score = killed / (judged - equivalent - out-of-scope), before the new cases (each mutant's
first verdict) and now.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

EXCLUDED = ("equivalent", "out-of-scope")


def _score(rows: list[dict[str, Any]], field: str, triage: dict[str, Any]) -> tuple[int, int]:
    counted = [r for r in rows if triage.get(r["key"], {}).get("verdict") not in EXCLUDED]
    killed = sum(1 for r in counted if r[field] == "killed")
    return killed, len(counted)


def _pct(killed: int, total: int) -> str:
    return f"{killed}/{total} = {100 * killed / total:.1f} %" if total else "n/a"


def write_score(here: Path) -> None:
    triage: dict[str, Any] = yaml.safe_load((here / "triage.yaml").read_text()) or {}
    triage = triage.get("survivors") or {}
    lines = [
        "# Source-level mutation score",
        "",
        "Written by `make mutation` (tools/mutation/mutate.py, score.py); do not edit by hand.",
        "Each sampled mutant of the SDK core or the server shell is judged by the conformance",
        "suite alone (`phloem-conformance run`, killed = exit status not 0: a MUST case failed or",
        "errored, or the adapter crashed or timed out). `first`: the verdict of the sampled run;",
        "`now`: after `mutate.py rejudge` with the cases of today. score = killed / (judged -",
        "equivalent - out-of-scope); the survivors' triage is in triage.yaml.",
        "",
    ]
    untriaged: list[str] = []
    for target in ("sdk", "server"):
        path = here / f"results-{target}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        again = here / f"rejudged-{target}.json"
        rejudged = json.loads(again.read_text()) if again.exists() else {}
        rows = [
            {**r, "first": r["outcome"], "now": rejudged.get(r["key"], r["outcome"])}
            for r in data["mutants"]
            if r["outcome"] in ("killed", "survived")
        ]
        before, now = _score(rows, "first", triage), _score(rows, "now", triage)
        verdicts = [triage.get(r["key"], {}).get("verdict") for r in rows if r["now"] == "survived"]
        lines += [
            f"## {target}: {len(rows)} mutants judged (seed {data['seed']})",
            "",
            "| | |",
            "|---|---|",
            f"| killed before the new cases | {_pct(*before)} |",
            f"| killed now | {_pct(*now)} |",
            f"| killed now, counting out-of-scope survivors as missed | "
            f"{_pct(now[0], now[1] + verdicts.count('out-of-scope'))} |",
            f"| survivors: equivalent | {verdicts.count('equivalent')} |",
            f"| survivors: out of scope | {verdicts.count('out-of-scope')} |",
            f"| survivors: only a SHOULD case reports them (WARN) | {verdicts.count('should-level')} |",
            f"| survivors: blind spots still open | {verdicts.count('blind-spot')} |",
            f"| survivors: not triaged | {verdicts.count(None)} |",
            "",
            "| mutant | first | now | triage |",
            "|---|---|---|---|",
        ]
        for r in rows:
            t = triage.get(r["key"], {})
            if r["first"] == "killed" and r["now"] == "killed":
                continue
            note = t.get("verdict", "**not triaged**")
            if t.get("case"):
                note += f" → `{t['case']}`"
            if t.get("reason"):
                note += f": {t['reason']}"
            diff = r["diff"].replace("|", "\\|").replace("\n", " ⟶ ")
            lines.append(
                f"| `{r['module']}:{r['line']}` `{diff[:160]}` | {r['first']} "
                f"| {r['now']} | {note} |"
            )
            if r["now"] == "survived" and not t:
                untriaged.append(r["key"])
        lines.append("")
    lines += _targeted(here)
    (here / "score.md").write_text("\n".join(lines))
    if untriaged:
        print("survivors not triaged in tools/mutation/triage.yaml:\n  " + "\n  ".join(untriaged))


def _targeted(here: Path) -> list[str]:
    """The hand-written mutants of targeted.yaml: issue 8's blind spots, before and now."""
    path = here / "targeted-results.json"
    if not path.exists():
        return []
    results = json.loads(path.read_text())
    mutants = yaml.safe_load((here / "targeted.yaml").read_text())["mutants"]
    lines = [
        "## The blind spots issue 8 reported (targeted.yaml)",
        "",
        "Each a hand-written mutant judged like the sampled ones; `before`: with the cases of",
        "main before this work, `now`: with today's.",
        "",
        "| mutant | target | before | now | case |",
        "|---|---|---|---|---|",
    ]
    for name, m in mutants.items():
        for target in m["targets"]:
            before = results.get("before", {}).get(name, {}).get(target, "—")
            now = results.get("now", {}).get(name, {}).get(target, "—")
            lines.append(f"| {name} | {target} | {before} | {now} | `{m['case']}` |")
    return [*lines, ""]
