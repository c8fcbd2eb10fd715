"""Loading, hashing and linting conformance cases. Step kinds are registry.py's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from .matching import walk_variables
from .registry import applies, step_kind
from .schemas import SafeLoader, suite_dir


@dataclass(frozen=True)
class Case:
    data: dict[str, Any]
    path: Path
    area: str

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def hash(self) -> str:
        """SHA-256 over canonical JSON: a baseline notices when a case changes."""
        canonical = json.dumps(self.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def steps_for(self, role: str) -> list[tuple[int, str, dict[str, Any]]]:
        """(index, kind, step) of the steps that apply to ``role``, index into the file's list."""
        steps = self.data["steps"]
        case_roles = self.data["roles"]
        return [
            (index, step_kind(step), step)
            for index, step in enumerate(steps)
            if applies(step, role, case_roles)
        ]


def default_cases_dir() -> Path:
    return suite_dir() / "cases"


class CaseFileError(Exception):
    """A case file that is not YAML holding a mapping."""


def load_cases(directory: Path | None = None) -> list[Case]:
    root = directory or default_cases_dir()
    if not root.is_dir():
        raise CaseFileError(f"{root}: no such cases directory")
    cases = []
    for path in sorted(root.rglob("*.yaml")):
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
        except yaml.YAMLError as exc:
            raise CaseFileError(f"{path}: {exc}") from None
        if not isinstance(data, dict):
            raise CaseFileError(f"{path}: a case is a mapping")
        cases.append(Case(data, path, path.parent.name))
    return cases


def lint(cases: list[Case]) -> list[str]:
    """Problems that make a case unusable: schema, id/file name, duplicates, unbound variables."""
    # jsonschema-rs: the same Draft 2020-12 verdicts, fifty times faster than jsonschema here
    # (lint runs over every case and every generated one, in the fast test tier too).
    schema = json.loads((suite_dir() / "schemas" / "case.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft202012Validator(schema)
    problems = []
    seen: dict[str, Path] = {}
    for case in cases:
        where = str(case.path)
        booleans = [
            i
            for i, step in enumerate(case.data.get("steps") or [])
            if isinstance(step, dict) and any(isinstance(k, bool) for k in step)
        ]
        if booleans:  # YAML 1.1 reads a bare `on:` key as true
            problems += [
                f'{where}/steps/{i}: a boolean key: write "on": NAME (quoted), not on: NAME'
                for i in booleans
            ]
            continue
        for error in validator.iter_errors(case.data):
            pointer = "/" + "/".join(str(p) for p in error.instance_path)
            problems.append(f"{where}{pointer}: {error.message}")
        case_id = case.data.get("id")
        if case_id != case.path.stem:
            problems.append(f"{where}: id {case_id!r} differs from the file name")
        if case_id in seen:
            problems.append(f"{where}: id {case_id!r} already used by {seen[case_id]}")
        seen[str(case_id)] = case.path
        for role in case.data.get("roles", []):
            bound: set[str] = set()
            for index, kind, step in case.steps_for(role):
                body = {k: v for k, v in step.items() if k in (kind, "stimulus")}
                for var_kind, name in walk_variables(body):
                    if var_kind in ("bind", "rebind"):
                        bound.add(name)
                    elif name not in bound:
                        problems.append(
                            f"{where}/steps/{index}: $ref:{name} before $bind:{name} ({role})"
                        )
    return problems
