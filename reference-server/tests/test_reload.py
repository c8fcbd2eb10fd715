"""Development mode's reload (phloem_server.reload) without a browser: the stand-in app over
the runtime's own TestClient. The browser loop is tools/tests/test_reload.py."""

from __future__ import annotations

import sys
from pathlib import Path

import phloem as ph
import pytest
from phloem.testing import ServerError, TestClient
from phloem_server.reload import ERROR_ID, DevApp

SCRIPT = """\
import phloem as ph
from parts import label

app = ph.App("Dev")


@app.page("/")
def home(ui):
    count = ui.state("count", 0)
    if count.value == {fail_at}:
        raise ZeroDivisionError("page failed at {fail_at}")
    return ph.Column(
        ph.Text(label("{title}"), id="title"),
        ph.Text(f"Count: {{count.value}}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
    )
"""


def _nothing(ui: ph.UI) -> None:
    pass


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))  # as `phloem run` puts the script's directory
    (tmp_path / "parts.py").write_text("def label(text):\n    return text\n")
    path = tmp_path / "app.py"
    path.write_text(SCRIPT.format(title="One", fail_at=-1))
    yield path
    sys.modules.pop("parts", None)


def test_a_reload_re_renders_the_session_with_its_state(script: Path):
    dev = DevApp(script)
    assert dev.load()
    client = TestClient(dev.served_app())
    client.click("inc")
    script.write_text(SCRIPT.format(title="Two", fail_at=-1))
    assert dev.load()
    (patch,) = client.post(_nothing)
    assert patch["type"] == "ui.patch"
    assert patch["ops"] == [{"id": "title", "set": {"text": "Two"}}]  # only what changed
    assert client.text("count") == "Count: 1"


def test_a_local_module_reloads_and_the_framework_does_not(script: Path):
    dev = DevApp(script)
    assert dev.load()
    assert dev.files() == {script.resolve(), (script.parent / "parts.py").resolve()}
    client = TestClient(dev.served_app())
    (script.parent / "parts.py").write_text("def label(text):\n    return text.upper()\n")
    assert dev.load()
    client.post(_nothing)
    assert client.text("title") == "ONE"
    assert sys.modules["phloem"] is ph  # the framework was imported before, never reloaded


def test_a_script_that_fails_to_load_shows_its_traceback_until_a_good_save(script: Path):
    dev = DevApp(script)
    assert dev.load()
    client = TestClient(dev.served_app())
    client.click("inc")
    script.write_text("import phloem as ph\nraise RuntimeError('half-written')\n")
    assert not dev.load()
    client.post(_nothing)
    details = client.text(ERROR_ID)
    assert "RuntimeError: half-written" in details
    assert str(script) in details and "runpy" not in details  # the app's frames only
    script.write_text(SCRIPT.format(title="Back", fail_at=-1))
    assert dev.load()
    client.post(_nothing)
    assert client.text("title") == "Back"
    assert client.text("count") == "Count: 1"


def test_a_raising_page_shows_its_traceback_in_development(script: Path):
    script.write_text(SCRIPT.format(title="One", fail_at=1))
    dev = DevApp(script)
    assert dev.load()
    client = TestClient(dev.served_app())
    client.click("inc")  # count 1: the page raises
    assert "ZeroDivisionError: page failed at 1" in client.text(ERROR_ID)


def test_a_raising_page_sends_only_the_coded_error_in_production(script: Path):
    script.write_text(SCRIPT.format(title="One", fail_at=1))
    client = TestClient(ph.load_app(script))  # --no-reload serves the app itself
    with pytest.raises(ZeroDivisionError):
        client.click("inc")
    error = client.messages[-1]
    assert error["type"] == "error" and error["code"] == "handler_error"
    assert "Traceback" not in error["message"] and "page failed" not in error["message"]
    assert client.text("count") == "Count: 0"  # nothing of the event applied (PHL-EVT-010)


def test_a_script_broken_at_start_shows_its_traceback_and_recovers(script: Path):
    script.write_text("import phloem as ph\nraise RuntimeError('broken from the start')\n")
    dev = DevApp(script)
    assert not dev.load()
    client = TestClient(dev.served_app())
    assert "broken from the start" in client.text(ERROR_ID)
    script.write_text(SCRIPT.format(title="Up", fail_at=-1))
    assert dev.load()
    client.post(_nothing)
    assert client.text("title") == "Up"


def test_a_path_the_code_gains_on_save_serves_its_page(script: Path):
    dev = DevApp(script)
    assert dev.load()
    client = TestClient(dev.served_app(), path="/later")
    assert client.text("phloem-not-found") == "No page at /later"
    script.write_text(
        SCRIPT.format(title="One", fail_at=-1)
        + '\n\n@app.page("/later")\ndef later(ui):\n    return ph.Text("Here now", id="later")\n'
    )
    assert dev.load()
    client.post(_nothing)
    assert client.text("later") == "Here now"


def test_page_options_follow_the_current_code(script: Path):
    script.write_text(
        SCRIPT.format(title="One", fail_at=-1).replace(
            '@app.page("/")', '@app.page("/", auth=True)'
        )
    )
    dev = DevApp(script)
    assert dev.load()
    with pytest.raises(ServerError) as refused:
        TestClient(dev.served_app())  # anonymous
    assert refused.value.code == "unauthorized"
