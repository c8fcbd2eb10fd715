"""A released protocol version is frozen: its spec pages and schemas never change again.

``spec/<version>/FROZEN`` lists the SHA-256 of every file under ``spec/<version>/`` and
``schemas/<version>/`` at release. ``--check`` (run by ``make lint``) fails when any listed
file changed, went missing, or a file was added; ``--write VERSION`` records a release. A
change to a released version is a new version (``spec/1.1/`` holds what 1.1 adds).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "FROZEN"


def digest(root: Path, version: str) -> dict[str, str]:
    """Relative path -> SHA-256 of every file of ``version`` (the manifest itself excluded)."""
    out: dict[str, str] = {}
    for top in ("spec", "schemas"):
        base = root / top / version
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(root).as_posix()
            if rel != f"spec/{version}/{MANIFEST}":
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def write(root: Path, version: str) -> None:
    lines = [f"{h}  {p}" for p, h in digest(root, version).items()]
    (root / "spec" / version / MANIFEST).write_text("\n".join(lines) + "\n", encoding="utf-8")


def check(root: Path) -> list[str]:
    problems: list[str] = []
    for manifest in sorted((root / "spec").glob(f"*/{MANIFEST}")):
        version = manifest.parent.name
        recorded = dict(
            reversed(line.split("  ", 1)) for line in manifest.read_text().splitlines() if line
        )
        now = digest(root, version)
        for path in sorted(recorded.keys() | now.keys()):
            if path not in now:
                problems.append(f"{path}: removed from frozen protocol {version}")
            elif path not in recorded:
                problems.append(f"{path}: added to frozen protocol {version}")
            elif recorded[path] != now[path]:
                problems.append(f"{path}: changed in frozen protocol {version}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--check", action="store_true")
    group.add_argument("--write", metavar="VERSION")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    if args.write:
        write(args.root, args.write)
        return 0
    problems = check(args.root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print("frozen: every released protocol version is unchanged")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
