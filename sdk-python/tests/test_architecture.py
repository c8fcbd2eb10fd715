"""The protocol core and the session runtime stay sans-IO: neither they nor anything they
import from phloem imports a web framework, an event loop, sockets, threads or a clock."""

from __future__ import annotations

import ast
from pathlib import Path

import phloem

SRC = Path(phloem.__file__).resolve().parent
FORBIDDEN = {"django", "channels", "asyncio", "socket", "threading", "time"}


def _module_file(name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "phloem":
        return None
    base = SRC.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1])  # a module's package; for __init__ the package itself


def _imports(source: str, package: str = "") -> set[str]:
    """Every module name an import statement in ``source`` names, relative ones resolved."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _closure(start: list[Path]) -> dict[Path, set[str]]:
    """Every phloem module file reachable from ``start``, with its imports."""
    seen: dict[Path, set[str]] = {}
    todo = list(start)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = _imports(path.read_text(encoding="utf-8"), _package(path))
        for name in seen[path]:
            # Importing a.b.c runs a/__init__, a/b/__init__ too.
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                found = _module_file(".".join(parts[:i]))
                if found is not None and found not in seen:
                    todo.append(found)
    return seen


def test_protocol_and_runtime_never_import_io_frameworks_or_clocks() -> None:
    start = [*sorted((SRC / "protocol").rglob("*.py")), *sorted((SRC / "runtime").rglob("*.py"))]
    reached = _closure(start)
    assert SRC / "runtime" / "session.py" in reached  # the walk does follow phloem imports
    assert SRC / "ui" / "render.py" in reached
    offenders = {
        f"{path.relative_to(SRC)} imports {name}"
        for path, names in reached.items()
        for name in names
        if name.split(".")[0] in FORBIDDEN
    }
    assert not offenders


def test_the_check_catches_forbidden_imports_of_every_form() -> None:
    source = "import time\nfrom asyncio import sleep\nimport socket as s\nfrom . import threading\n"
    found = {name.split(".")[-1] for name in _imports(source, "phloem")}
    assert {"time", "asyncio", "socket", "threading"} <= found
