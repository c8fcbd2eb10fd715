"""`make docs`: build the documentation site (MkDocs + Material) into out/site.

Stages the repository's files (those git tracks, and untracked ones it does not ignore; no
tests) into build/docs-src, laid out as the repository is, so the relative links that docs/,
spec/ and the READMEs use on disk (to schemas, sources, fixtures) resolve on the site too;
then adds what is generated:

- spec pages: each requirement id where it is defined (``**PHL-TREE-001**``) becomes an
  anchor (``spec/1.0/tree.md#PHL-TREE-001``), and reference/requirements.md lists every id
  (spec/requirements.yaml) linking to it;
- reference/api/: the Python SDK's API reference, from its docstrings (mkdocstrings);
- reference/conformance.md: the reference implementations' conformance reports (the SDK's run
  here, in about two seconds; the server's and renderer's from out/conformance/ when
  `make test-conformance` has written them).

Then `mkdocs build --strict`: a link to a missing page, file or anchor fails the build.

    python tools/docs.py [--site out/site]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "docs-src"
REQUIREMENT = re.compile(r"\*\*(PHL-[A-Z]+-\d{3})\*\*")
REPORTS = REPO / "out" / "conformance"

API_PAGES = {
    "phloem": ("phloem", "The authoring API: `import phloem as ph`."),
    "testing": ("phloem.testing", "Testing an app without a browser."),
    "runtime": ("phloem.runtime", "The sans-IO session runtime a server shell drives."),
    "phloem_server": ("phloem_server", "The reference server's Python API."),
}


def stage(target: Path = STAGE) -> None:
    if target.exists():
        shutil.rmtree(target)
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for name in filter(None, (t.decode() for t in tracked)):
        source = REPO / name
        if not source.is_file():  # deleted in the work tree, not yet committed
            continue
        if "tests" in Path(name).parts:
            continue  # test code and fixtures: not documentation, and never linked from it
        if source.name == "index.html" and (source.parent / "README.md").is_file():
            continue  # an app's HTML entry (renderer-react), not a page: the README is
        dest = target / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)
    for directory in [target, *(d for d in target.rglob("*") if d.is_dir())]:
        if not any((directory / n).is_file() for n in ("index.md", "README.md", "index.html")):
            (directory / "index.md").write_text(listing(directory, target), encoding="utf-8")
    for page in (target / "spec").rglob("*.md"):
        page.write_text(anchor_requirements(page.read_text(encoding="utf-8")), encoding="utf-8")
    reference = target / "reference"
    (reference / "api").mkdir(parents=True)
    (reference / "requirements.md").write_text(requirements_page(), encoding="utf-8")
    for page, (module, intro) in API_PAGES.items():
        (reference / "api" / f"{page}.md").write_text(f"# {module}\n\n{intro}\n\n::: {module}\n")
    (reference / "conformance.md").write_text(conformance_page(reference), encoding="utf-8")


def listing(directory: Path, root: Path) -> str:
    """A page listing a directory, so links to it (``../schemas/1.0/``) land somewhere."""
    lines = [f"# {directory.relative_to(root).as_posix()}/", ""]
    for entry in sorted(directory.iterdir()):
        if entry.name == "index.md" or entry.name.startswith("."):
            continue  # MkDocs leaves dotfiles out of the site
        name = entry.name + ("/" if entry.is_dir() else "")
        target = f"{entry.name}/index.md" if entry.is_dir() else entry.name
        if entry.is_dir() and (entry / "README.md").is_file():
            target = f"{entry.name}/README.md"
        elif entry.is_dir() and not (entry / "index.md").is_file() and (entry / "index.html").is_file():
            target = f"{entry.name}/index.html"  # a page of its own (bench/floor_react/): no listing
        lines.append(f"- [{name}]({target})")
    return "\n".join(lines) + "\n"


def anchor_requirements(text: str) -> str:
    """``**PHL-X-001**`` -> a bold self-link with the id as its anchor (attr_list: raw HTML
    anchors would be lost after a page mentions `<script>`, which MkDocs' anchor scan reads as
    the start of a script element)."""
    return REQUIREMENT.sub(r"[**\1**](#\1){#\1}", text)


def requirements_page() -> str:
    entries = yaml.safe_load((REPO / "spec" / "requirements.yaml").read_text(encoding="utf-8"))
    lines = [
        "# Requirements",
        "",
        "Every normative requirement of the protocol (`spec/requirements.yaml`), linked to the",
        "sentence that states it. Conformance reports name failures by these ids.",
        "",
        "| id | level | profile | requirement |",
        "|---|---|---|---|",
    ]
    for entry in entries:
        page = Path(entry["page"]).relative_to("spec")
        summary = str(entry["summary"]).replace("|", "\\|")
        link = f"[{entry['id']}](../spec/{page}#{entry['id']})"
        lines.append(f"| {link} | {entry['level']} | {entry['profile']} | {summary} |")
    return "\n".join(lines) + "\n"


def conformance_page(reference: Path) -> str:
    sdk = reference / "conformance-sdk.md"
    adapter = f"{sys.executable} {REPO / 'sdk-python' / 'conformance_adapter.py'}"
    subprocess.run(
        [sys.executable, "-m", "phloem_conformance.cli", "run", "--target", "sdk",
         "--adapter", adapter, "--summary", str(sdk)],
        cwd=REPO, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    parts = [
        "# Conformance reports",
        "",
        "The reference implementations judged by the suite ([how to run it]"
        "(../conformance/README.md)). Every requirement id links to its rule in the "
        "[requirements](requirements.md).",
        "",
        "## Python SDK (phloem)",
        "",
        _demote(sdk.read_text(encoding="utf-8")),
    ]
    sdk.unlink()
    for role, title in (
        ("server", "Reference server (phloem_server)"),
        ("renderer", "React renderer (@phloem/react)"),
    ):
        summary = REPORTS / f"{role}.md"
        parts += ["", f"## {title}", ""]
        if summary.is_file():
            parts.append(_demote(summary.read_text(encoding="utf-8")))
        else:
            parts.append(
                f"Not in this build: `make test-conformance` writes `out/conformance/{role}.md`."
            )
    return "\n".join(parts) + "\n"


def _demote(markdown: str) -> str:
    """A report's headings two levels down, under this page's sections."""
    return re.sub(r"^(#+) ", lambda m: "#" * min(6, len(m[1]) + 2) + " ", markdown, flags=re.M)


def build(config: Path, site: Path) -> int:
    """`mkdocs build --strict` with `config`; its exit status. MkDocs' INFO lines (pages not
    in the nav, directory links) are dropped; warnings, which fail the build, are shown.
    (Not `--quiet`: it silences the warnings strict mode counts, and the build passes.)"""
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(config), "--site-dir", str(site)],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    for line in (done.stdout + done.stderr).splitlines():
        if line.strip() and not line.startswith(("INFO", "  - ")):
            print(line, file=sys.stderr)
    return done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docs", description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "out" / "site")
    args = parser.parse_args(argv)
    stage()
    return build(REPO / "mkdocs.yml", args.site)


if __name__ == "__main__":
    sys.exit(main())
