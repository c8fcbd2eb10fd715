"""The wire contract itself: every schema is valid 2020-12, every $ref resolves, every example
in schemas/<version>/examples/ validates (valid-*) or is rejected (invalid-*) as its name says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
VERSION_DIRS = sorted(p for p in SCHEMAS.iterdir() if p.is_dir())
SCHEMA_FILES = sorted(p for d in VERSION_DIRS for p in d.rglob("*.schema.json"))
EXAMPLES = sorted(p for d in VERSION_DIRS for p in (d / "examples").rglob("*.json"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


REGISTRY: Registry = Registry().with_resources(
    (_load(p)["$id"], Resource.from_contents(_load(p))) for p in SCHEMA_FILES
)


def _schema_for(example: Path) -> dict:
    name = example.parent.name
    version_dir = example.parents[2]
    for sub in ("messages", "components", "defs"):
        candidate = version_dir / sub / f"{name}.schema.json"
        if candidate.exists():
            return _load(candidate)
    raise AssertionError(f"example folder {name!r} names no schema in {version_dir}")


def test_schemas_and_examples_exist() -> None:
    assert len(SCHEMA_FILES) >= 20
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_schema_is_valid_2020_12(path: Path) -> None:
    schema = _load(path)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(str(path.relative_to(SCHEMAS)))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_every_ref_resolves(path: Path) -> None:
    schema = _load(path)
    resolver = REGISTRY.resolver(base_uri=schema["$id"])

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                resolver.lookup(ref)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(SCHEMAS)))
def test_example_matches_its_verdict(path: Path) -> None:
    validator = Draft202012Validator(_schema_for(path), registry=REGISTRY)
    errors = list(validator.iter_errors(_load(path)))
    if path.name.startswith("valid-"):
        assert errors == [], [e.message for e in errors]
    else:
        assert path.name.startswith("invalid-"), "examples are named valid-* or invalid-*"
        assert errors, f"{path.name} is accepted but is meant to be rejected"


def test_every_message_schema_has_an_example() -> None:
    for version_dir in VERSION_DIRS:
        for schema in (version_dir / "messages").glob("*.schema.json"):
            name = schema.name.removesuffix(".schema.json")
            assert any((version_dir / "examples" / name).glob("valid-*.json")) or name.endswith(
                "-message"
            ), f"{name} has no valid example"
