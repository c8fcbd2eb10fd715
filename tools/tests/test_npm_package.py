"""`npm pack` of @phloem/react as a React developer meets it: a library (ESM, declarations,
React as a peer, the React-free core as its own entry) that a fresh Vite + React app installs
from the tarball and uses to render the counter served by `phloem run`."""

from __future__ import annotations

import json
import os
import re
import sys
import tarfile
from pathlib import Path

import pytest
from packaging_support import REPO, chromium, npm, scaled, serve

pytestmark = [pytest.mark.subprocess]  # not in make test-fast

RENDERER = REPO / "renderer-react"
COUNTER = REPO / "sdk-python" / "examples" / "counter.py"
APP_MAIN = """\
import "@phloem/react/styles.css";
import { PhloemClient, defaultRegistry, mount } from "@phloem/react";
import { WS_PATH } from "@phloem/react/core";


// The Phloem server to use, e.g. ?server=127.0.0.1:8000 (this page is served elsewhere).
const server = new URLSearchParams(location.search).get("server") ?? location.host;
const client = new PhloemClient({
  url: `ws://${server}${WS_PATH}`,
  path: "/",
  components: defaultRegistry.versions(),
});
const root = document.getElementById("root");
if (root) mount(root, client, defaultRegistry);
client.start();
"""
APP_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>fresh app</title></head>
<body><h1>My own app</h1><div id="root"></div><script type="module" src="/src/main.tsx"></script>
</body></html>"""
APP_TSCONFIG = {
    "compilerOptions": {
        "target": "ES2022", "module": "ESNext", "moduleResolution": "Bundler", "jsx": "react-jsx",
        "strict": True, "noEmit": True, "skipLibCheck": False, "lib": ["ES2022", "DOM"],
        "types": [],
    },
    "include": ["src"],
}  # fmt: skip


def _members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball) as tar:
        return {
            m.name.removeprefix("package/"): tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def test_tarball_is_an_esm_library_with_declarations_and_react_as_a_peer(tarball: Path):
    files = _members(tarball)
    manifest = json.loads(files["package.json"])
    assert "private" not in manifest
    assert manifest["type"] == "module"
    assert set(manifest["peerDependencies"]) == {"react", "react-dom"}
    assert "react" not in manifest.get("dependencies", {})
    assert manifest["sideEffects"] == ["**/*.css"]  # the JS tree-shakes; only the CSS is kept
    for entry in ("./core", "."):
        target = manifest["exports"][entry]
        assert target["import"].removeprefix("./") in files
        assert target["types"].removeprefix("./") in files
    assert manifest["exports"]["./styles.css"].removeprefix("./") in files
    assert "LICENSE" in files and "README.md" in files
    assert not [name for name in files if name.startswith(("src/", "tests/"))]


def _imports(files: dict[str, bytes], name: str) -> set[str]:
    """Every module specifier `name` imports, following its relative imports inside lib/."""
    seen: set[str] = set()
    todo, found = [name], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        source = files[current].decode()
        for spec in re.findall(r"""(?:from|import)\s*["']([^"']+)["']""", source):
            if spec.startswith("./"):
                todo.append(str(Path(current).parent / spec[2:]))
            else:
                found.add(spec)
    return found


def test_core_entry_pulls_in_no_react(tarball: Path):
    files = _members(tarball)
    assert _imports(files, "lib/core.js") == set()
    assert {"react", "react-dom"} <= {s.split("/")[0] for s in _imports(files, "lib/index.js")}


@pytest.mark.browser
def test_fresh_vite_react_app_renders_the_counter_from_the_tarball(tarball: Path, tmp_path: Path):
    from playwright.sync_api import expect

    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    ours = json.loads((RENDERER / "package.json").read_text())["devDependencies"]
    (app / "package.json").write_text(json.dumps({
        "name": "fresh-app", "private": True, "type": "module",
        "dependencies": {"@phloem/react": f"file:{tarball}", "react": ours["react"],
                         "react-dom": ours["react-dom"]},
        "devDependencies": {k: ours[k] for k in ("vite", "@vitejs/plugin-react", "typescript",
                                                 "@types/react", "@types/react-dom")},
    }))  # fmt: skip
    (app / "tsconfig.json").write_text(json.dumps(APP_TSCONFIG))
    (app / "vite.config.js").write_text(
        'import react from "@vitejs/plugin-react";\nexport default { plugins: [react()] };\n'
    )
    (app / "index.html").write_text(APP_HTML)
    (app / "src" / "main.tsx").write_text(APP_MAIN)
    (app / "src" / "css.d.ts").write_text('declare module "*.css";\n')
    # From npm's cache where it can (the renderer's own install filled it).
    npm("install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", cwd=app)
    npm("exec", "--", "tsc", "-p", ".", cwd=app)  # the declarations type-check in a user's app
    npm("exec", "--", "vite", "build", "--logLevel", "error", cwd=app)

    static = [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
              "--directory", str(app / "dist")]  # fmt: skip
    ready = re.compile(r"\((?P<url>http://127\.0\.0\.1:\d+)/\)")
    env = {**os.environ, "PHLOEM_DATA_DIR": str(tmp_path / "data")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with serve(static, ready=ready) as page_server:
        phloem = [sys.executable, "-m", "phloem_server.cli", "run", str(COUNTER), "--port", "0",
                  "--no-reload", "--allow-origin", page_server.url]  # fmt: skip
        with serve(phloem, env=env) as server, chromium() as browser:
            page = browser.new_page()  # type: ignore[attr-defined]
            problems: list[str] = []
            page.on("pageerror", lambda exc: problems.append(str(exc)))
            host = server.url.removeprefix("http://")
            page.goto(f"{page_server.url}/?server={host}", timeout=scaled(10) * 1000)
            expect(page.get_by_role("heading")).to_have_text("My own app")
            count = page.locator('[data-node-id="count"]')
            expect(count).to_have_text("Count: 0")
            for _ in range(2):
                page.locator('[data-node-id="inc"]').click()
            expect(count).to_have_text("Count: 2")
            assert problems == []
