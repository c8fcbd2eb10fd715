"""The suite judges implementations; it must never share their code (or their bugs)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parent.parent
FORBIDDEN = ("phloem", "phloem_server")
SOURCES = sorted(
    p for d in ("src", "adapters", "tests") for p in (CONFORMANCE / d).rglob("*.py")
)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__"
              and node.args and isinstance(node.args[0], ast.Constant)):
            found.add(str(node.args[0].value))
    return found


def test_sources_are_found() -> None:
    assert any(p.name == "runner.py" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(CONFORMANCE)))
def test_no_import_of_phloem_or_phloem_server(path: Path) -> None:
    bad = {m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN}
    assert bad == set()
