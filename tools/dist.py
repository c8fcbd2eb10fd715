"""`make dist`: build the wheel and sdist of every distribution into dist/.

One repository, three distributions, each described by distributions/<name>/pyproject.toml: its
metadata, and under ``[tool.phloem-dist] copy`` the files it takes from the repository. Each is
staged as a self-contained source tree (so its sdist builds a wheel with nothing outside it),
with the version of the root pyproject.toml (the one place it is written) and its sibling
distributions pinned to that version, then built with pypa/build: sdist first, then the wheel
from the sdist, which proves the sdist complete.

    python tools/dist.py [--out dist] [--only phloem-server]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import tomlkit
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
DISTRIBUTIONS = REPO / "distributions"
STAGE = REPO / "build" / "dist-src"
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache")


def _ignore(directory: str, entries: list[str]) -> set[str]:
    skipped = set(_JUNK(directory, entries))
    # A checkout may hold a stale renderer copy at phloem_server/static/phloem; the built
    # renderer is copied there explicitly (distributions/phloem-server/pyproject.toml).
    if Path(directory).name == "static" and "phloem" in entries:
        skipped.add("phloem")
    return skipped


def version() -> str:
    with (REPO / "pyproject.toml").open("rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def names() -> list[str]:
    return sorted(p.parent.name for p in DISTRIBUTIONS.glob("*/pyproject.toml"))


def stage(name: str, ver: str, root: Path = STAGE) -> Path:
    """The staged source tree of distribution `name` at version `ver`."""
    template = DISTRIBUTIONS / name / "pyproject.toml"
    doc = tomlkit.parse(template.read_text(encoding="utf-8"))
    project = doc["project"]
    project["version"] = ver
    ours = set(names())
    deps = project.get("dependencies", [])
    for i, dep in enumerate(list(deps)):
        req = Requirement(dep)
        if req.name in ours:  # siblings move in lockstep: pin the exact version
            deps[i] = f"{req.name}=={ver}"
    target = root / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for src, dst in doc["tool"]["phloem-dist"]["copy"]:
        origin, dest = REPO / src, target / dst
        if not origin.exists():
            raise SystemExit(f"dist: {name} needs {src}, which does not exist (build it first?)")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            shutil.copytree(origin, dest, ignore=_ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(origin, dest)
    (target / "pyproject.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return target


def build(name: str, out: Path, ver: str) -> None:
    staged = stage(name, ver)
    # --no-isolation: hatchling comes from requirements.lock, so `make dist` needs no network.
    done = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(staged)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"dist: building {name} failed:\n{done.stdout}{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dist", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist")
    parser.add_argument("--only", action="append", choices=names(), default=None)
    args = parser.parse_args(argv)
    ver = version()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or names():
        for old in args.out.glob(f"{name.replace('-', '_')}-*"):
            old.unlink()
        build(name, args.out, ver)
    for path in sorted(args.out.iterdir()):
        print(f"{path.stat().st_size / 1024:8.1f} KiB  {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
