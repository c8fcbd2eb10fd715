"""`make dist` as a new user meets it: each wheel installed alone into a fresh virtual
environment, from dist/ and a wheelhouse of the pinned third-party wheels (pip --no-index), then
used as its user would. One build and one venv per distribution for the whole test session:
creating a venv and installing into it costs seconds on 2 cores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging_support import REPO, chromium, scaled, serve

pytestmark = [pytest.mark.subprocess]  # not in make test-fast

COUNTER = REPO / "sdk-python" / "examples" / "counter.py"
WHEELHOUSE = REPO / "out" / "wheelhouse"  # third-party wheels, kept between runs


def _version() -> str:
    sys.path.insert(0, str(REPO / "tools"))
    import dist

    return dist.version()


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (REPO / "renderer-react" / "dist" / "index.html").is_file():
        pytest.fail("the renderer is not built: run `make build` (make dist builds it first)")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, str(REPO / "tools" / "dist.py"), "--out", str(out)], check=True)
    wheels = sorted(out.glob("*.whl"))
    # Everything the wheels need but themselves, at requirements.lock's versions: from the
    # wheelhouse a previous run filled when it has them all, else from PyPI (and pip's cache).
    # The phloem wheels themselves come from `out` only.
    download = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                "-d", str(WHEELHOUSE), "--find-links", str(out), "-c", str(REPO / "requirements.lock"),
                *map(str, wheels)]  # fmt: skip
    offline = subprocess.run(
        [*download, "--no-index", "--find-links", str(WHEELHOUSE)], capture_output=True
    )
    if offline.returncode != 0:
        subprocess.run(download, check=True)
    for ours in WHEELHOUSE.glob("phloem*"):
        ours.unlink()
    return out


def _fresh_venv(root: Path, dist: Path, requirement: str) -> Path:
    """A new venv with `requirement` installed from `dist` and the wheelhouse alone; its bin/."""
    # Without pip of its own (ensurepip costs 5-20 s on a busy machine): this venv's pip
    # installs into it (--python).
    venv.EnvBuilder(with_pip=False).create(root)
    bin_dir = root / "bin"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q",
         "--disable-pip-version-check", "--no-compile",
         "--no-index", "--find-links", str(dist), "--find-links", str(WHEELHOUSE), requirement],
        check=True,
        env={**env, "PIP_CONFIG_FILE": os.devnull},  # no machine-wide index or constraints
    )  # fmt: skip
    return bin_dir


@pytest.fixture(scope="session")
def sdk_venv(tmp_path_factory: pytest.TempPathFactory, dist_dir: Path) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("venv-phloem"), dist_dir, "phloem")


@pytest.fixture(scope="session")
def server_venv(tmp_path_factory: pytest.TempPathFactory, dist_dir: Path) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("venv-server"), dist_dir, "phloem-server")


@pytest.fixture(scope="session")
def conformance_venv(tmp_path_factory: pytest.TempPathFactory, dist_dir: Path) -> Path:
    return _fresh_venv(tmp_path_factory.mktemp("venv-conf"), dist_dir, "phloem-conformance")


def _python(bin_dir: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # cwd outside the checkout, so nothing imports from the repository by accident.
    return subprocess.run(
        [str(bin_dir / "python"), "-c", code], cwd=cwd, capture_output=True, text=True
    )


def test_every_distribution_has_a_wheel_and_an_sdist_at_the_one_version(dist_dir: Path):
    ver = _version()
    names = sorted(p.name for p in dist_dir.iterdir())
    assert names == [
        f"phloem-{ver}-py3-none-any.whl",
        f"phloem-{ver}.tar.gz",
        f"phloem_conformance-{ver}-py3-none-any.whl",
        f"phloem_conformance-{ver}.tar.gz",
        f"phloem_server-{ver}-py3-none-any.whl",
        f"phloem_server-{ver}.tar.gz",
    ]
    for wheel in dist_dir.glob("*.whl"):
        with zipfile.ZipFile(wheel) as z:
            info = wheel.name.split("-py3")[0] + ".dist-info"
            assert "Apache License" in z.read(f"{info}/licenses/LICENSE").decode()
            metadata = z.read(f"{info}/METADATA").decode()
            assert "Description-Content-Type: text/markdown" in metadata  # the README
            assert "License-Expression: Apache-2.0" in metadata


def test_packages_state_the_version_of_the_root_pyproject():
    from phloem_conformance import __version__ as conformance

    assert conformance == _version()


def test_sdk_imports_and_tests_an_app_without_django(sdk_venv: Path, tmp_path: Path):
    code = f"""
import importlib.util, runpy
import phloem
from phloem.testing import TestClient
assert importlib.util.find_spec("django") is None, "django is installed"
app = runpy.run_path({str(COUNTER)!r})["app"]
client = TestClient(app)
client.click("inc"); client.click("inc")
print(client.text("count"))
"""
    done = _python(sdk_venv, code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Count: 2"
    assert _python(sdk_venv, "import django", tmp_path).returncode != 0


def test_conformance_runs_the_suite_against_the_sdk_without_django_or_phloem(
    conformance_venv: Path, sdk_venv: Path, tmp_path: Path
):
    for absent in ("django", "phloem", "phloem_server"):
        assert _python(conformance_venv, f"import {absent}", tmp_path).returncode != 0, absent
    report = tmp_path / "sdk.ndjson"
    # The SDK adapter runs in the SDK's venv: the suite and the implementation share nothing.
    adapter = f"{sdk_venv / 'python'} {REPO / 'sdk-python' / 'conformance_adapter.py'}"
    done = subprocess.run(
        [str(conformance_venv / "phloem-conformance"), "run", "--target", "sdk",
         "--adapter", adapter, "--report", str(report)],
        cwd=tmp_path, capture_output=True, text=True, timeout=scaled(120),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = [json.loads(line) for line in report.read_text().splitlines()]
    cases = [r for r in results if r["kind"] == "case"]
    statuses = {r["status"] for r in cases}
    assert statuses == {"PASS", "N/A"}, statuses
    assert sum(r["status"] == "PASS" for r in cases) > 50  # the suite ran, not only its header


@pytest.mark.browser
def test_server_wheel_serves_the_counter_in_chromium(server_venv: Path, tmp_path: Path):
    from playwright.sync_api import expect

    env = {**os.environ, "PHLOEM_DATA_DIR": str(tmp_path / "data")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    cmd = [str(server_venv / "phloem"), "run", str(COUNTER), "--port", "0"]
    with serve(cmd, env=env, cwd=tmp_path) as server, chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(server.url + "/")
        count = page.locator('[data-node-id="count"]')
        expect(count).to_have_text("Count: 0")
        for _ in range(3):
            page.locator('[data-node-id="inc"]').click()
        expect(count).to_have_text("Count: 3")
        assert problems == []
    # The renderer came from the wheel, not from a checkout.
    site = _python(server_venv, "import phloem_server.renderer as r, django.conf as c; "
                   "c.settings.configure(); print(r.dist_dir())", tmp_path)  # fmt: skip
    assert "site-packages/phloem_server/static/phloem" in site.stdout, site.stdout + site.stderr
