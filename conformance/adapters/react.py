"""Conformance adapter for renderer-react: the generic browser adapter on its built dist/.

    python conformance/adapters/react.py        (build first: cd renderer-react && npm run build)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import playwright_renderer

RENDERER = Path(__file__).resolve().parents[2] / "renderer-react"


def main() -> int:
    package = json.loads((RENDERER / "package.json").read_text(encoding="utf-8"))
    return playwright_renderer.main([
        "--dist", str(RENDERER / "dist"),
        "--name", package["name"],
        "--version", package["version"],
        "--language", "typescript",
        *sys.argv[1:],
    ])


if __name__ == "__main__":
    sys.exit(main())
