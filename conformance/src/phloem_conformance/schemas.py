"""Locate and load the protocol schemas and the suite's own schemas (case, report)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from . import PROTOCOL_VERSION

_HERE = Path(__file__).resolve().parent


def _repo_root() -> Path | None:
    for parent in _HERE.parents:
        if (parent / "schemas" / "1.0").is_dir() and (parent / "conformance").is_dir():
            return parent
    return None


def protocol_schemas_dir(
    version: str = PROTOCOL_VERSION, override: str | Path | None = None
) -> Path:
    """The protocol schemas: ``--schemas`` if given, else the wheel copy, else the repository's."""
    if override is not None:
        path = Path(override)
        return path / version if (path / version).is_dir() else path
    bundled = _HERE / "_schemas" / version
    if bundled.is_dir():
        return bundled
    root = _repo_root()
    if root is None:
        raise FileNotFoundError("protocol schemas not found; pass --schemas DIR")
    return root / "schemas" / version


def suite_dir() -> Path:
    """The ``conformance/`` directory holding cases, fixtures and the suite's schemas."""
    root = _repo_root()
    if root is None:
        raise FileNotFoundError("conformance/ directory not found; pass --cases DIR")
    return root / "conformance"


class ProtocolSchemas:
    """Validators for client and server messages of one protocol version."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        resources = []
        # A minor version's directory holds what it adds or changes and refers to the earlier
        # ones' files (schemas/1.1 -> ../../1.0/...): load those as well.
        earlier = [d for d in _earlier_versions(directory) if d != directory]
        for path in [p for d in earlier for p in sorted(d.rglob("*.schema.json"))] + sorted(
            directory.rglob("*.schema.json")
        ):
            contents = json.loads(path.read_text(encoding="utf-8"))
            resources.append((contents["$id"], Resource.from_contents(contents)))
        self.registry: Registry[Any] = Registry().with_resources(resources)
        self.client = self._validator("messages/client-message.schema.json")
        self.server = self._validator("messages/server-message.schema.json")

    def _validator(self, relative: str) -> Draft202012Validator:
        schema = json.loads((self.directory / relative).read_text(encoding="utf-8"))
        return Draft202012Validator(schema, registry=self.registry)

    def client_errors(self, message: Any) -> list[str]:
        return _errors(self.client, message)

    def server_errors(self, message: Any) -> list[str]:
        return _errors(self.server, message)


def _version_key(name: str) -> tuple[int, int] | None:
    major, dot, minor = name.partition(".")
    return (int(major), int(minor)) if dot and major.isdigit() and minor.isdigit() else None


def _earlier_versions(directory: Path) -> list[Path]:
    """Sibling version directories of the same major, up to ``directory``'s own."""
    own = _version_key(directory.name)
    if own is None or not directory.parent.is_dir():
        return []
    found = []
    for sibling in directory.parent.iterdir():
        key = _version_key(sibling.name)
        if sibling.is_dir() and key is not None and key[0] == own[0] and key <= own:
            found.append((key, sibling))
    return [d for _, d in sorted(found)]


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    found = []
    for error in validator.iter_errors(instance):
        # oneOf failures bury the useful reason; report the deepest, most specific one.
        best = error
        while best.context:
            # Drop the branches whose `type` const already says "not this message".
            wrong = {e.relative_schema_path[0] for e in best.context if _is_type_mismatch(e)}
            rest = [e for e in best.context if e.relative_schema_path[0] not in wrong]
            best = max(rest or best.context, key=lambda e: len(e.absolute_path))
        pointer = "/" + "/".join(str(p) for p in best.absolute_path)
        found.append(f"{pointer}: {best.message}")
    return found


def _is_type_mismatch(error: Any) -> bool:
    return list(error.relative_path) == ["type"] and error.validator == "const"


@cache
def load_protocol(version: str = PROTOCOL_VERSION, override: str | None = None) -> ProtocolSchemas:
    return ProtocolSchemas(protocol_schemas_dir(version, override))


def suite_schema(name: str) -> Draft202012Validator:
    """A validator for one of the suite's schemas: ``case`` or ``report``."""
    path = suite_dir() / "schemas" / f"{name}.schema.json"
    return Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
