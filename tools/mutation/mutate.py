"""Source-level mutation of the SDK core and the server shell, judged by the conformance suite.

Cosmic Ray (pinned in requirements.lock) enumerates and applies the mutants and runs the judge;
this script bounds the cost and keeps the score:

- the sources are copied to out/mutation/<target>/ and mutated there (Cosmic Ray mutates in
  place; the work tree is never touched), the judge importing the copy through PYTHONPATH;
- the unmutated copy must pass the suite first, or a score would mean nothing;
- a seeded sample of the mutants is judged (the rest are marked skipped in Cosmic Ray's
  session): the same seed and the same sources give the same sample;
- mutants inside annotations are left out: every module has ``from __future__ import
  annotations``, so an annotation is never evaluated and such a mutant is equivalent by
  construction;
- results go to tools/mutation/results-<target>.json (one entry per sampled mutant and its
  verdict); ``rejudge`` judges the open survivors again with the cases of today
  (rejudged-<target>.json), and score.md is written from both and from the hand-kept triage
  (triage.yaml: each survivor is ``equivalent`` or ``out-of-scope`` with the reason, or a
  ``blind-spot`` and the case written for it).

    python tools/mutation/mutate.py run --target sdk --sample 100 --seed 1
    python tools/mutation/mutate.py rejudge --target sdk   # open survivors, with today's cases
    python tools/mutation/mutate.py targeted [--cases DIR --label before]  # issue 8's mutants
    python tools/mutation/mutate.py score                  # write score.md
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV_BIN = Path(sys.executable).parent
# What a judge needs besides the mutated sources: the adapters and the SDK's fixture apps.
COPIED = (
    "sdk-python/src",
    "sdk-python/fixtures",
    "sdk-python/conformance_adapter.py",
    "reference-server/src",
    "reference-server/conformance_adapter.py",
)
TARGETS = ("sdk", "server")


def workdir(target: str, purpose: str = "") -> Path:
    return REPO / "out" / "mutation" / (f"{target}-{purpose}" if purpose else target)


def judge_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(work / "sdk-python" / "src"), str(work / "reference-server" / "src")]
    )
    env["PATH"] = os.pathsep.join([str(VENV_BIN), env.get("PATH", "")])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def prepare(target: str, purpose: str = "") -> Path:
    work = workdir(target, purpose)
    shutil.rmtree(work, ignore_errors=True)
    for rel in COPIED:
        src, dst = REPO / rel, work / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "static"))
        else:
            shutil.copy2(src, dst)
    shutil.copy2(HERE / f"{target}.toml", work / "config.toml")
    return work


def cosmic(target: str, *args: str) -> None:
    subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]],
        cwd=workdir(target),
        env=judge_env(workdir(target)),
        check=True,
    )


def annotation_lines(path: Path) -> set[tuple[int, int]]:
    """(line, col) positions that lie inside an annotation of the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    spans: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns:
            spans.append(node.returns)
        elif isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation:
            spans.append(node.annotation)
    inside: set[tuple[int, int]] = set()
    for e in spans:
        end_line, end_col = e.end_lineno or e.lineno, e.end_col_offset or 0
        for line in range(e.lineno, end_line + 1):
            lo = e.col_offset if line == e.lineno else 0
            hi = end_col if line == end_line else 10_000
            inside.update((line, c) for c in range(lo, hi))
    return inside


def key(m: Any) -> str:
    line, col = m.start_pos
    return f"{m.module_path}:{line}:{col}:{m.operator_name}:{m.occurrence}"


def sample(target: str, size: int, seed: int) -> list[str]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    work = workdir(target)
    with use_db(str(work / "session.sqlite"), WorkDB.Mode.open) as db:
        items = sorted(db.pending_work_items, key=lambda w: key(w.mutations[0]))
        annotations = {
            p: annotation_lines(work / p) for p in {str(w.mutations[0].module_path) for w in items}
        }
        eligible = [
            w
            for w in items
            if tuple(w.mutations[0].start_pos) not in annotations[str(w.mutations[0].module_path)]
        ]
        chosen = random.Random(seed).sample(eligible, min(size, len(eligible)))
        keep = {w.job_id for w in chosen}
        skipped = WorkResult(worker_outcome=WorkerOutcome.SKIPPED, output="not in the sample")
        db.set_multiple_results([w.job_id for w in items if w.job_id not in keep], skipped)
        print(
            f"{target}: {len(items)} mutants after the operator filter, "
            f"{len(items) - len(eligible)} in annotations, {len(chosen)} sampled (seed {seed})"
        )
        return [key(w.mutations[0]) for w in chosen]


