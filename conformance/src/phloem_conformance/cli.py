"""``phloem-conformance``: run the suite, lint cases, check traceability, score mutants."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from . import PROTOCOL_VERSION
from .adapter import AdapterError
from .baseline import (
    BaselineError,
    apply_baseline,
    baseline_from_report,
    dump_baseline,
    load_baseline,
)
from .bundle import bundle
from .cases import CaseFileError, lint, load_cases
from .html_report import html_report
from .report import case_line, footer, header, junit_xml, summary_markdown, write_ndjson
from .runner import run_sync
from .schemas import load_protocol
from .traceability import load_requirements, trace


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phloem-conformance")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the cases against an implementation through its adapter")
    run.add_argument("--target", required=True, choices=["sdk", "server", "renderer"])
    run.add_argument("--adapter", required=True, help="shell command that starts the adapter")
    run.add_argument("--cases", type=Path, help="cases directory (default: the suite's)")
    run.add_argument(
        "--case", action="append", default=[], help="run only this case id (repeatable)"
    )
    run.add_argument("--schemas", help="protocol schemas directory (default: the bundled ones)")
    run.add_argument("--report", type=Path, help="write the NDJSON report here")
    run.add_argument("--summary", type=Path, help="write a Markdown summary here")
    run.add_argument("--junit", type=Path, help="write JUnit XML here")
    run.add_argument("--html", type=Path, help="write a self-contained HTML report here")
    run.add_argument(
        "--baseline", type=Path, help="expected failures (schemas/baseline.schema.json)"
    )
    run.add_argument("--timeout-factor", type=float, default=1.0, help="multiply every timeout")
    run.add_argument(
        "-v", "--verbose", action="store_true", help="print results and adapter stderr"
    )

    mut = sub.add_parser(
        "mutants",
        help="break an implementation through the mutating proxy; print the mutation score",
    )
    mut.add_argument("--target", required=True, choices=["sdk", "server", "renderer"])
    mut.add_argument("--adapter", required=True, help="shell command that starts the real adapter")
    mut.add_argument("--mutant", action="append", default=[], help="only this mutant (repeatable)")
    mut.add_argument("--cases", type=Path, help="cases directory (default: the suite's)")
    mut.add_argument("--expected", type=Path, help="mutants/expected.yaml (default: the suite's)")
    mut.add_argument("--timeout-factor", type=float, default=1.0, help="multiply every timeout")

    lint_cmd = sub.add_parser("lint", help="check every case against the case schema and rules")
    lint_cmd.add_argument("--cases", type=Path)

    trace_cmd = sub.add_parser(
        "trace",
        help="requirements with no case, cases naming unknown ids "
        "(exit 1 when a MUST has no case or a case names an unknown id)",
    )
    trace_cmd.add_argument("--cases", type=Path)
    trace_cmd.add_argument("--requirements", type=Path)

    base = sub.add_parser("baseline", help="expected-failure baselines")
    base_sub = base.add_subparsers(dest="baseline_command", required=True)
    update = base_sub.add_parser(
        "update", help="write a baseline from a report's MUST cases that did not pass"
    )
    update.add_argument("--report", required=True, type=Path, help="an NDJSON report of `run`")
    update.add_argument(
        "--out",
        required=True,
        type=Path,
        help="the baseline to write (an existing one keeps its reasons and issues)",
    )

    bundle_cmd = sub.add_parser(
        "bundle", help="write the compiled, hashed case bundle (JSON) for other runners"
    )
    bundle_cmd.add_argument("--out", required=True, type=Path)
    bundle_cmd.add_argument("--cases", type=Path)

    gen = sub.add_parser(
        "generate",
        help="seeded generated cases (random trees and patches, malformed "
        "messages); with --adapter, run them and shrink each failure to a minimal case",
    )
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--count", type=int, default=20)
    gen.add_argument(
        "--target",
        choices=["sdk", "server", "renderer"],
        help="the role judged (renderer: random patch sessions; else trees and malformed frames)",
    )
    gen.add_argument("--adapter", help="run the generated cases against this adapter")
    gen.add_argument(
        "--out",
        type=Path,
        default=Path("out/generated"),
        help="where the cases (without --adapter) or the shrunk failures go",
    )
    gen.add_argument("--report", type=Path, help="write the NDJSON report here")
    gen.add_argument("--timeout-factor", type=float, default=1.0)

    chaos_cmd = sub.add_parser(
        "chaos",
        help="a long ledger session, dropped at random points, resumed "
        "like a correct client: nothing lost, nothing doubled",
    )
    chaos_cmd.add_argument("--target", required=True, choices=["sdk", "server"])
    chaos_cmd.add_argument("--adapter", required=True)
    chaos_cmd.add_argument("--seed", type=int, default=1)
    chaos_cmd.add_argument("--runs", type=int, default=1000)
    chaos_cmd.add_argument("--appends", type=int, default=40, help="events per session")
    chaos_cmd.add_argument("--out", type=Path, help="write the JSON summary here")
    chaos_cmd.add_argument("--timeout-factor", type=float, default=1.0)

    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except (CaseFileError, BaselineError) as exc:
        print(exc, file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "lint":
        problems = lint(load_cases(args.cases))
        print("\n".join(problems) or "cases OK")
        return 1 if problems else 0
    if args.command == "trace":
        report = trace(load_cases(args.cases), load_requirements(args.requirements))
        print(report.markdown())
        return 0 if report.ok else 1
    if args.command == "mutants":
        return _mutants(args)
    if args.command == "baseline":
        return _baseline_update(args)
    if args.command == "bundle":
        return _bundle(args)
    if args.command == "generate":
        return _generate(args)
    if args.command == "chaos":
        from .chaos import main as chaos_main

        return chaos_main(args)
    return _run(args)


def _generate(args: argparse.Namespace) -> int:
    import asyncio

    from .generate import dump_case, run_generated, scripts, to_case
    from .runner import Runner

    if args.adapter is None:
        for script in scripts(args.seed, args.count, args.target):
            case = to_case(script, args.out)
            dump_case(case, case.path)
        print(f"{args.out}: {args.count} generated cases (seed {args.seed})")
        return 0
    if args.target is None:
        print("--adapter needs --target", file=sys.stderr)
        return 2

    async def go() -> tuple[dict[str, Any], list[Any]]:
        runner = Runner(
            args.target,
            args.adapter,
            load_protocol(PROTOCOL_VERSION),
            timeout_factor=args.timeout_factor,
        )
        await runner.start()
        try:
            return runner.implementation, await run_generated(
                runner, args.seed, args.count, args.out
            )
        finally:
            await runner.stop()

    try:
        implementation, generated = asyncio.run(go())
    except AdapterError as exc:
        print(f"adapter failed to start: {exc}", file=sys.stderr)
        return 2
    results = [g.result for g in generated]
    for g in generated:
        line = f"{g.result.status:5} {g.script.id} {g.result.reason}"
        if g.written is not None:
            line += f"\n      shrunk from size {g.shrunk_from} to {g.script.size()} in {g.shrink_runs} runs: {g.written}"
        print(line)
    foot = footer(results)
    if args.report:
        write_ndjson(
            args.report,
            [
                header(args.target, implementation, args.adapter),
                *(case_line(r) for r in results),
                foot,
            ],
        )
    print(" · ".join(f"{n} {s}" for s, n in foot["counts"].items() if n))
    return 0 if foot["passed"] else 1


def _baseline_update(args: argparse.Namespace) -> int:
    previous = load_baseline(args.out) if args.out.exists() else None
    baseline = baseline_from_report(args.report, previous)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump_baseline(baseline), encoding="utf-8")
    print(f"{args.out}: {len(baseline['entries'])} expected failure(s)")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    cases = load_cases(args.cases)
    problems = lint(cases)
    if problems:
        print("the cases do not lint:\n" + "\n".join(problems), file=sys.stderr)
        return 2
    data = bundle(cases)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(data['cases'])} cases, {data['hash']}")
    return 0


def _mutants(args: argparse.Namespace) -> int:
    from .mutation import load_expected, run_mutants

    cases = load_cases(args.cases)
    try:
        report = run_mutants(
            args.target,
            args.adapter,
            cases,
            load_protocol(PROTOCOL_VERSION),
            expected=load_expected(args.expected),
            only=args.mutant,
            timeout_factor=args.timeout_factor,
        )
    except AdapterError as exc:
        print(f"adapter failed to start: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.ok else 1


def _run(args: argparse.Namespace) -> int:
    cases = load_cases(args.cases)
    problems = lint(cases)
    if problems:
        print("the cases do not lint:\n" + "\n".join(problems), file=sys.stderr)
        return 2
    entries = load_baseline(args.baseline) if args.baseline else {}
    known = cases
    if args.case:
        cases = [c for c in cases if c.id in set(args.case)]
    schemas = load_protocol(PROTOCOL_VERSION, args.schemas)
    try:
        implementation, results = run_sync(
            args.target,
            args.adapter,
            cases,
            schemas,
            timeout_factor=args.timeout_factor,
            verbose=args.verbose,
        )
    except AdapterError as exc:
        print(f"adapter failed to start: {exc}", file=sys.stderr)
        return 2
    baseline_problems = apply_baseline(results, entries, known)
    head = header(args.target, implementation, args.adapter)
    foot = footer(results, baseline_problems)
    if args.report:
        write_ndjson(args.report, [head, *(case_line(r) for r in results), foot])
    for path, text in (
        (args.summary, summary_markdown(head, results, baseline_problems)),
        (args.junit, junit_xml(head, results, baseline_problems)),
        (args.html, html_report(head, results, baseline_problems)),
    ):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    width = max((len(r.case.id) for r in results), default=0)
    for r in results:
        print(f"{r.status:5} {r.case.id:{width}} {r.level:6} {r.reason}")
    for p in baseline_problems:
        print(f"BASELINE {p.case}: {p.message}")
    print(" · ".join(f"{n} {s}" for s, n in foot["counts"].items() if n or s != "XFAIL"))
    return 0 if foot["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
