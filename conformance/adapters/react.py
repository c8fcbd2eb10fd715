"""Conformance adapter for renderer-react: the generic browser adapter on its built dist/.

    python conformance/adapters/react.py        (build first: cd renderer-react && npm run build)

It passes the renderer's name and version, and ``--supported``: the component types the
renderer draws itself, one folder per type under ``renderer-react/src/components/`` (any other
type must show as a fallback). Other options (``--action-timeout-ms``, ``--chromium``) pass
through.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import playwright_renderer

RENDERER = Path(__file__).resolve().parents[2] / "renderer-react"


def supported() -> list[str]:
    """Component types with a view of their own: ``src/components/<Type>/<Type>.tsx``."""
    folders = (RENDERER / "src" / "components").iterdir()
    return sorted(d.name for d in folders if (d / f"{d.name}.tsx").is_file())


def main() -> int:
    package = json.loads((RENDERER / "package.json").read_text(encoding="utf-8"))
    return playwright_renderer.main([
        "--dist", str(RENDERER / "dist"),
        "--name", package["name"],
        "--version", package["version"],
        "--language", "typescript",
        "--supported", ",".join(supported()),
        *sys.argv[1:],
    ])


if __name__ == "__main__":
    sys.exit(main())