def collect(target: str) -> list[dict[str, Any]]:
    from cosmic_ray.work_db import WorkDB, use_db

    rows = []
    with use_db(str(workdir(target) / "session.sqlite"), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == "skipped":
                continue
            m = item.mutations[0]
            outcome = "killed" if result.is_killed else "survived"
            if result.worker_outcome != "normal":
                outcome = str(result.worker_outcome)  # no-test / exception: not a judged mutant
            k = key(m)
            rows.append(
                {
                    "key": k,
                    "module": str(m.module_path),
                    "line": m.start_pos[0],
                    "operator": m.operator_name,
                    "diff": "\n".join(
                        line
                        for line in (result.diff or "").splitlines()
                        if line[:1] in "+-" and line[:3] not in ("+++", "---")
                    ),
                    "outcome": outcome,
                }
            )
    return sorted(rows, key=lambda r: r["key"])


def results_path(target: str) -> Path:
    return HERE / f"results-{target}.json"


def run(target: str, size: int, seed: int) -> None:
    work = prepare(target)
    rejudged_path(target).unlink(missing_ok=True)  # verdicts of another sample
    print(f"{target}: unmutated baseline")
    from cosmic_ray.config import load_config

    command = load_config(str(work / "config.toml")).test_command
    baseline = subprocess.run(
        command,
        shell=True,
        cwd=work,
        env=judge_env(workdir(target)),
        capture_output=True,
        text=True,
    )
    if baseline.returncode != 0:
        sys.exit(f"{target}: the unmutated sources fail the suite:\n{baseline.stdout[-3000:]}")
    cosmic(target, "cosmic-ray", "init", "config.toml", "session.sqlite")
    cosmic(target, "cr-filter-operators", "session.sqlite", "config.toml")
    sample(target, size, seed)
    cosmic(target, "cosmic-ray", "exec", "config.toml", "session.sqlite")
    rows = collect(target)
    results_path(target).write_text(
        json.dumps({"target": target, "seed": seed, "sample": size, "mutants": rows}, indent=1)
        + "\n"
    )


def rejudge(target: str, cases: Path | None) -> None:
    """Judge again, with the cases of today, the survivors not triaged as equivalent or out of
    scope: a case written for a blind spot must kill it. Verdicts go to rejudged-<target>.json;
    the judge runs in a copy of its own, so a run in progress is not disturbed."""
    from cosmic_ray.config import load_config
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_db import WorkDB, use_db

    triage = (yaml.safe_load((HERE / "triage.yaml").read_text()) or {}).get("survivors") or {}
    with use_db(str(workdir(target) / "session.sqlite"), WorkDB.Mode.open) as db:
        survivors = [
            (item, key(item.mutations[0]))
            for item, result in db.completed_work_items
            if result.worker_outcome == "normal" and not result.is_killed
        ]
    todo = [
        (item, k)
        for item, k in survivors
        if triage.get(k, {}).get("verdict") not in ("equivalent", "out-of-scope", "should-level")
    ]
    work = prepare(target, "rejudge")
    cfg = load_config(str(work / "config.toml"))
    command = cfg.test_command + (f" --cases {shlex.quote(str(cases.resolve()))}" if cases else "")
    path = rejudged_path(target)
    verdicts = json.loads(path.read_text()) if path.exists() else {}
    os.environ.update(judge_env(work))
    os.chdir(work)
    for item, k in todo:
        result = mutate_and_test(item.mutations, command, cfg.timeout)
        verdicts[k] = "killed" if result.is_killed else "survived"
        print(f"{k}: {verdicts[k]}", flush=True)
        path.write_text(json.dumps(verdicts, indent=1, sort_keys=True) + "\n")


def rejudged_path(target: str) -> Path:
    return HERE / f"rejudged-{target}.json"


def targeted(cases: Path | None, label: str) -> None:
    """Judge the hand-written mutants of targeted.yaml (the blind spots issue 8 reported) on
    each target they list; verdicts go to targeted-results.json under ``label`` (``before``:
    judged with the cases of main, via ``--cases``; ``now``: with today's)."""
    from cosmic_ray.config import load_config

    mutants = yaml.safe_load((HERE / "targeted.yaml").read_text())["mutants"]
    path = HERE / "targeted-results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    verdicts = results[label] = {}
    for target in TARGETS:
        work = prepare(target, "targeted")
        command = load_config(str(work / "config.toml")).test_command
        if cases is not None:
            command += f" --cases {shlex.quote(str(cases.resolve()))}"
        for name, m in mutants.items():
            if target not in m["targets"]:
                continue
            source = work / m["file"]
            original = source.read_text(encoding="utf-8")
            if m["old"] not in original:
                sys.exit(f"{name}: {m['old']!r} is not in {m['file']}; update targeted.yaml")
            source.write_text(original.replace(m["old"], m["new"]), encoding="utf-8")
            try:
                judged = subprocess.run(
                    shlex.split(command),
                    cwd=work,
                    env=judge_env(work),
                    capture_output=True,
                    timeout=load_config(str(work / "config.toml")).timeout,
                )
                verdict = "survived" if judged.returncode == 0 else "killed"
            except subprocess.TimeoutExpired:
                verdict = "killed"
            finally:
                source.write_text(original, encoding="utf-8")
            verdicts.setdefault(name, {})[target] = verdict
            print(f"{label} {target} {name}: {verdict}", flush=True)
            path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def score() -> None:
    from score import write_score  # tools/mutation/score.py

    write_score(HERE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    r.add_argument("--sample", type=int, default=80, help="mutants judged per target")
    r.add_argument("--seed", type=int, default=1)
    j = sub.add_parser("rejudge")
    j.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    j.add_argument("--cases", type=Path, help="cases directory (default: the suite's)")
    g = sub.add_parser("targeted")
    g.add_argument("--cases", type=Path, help="cases directory (default: the suite's)")
    g.add_argument("--label", default="now", help="where the verdicts go in the results")
    sub.add_parser("score")
    args = parser.parse_args()
    if args.cmd == "targeted":
        targeted(args.cases, args.label)
    targets = TARGETS if getattr(args, "target", "all") == "all" else (args.target,)
    for t in targets if args.cmd in ("run", "rejudge") else ():
        run(t, args.sample, args.seed) if args.cmd == "run" else rejudge(t, args.cases)
    score()


if __name__ == "__main__":
    main()
