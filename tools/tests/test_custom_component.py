"""The custom-component path (docs/custom-components.md) end to end: the example's own React
component, bundled with @phloem/react from its npm tarball, served by `phloem run --renderer`,
used from Python through a typed helper over ph.Component; its event reaches the app."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from packaging_support import REPO, chromium, npm, serve

pytestmark = [pytest.mark.subprocess]  # not in make test-fast


EXAMPLE = REPO / "examples" / "custom-component"


@pytest.mark.browser
def test_sparkline_renders_and_its_pick_event_reaches_the_app(tarball: Path, tmp_path: Path):
    from playwright.sync_api import expect

    bundle = tmp_path / "renderer"
    shutil.copytree(
        EXAMPLE / "renderer", bundle, ignore=shutil.ignore_patterns("node_modules", "dist")
    )
    manifest = json.loads((bundle / "package.json").read_text())
    manifest["dependencies"]["@phloem/react"] = f"file:{tarball}"  # as from the registry
    (bundle / "package.json").write_text(json.dumps(manifest))
    npm("install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", cwd=bundle)
    npm("run", "build", "--silent", cwd=bundle)

    env = {**os.environ, "PHLOEM_DATA_DIR": str(tmp_path / "data")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [sys.executable, "-m", "phloem_server.cli", "run", str(EXAMPLE / "app.py"), "--port", "0",
           "--no-reload", "--renderer", str(bundle / "dist")]  # fmt: skip
    with serve(cmd, env=env) as server, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(server.url + "/")
        sparkline = page.locator('[data-node-id="sales"]')
        expect(sparkline).to_have_attribute("data-node-type", "Sparkline")  # not a fallback
        expect(page.get_by_role("img", name="Sales per day")).to_be_visible()
        expect(sparkline.locator("circle")).to_have_count(8)
        sparkline.locator('circle[data-index="5"]').click()
        expect(page.locator('[data-node-id="picked"]')).to_have_text("Day 6: 9 sold")
        assert problems == []


def test_renderer_flag_refuses_a_directory_without_a_build(tmp_path: Path):
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "phloem_server.cli", "run", str(EXAMPLE / "app.py"),
         "--renderer", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert "no index.html there" in done.stderr
