"""Source-level mutation of the Python SDK's core, judged by the conformance suite alone.

    .venv/bin/python conformance/source_mutants/run.py [--sample 60] [--seed 1] [--out DIR]

The suite's own mutants break frames on the wire (conformance/mutants); these break the code:
Cosmic Ray (a well-kept mutation tool, pinned in requirements.lock) mutates the sans-IO core
(``phloem.protocol``, ``phloem.runtime``; the generated ``_wire.py`` left out) one AST edit at a
time (comparison, arithmetic, boolean, constant, statement removal...), and each mutant is
judged by one thing only: ``phloem-conformance run --target sdk`` through the SDK's adapter.
Exit 0 (every MUST case passes) is a survivor; anything else, or a timeout, a kill.

The work happens in a copy of ``sdk-python/`` in a temporary directory (the adapter imports
the copy through PYTHONPATH), so an interrupted run never leaves a mutant in the checkout.
``--sample`` takes a seeded random sample of all the mutants (a full run is thousands of
conformance runs). Writes ``DIR/results.json`` (every mutant: where, operator, outcome,
diff) and prints the score; survivors are triaged by hand in ``conformance/source_mutants/
README.md`` (equivalent ones with the reason, the others as missing cases).
"""

from __future__ import annotations

import argparse
import ast
import json
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent
MODULES = ["sdk-python/src/phloem/protocol", "sdk-python/src/phloem/runtime"]
EXCLUDED = ["sdk-python/src/phloem/protocol/_wire.py"]  # generated from schemas/
TIMEOUT = 120.0  # seconds per conformance run; a mutant that hangs the SDK is killed by it


def config(work: Path) -> str:
    test = shlex.join(
        [
            "env",
            f"PYTHONPATH={work / 'sdk-python' / 'src'}",
            str(VENV / "phloem-conformance"),
            "run",
            "--target",
            "sdk",
            "--adapter",
            f"{sys.executable} {work / 'sdk-python' / 'conformance_adapter.py'}",
        ]
    )
    return (
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(MODULES)}\n"
        f"excluded-modules = {json.dumps(EXCLUDED)}\n"
        f"timeout = {TIMEOUT}\n"
        f"test-command = {json.dumps(test)}\n\n"
        '[cosmic-ray.distributor]\nname = "local"\n'
    )


def cosmic_ray(work: Path, *args: str) -> None:
    subprocess.run([str(VENV / "cosmic-ray"), *args], cwd=work, check=True)


def sample(db_path: Path, n: int | None, seed: int) -> int:
    """Keep a seeded random sample of ``n`` of the session's mutants; returns how many exist."""
    from cosmic_ray.work_db import WorkDB, use_db

    with use_db(str(db_path), WorkDB.Mode.open) as db:
        # By place, not by job id (a fresh uuid per init): the same seed samples the same mutants.
        items = sorted(db.work_items, key=_place)
        if n is not None and n < len(items):
            chosen = random.Random(seed).sample(items, n)
            db.clear()
            db.add_work_items(chosen)
        return len(items)


def _place(item: Any) -> tuple[str, tuple[int, int], str, int]:
    (m,) = item.mutations
    return (str(m.module_path), tuple(m.start_pos), m.operator_name, m.occurrence)


def annotations(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (start, end) of every annotation in a module: with ``from __future__ import
    annotations`` none is ever evaluated, so a mutant inside one is equivalent."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        found: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            found.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            found.append(node.annotation)
        for a in found:
            if a is not None and a.end_lineno is not None and a.end_col_offset is not None:
                spans.append(((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)))
    return spans


def results(db_path: Path, work: Path) -> list[dict[str, Any]]:
    from cosmic_ray.work_db import WorkDB, use_db

    out = []
    with use_db(str(db_path), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            (mutation,) = item.mutations
            start, end = tuple(mutation.start_pos), tuple(mutation.end_pos)
            spans = annotations(work / mutation.module_path)
            in_annotation = any(a <= start and end <= b for a, b in spans)
            out.append(
                {
                    "job": item.job_id,
                    "file": str(Path(mutation.module_path)),
                    "line": mutation.start_pos[0],
                    "column": mutation.start_pos[1],
                    "in_annotation": in_annotation,
                    "operator": mutation.operator_name,
                    "occurrence": mutation.occurrence,
                    "outcome": (result.test_outcome or result.worker_outcome).value,
                    "diff": result.diff or "",
                }
            )
    return sorted(out, key=lambda r: (r["file"], r["line"], r["operator"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=60, help="mutants to run (0: all)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=REPO / "out" / "source-mutants")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="phloem-source-mutants-") as tmp:
        work = Path(tmp)
        shutil.copytree(
            REPO / "sdk-python",
            work / "sdk-python",
            ignore=shutil.ignore_patterns("tests", "__pycache__"),
        )
        (work / "cosmic-ray.toml").write_text(config(work), encoding="utf-8")
        db = work / "session.sqlite"
        cosmic_ray(work, "init", "cosmic-ray.toml", str(db))
        total = sample(db, args.sample or None, args.seed)
        cosmic_ray(work, "exec", "cosmic-ray.toml", str(db))
        rows = results(db, work)
    killed = sum(r["outcome"] == "killed" for r in rows)
    survived = [r for r in rows if r["outcome"] == "survived"]
    # Equivalent by construction: the triage of the rest is by hand (README.md beside this).
    judged = [r for r in rows if not r["in_annotation"]]
    judged_killed = sum(r["outcome"] == "killed" for r in judged)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {
        "mutants_in_scope": total,
        "run": len(rows),
        "seed": args.seed,
        "killed": killed,
        "survived": len(survived),
        "other": len(rows) - killed - len(survived),
        "score": round(killed / len(rows), 3) if rows else None,
        "in_annotations": len(rows) - len(judged),
        "score_outside_annotations": round(judged_killed / len(judged), 3) if judged else None,
        "mutants": rows,
    }
    (args.out / "results.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"{killed} of {len(rows)} mutants killed by the sdk conformance run ({total} in scope);")
    print(f"{judged_killed} of {len(judged)} outside type annotations (never evaluated)")
    for r in survived:
        where = " (annotation: equivalent)" if r["in_annotation"] else ""
        print(f"  survived: {r['file']}:{r['line']} {r['operator']}{where}")
    print(f"details: {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
