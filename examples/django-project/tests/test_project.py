"""The example project as its developers run it: their own settings, database, login and ASGI
app (uvicorn), two Phloem apps under /tools/ next to ordinary Django views."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT.parents[1] / "tools" / "tests"))
from packaging_support import chromium, scaled, serve  # noqa: E402

pytestmark = [pytest.mark.subprocess]  # not in make test-fast


UVICORN_READY = re.compile(r"Uvicorn running on (?P<url>http://\S+)")
USER, PASSWORD = "alice", "wonderland-42"


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=PROJECT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = {**os.environ, "DJANGO_DB": str(tmp_path_factory.mktemp("db") / "db.sqlite3")}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the project's own settings (manage.py, asgi.py)
    _manage(env, "migrate", "--verbosity", "0")
    create = f"from django.contrib.auth.models import User; User.objects.create_user({USER!r}, password={PASSWORD!r})"
    _manage(env, "shell", "--command", create)
    cmd = [sys.executable, "-m", "uvicorn", "mysite.asgi:application", "--host", "127.0.0.1",
           "--port", "0"]  # fmt: skip
    with serve(cmd, env=env, cwd=PROJECT, ready=UVICORN_READY) as server:
        yield server.url


def test_the_project_passes_djangos_checks():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    _manage(env, "check", "--fail-level", "WARNING")


def test_an_anonymous_socket_to_the_signed_in_app_is_refused(site: str):
    from websockets.sync.client import connect

    url = site.replace("http://", "ws://") + "/tools/greeter/phloem/ws"
    with connect(url, subprotocols=["phloem.v1"], origin=site) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "hello", "versions": ["1.0"], "path": "/"}))
        reply = json.loads(ws.recv(timeout=scaled(10)))
    assert reply["type"] == "error" and reply["code"] == "unauthorized"


@pytest.mark.browser
def test_counter_under_its_prefix_next_to_django_views(site: str):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.goto(site + "/")
        expect(page.get_by_role("heading", level=1)).to_have_text("My site")  # a Django view
        page.get_by_role("link", name="Counter").click()
        count = page.locator('[data-node-id="count"]')
        expect(count).to_have_text("Count: 0")
        page.locator('[data-node-id="inc"]').click()
        page.locator('[data-node-id="inc"]').click()
        expect(count).to_have_text("Count: 2")
        assert page.url == site + "/tools/counter/"
        assert sockets == [site.replace("http://", "ws://") + "/tools/counter/phloem/ws"]


@pytest.mark.browser
def test_greeter_uses_the_projects_own_login(site: str):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.goto(site + "/tools/greeter/")
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/tools/greeter/"))
        page.get_by_label("Username").fill(USER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(site + "/tools/greeter/")
        expect(page.locator('[data-node-id="hello"]')).to_have_text(f"Hello, {USER}")
        page.locator('[data-node-id="wave"]').click()
        expect(page.locator('[data-node-id="times"]')).to_have_text("Waved 1 times")
        page.goto(site + "/")
        expect(page.locator("#who")).to_have_text(f"Signed in as {USER}.")
