"""Lint the Phloem specification.

Checks, each reported as ``path:line: message``:

1. ``spec/requirements.yaml`` is well formed: every entry has an ``id`` of the form
   ``PHL-<AREA>-<NNN>``, a ``level`` (MUST, SHOULD, MAY), a ``profile`` (core, resilience,
   security, jobs), a one-sentence ``summary`` and a ``page`` that exists; ids are unique.
2. Every requirement is defined -- written ``**PHL-XXX-NNN**`` -- exactly once, on its page, in a
   sentence that uses its level's keyword; nothing else is defined anywhere.
3. Every requirement id cited in a spec page or in ``schemas/`` exists in requirements.yaml.
4. In normative pages (everything under ``spec/`` except the primer, README and changelog), an
   upper-case RFC 2119 keyword appears only in a sentence that carries a requirement id, and the
   lower-case words "must", "shall" and "should" do not appear at all. Keywords inside code or in
   double quotes ("MUST") are mentions, not uses.
5. Relative links between spec pages resolve, including ``#anchors``.

Usage: ``python tools/spec_lint.py [--root REPO]``. Exits 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ID_RE = re.compile(r"\bPHL-[A-Z]+-\d+\b")
ID_FORMAT_RE = re.compile(r"^PHL-[A-Z]+-\d{3}$")
DEFINITION_RE = re.compile(r"\*\*(PHL-[A-Z]+-\d+)\*\*")
UPPER_KEYWORD_RE = re.compile(
    r"\b(MUST NOT|MUST|SHALL NOT|SHALL|SHOULD NOT|SHOULD|NOT RECOMMENDED|RECOMMENDED|REQUIRED|MAY|OPTIONAL)\b"
)
LOWER_KEYWORD_RE = re.compile(r"\b(must|shall|should)\b")
LINK_RE = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
LEVELS = ("MUST", "SHOULD", "MAY")
PROFILES = ("core", "resilience", "security", "jobs")  # jobs: since 1.1
FIELDS = ("id", "level", "profile", "summary", "page")
# Pages that are not normative: rationale, layout and history.
NON_NORMATIVE = {"primer.md", "README.md", "CHANGELOG.md"}
# Abbreviations whose full stop does not end a sentence.
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "cf.")


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


@dataclass(frozen=True)
class Unit:
    """A sentence (or table row) of prose, with the line it starts on."""

    line: int
    text: str


def slugify(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def strip_code_blocks(lines: list[str]) -> list[str]:
    """Blank out fenced code blocks, keeping line numbers."""
    out, fenced = [], False
    for line in lines:
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
        else:
            out.append("" if fenced else line)
    return out


def prose_units(text: str) -> list[Unit]:
    """Split a page into sentences, one unit per table row, list items kept apart."""
    lines = strip_code_blocks(text.splitlines())
    blocks: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0

    def flush() -> None:
        if current:
            blocks.append((start, " ".join(current)))
            current.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("<!--"):
            flush()
            continue
        if line.startswith("|"):
            flush()
            blocks.append((number, line))
            continue
        if re.match(r"^([-*+]|\d+\.)\s", line) or line.startswith(">"):
            flush()
        if not current:
            start = number
        current.append(line)
    flush()

    units = []
    for number, block in blocks:
        block = re.sub(r"`[^`]*`", "`…`", block)  # code spans are mentions
        block = re.sub(r"\"[A-Z ]+\"", '"…"', block)  # so are quoted keywords: "MUST"
        protected = block
        for abbreviation in ABBREVIATIONS:
            protected = protected.replace(abbreviation, abbreviation.replace(".", "\0"))
        for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Z*\[(`\"])", protected):
            units.append(Unit(number, sentence.replace("\0", ".")))
    return units


def load_requirements(root: Path, problems: list[Problem]) -> dict[str, dict[str, Any]]:
    path = root / "spec" / "requirements.yaml"
    rel = str(path.relative_to(root))
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        problems.append(Problem(rel, 0, f"cannot read requirements: {exc}"))
        return {}
    if not isinstance(entries, list):
        problems.append(Problem(rel, 0, "requirements.yaml must hold a list of requirements"))
        return {}
    requirements: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(entries):
        where = f"entry {index + 1}"
        if not isinstance(entry, dict):
            problems.append(Problem(rel, 0, f"{where}: not a mapping"))
            continue
        rid = entry.get("id", "")
        where = f"{rid or where}"
        missing = [field for field in FIELDS if not entry.get(field)]
        if missing:
            problems.append(Problem(rel, 0, f"{where}: missing field(s) {', '.join(missing)}"))
        extra = sorted(set(entry) - set(FIELDS))
        if extra:
            problems.append(Problem(rel, 0, f"{where}: unknown field(s) {', '.join(extra)}"))
        if not ID_FORMAT_RE.match(str(rid)):
            problems.append(Problem(rel, 0, f"{where}: id is not of the form PHL-<AREA>-<NNN>"))
            continue
        if entry.get("level") not in LEVELS:
            problems.append(
                Problem(
                    rel, 0, f"{rid}: level {entry.get('level')!r} is not one of {', '.join(LEVELS)}"
                )
            )
        if entry.get("profile") not in PROFILES:
            problems.append(
                Problem(
                    rel,
                    0,
                    f"{rid}: profile {entry.get('profile')!r} is not one of {', '.join(PROFILES)}",
                )
            )
        page = entry.get("page")
        if page and not (root / str(page)).is_file():
            problems.append(Problem(rel, 0, f"{rid}: page {page} does not exist"))
        if rid in requirements:
            problems.append(Problem(rel, 0, f"{rid}: duplicate id"))
        requirements[rid] = entry
    return requirements


def check_pages(
    root: Path, requirements: dict[str, dict[str, Any]], problems: list[Problem]
) -> None:
    spec = root / "spec"
    definitions: dict[str, list[tuple[str, int]]] = {}
    pages = sorted(spec.rglob("*.md"))
    for page in pages:
        rel = str(page.relative_to(root))
        text = page.read_text(encoding="utf-8")
        normative = page.name not in NON_NORMATIVE
        code_free = strip_code_blocks(text.splitlines())

        for number, line in enumerate(code_free, start=1):
            for rid in DEFINITION_RE.findall(re.sub(r"`[^`]*`", "", line)):
                definitions.setdefault(rid, []).append((rel, number))
            for rid in ID_RE.findall(line):
                if rid not in requirements:
                    problems.append(Problem(rel, number, f"{rid} is not in spec/requirements.yaml"))

        if normative:
            for unit in prose_units(text):
                has_id = bool(ID_RE.search(unit.text))
                for keyword in UPPER_KEYWORD_RE.findall(unit.text):
                    if not has_id:
                        problems.append(
                            Problem(
                                rel,
                                unit.line,
                                f'"{keyword}" in a sentence without a requirement id: {short(unit.text)}',
                            )
                        )
                for word in LOWER_KEYWORD_RE.findall(unit.text):
                    problems.append(
                        Problem(
                            rel,
                            unit.line,
                            f'lower-case "{word}" in a normative page (use the upper-case keyword with an id, '
                            f"or rephrase): {short(unit.text)}",
                        )
                    )
                for rid in DEFINITION_RE.findall(unit.text):
                    level = requirements.get(rid, {}).get("level")
                    if level in LEVELS and not re.search(rf"\b{level}\b", unit.text):
                        problems.append(
                            Problem(
                                rel,
                                unit.line,
                                f"{rid} is a {level} requirement but its sentence lacks {level}",
                            )
                        )

        check_links(root, page, code_free, problems)

    for rid, entry in sorted(requirements.items()):
        found = definitions.get(rid, [])
        home = str(entry.get("page", ""))
        if not found:
            problems.append(
                Problem(home, 0, f"{rid} is never defined (expected **{rid}** on {home})")
            )
            continue
        if len(found) > 1:
            where = ", ".join(f"{where_path}:{where_line}" for where_path, where_line in found)
            problems.append(
                Problem(found[1][0], found[1][1], f"{rid} is defined {len(found)} times ({where})")
            )
        for found_path, found_line in found:
            if found_path != home:
                problems.append(
                    Problem(
                        found_path,
                        found_line,
                        f"{rid} is defined here but requirements.yaml puts it on {home}",
                    )
                )


def check_links(root: Path, page: Path, lines: list[str], problems: list[Problem]) -> None:
    rel = str(page.relative_to(root))
    for number, line in enumerate(lines, start=1):
        for target in LINK_RE.findall(re.sub(r"`[^`]*`", "", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path_part, _, anchor = target.partition("#")
            destination = (page.parent / path_part).resolve() if path_part else page
            if not destination.exists():
                problems.append(
                    Problem(rel, number, f"broken link: {target} ({path_part} does not exist)")
                )
                continue
            if anchor and destination.suffix == ".md":
                headings = {
                    slugify(h.lstrip("#"))
                    for h in strip_code_blocks(destination.read_text(encoding="utf-8").splitlines())
                    if h.startswith("#")
                }
                if anchor not in headings:
                    problems.append(
                        Problem(rel, number, f"broken link: {target} (no heading #{anchor})")
                    )


def check_schemas(
    root: Path, requirements: dict[str, dict[str, Any]], problems: list[Problem]
) -> None:
    for schema in sorted((root / "schemas").rglob("*.json")):
        rel = str(schema.relative_to(root))
        text = schema.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except json.JSONDecodeError as exc:
            problems.append(Problem(rel, exc.lineno, f"invalid JSON: {exc.msg}"))
        for number, line in enumerate(text.splitlines(), start=1):
            for rid in ID_RE.findall(line):
                if rid not in requirements:
                    problems.append(Problem(rel, number, f"{rid} is not in spec/requirements.yaml"))


def short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def lint(root: Path) -> list[Problem]:
    problems: list[Problem] = []
    requirements = load_requirements(root, problems)
    if (root / "spec").is_dir():
        check_pages(root, requirements, problems)
    if (root / "schemas").is_dir():
        check_schemas(root, requirements, problems)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent.parent, help="repository root"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    problems = lint(root)
    for problem in problems:
        print(problem)
    if problems:
        print(f"spec-lint: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    count = len(yaml.safe_load((root / "spec" / "requirements.yaml").read_text(encoding="utf-8")))
    print(f"spec-lint: ok ({count} requirements)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
