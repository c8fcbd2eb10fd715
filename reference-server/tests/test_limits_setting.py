"""Limits on the server (design §3): the PHLOEM_LIMITS setting, checked when Django starts;
page overrides; max_tree_nodes answered with tree_too_large."""

import os
import subprocess
import sys

import phloem as ph
import pytest
from conftest import FIXTURE_APPS
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from phloem_server import registry
from session import Session

BAD = [
    ({"max_tree_node": 10}, "unknown limit(s) max_tree_node"),
    ({"resume_seconds": 0}, "resume_seconds must be greater than 0"),
    ({"max_tree_nodes": "many"}, "max_tree_nodes must be an integer"),
    (["max_tree_nodes"], "must be a dict"),
]


@pytest.mark.parametrize(("value", "message"), BAD)
def test_a_bad_phloem_limits_setting_is_refused_with_its_reason(value, message):
    with override_settings(PHLOEM_LIMITS=value), pytest.raises(ImproperlyConfigured) as info:
        registry.limits()
    assert message in str(info.value)


def test_phloem_limits_configures_the_served_hub():
    with override_settings(PHLOEM_LIMITS={"max_tree_nodes": 500, "resume_seconds": 30}):
        registry.clear()
        hub = registry.load(FIXTURE_APPS).hub
        registry.clear()
    assert hub.limits.max_tree_nodes == 500 and hub.limits.resume_seconds == 30


@pytest.mark.subprocess
def test_phloem_run_stops_at_startup_on_a_bad_limit(tmp_path):
    env = {**os.environ, "PHLOEM_DATA_DIR": str(tmp_path), "PHLOEM_LIMITS": '{"max_tree_nodes": 0}'}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "phloem_server.cli", "run", str(FIXTURE_APPS), "--port", "0"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "PHLOEM_LIMITS: limit max_tree_nodes must be at least 1" in result.stderr


@pytest.mark.usefixtures("served")
async def test_page_limits_are_announced_and_the_tree_size_is_enforced():
    session, welcome, _ = await Session.open("/tree-echo")
    assert welcome["limits"]["max_tree_nodes"] == 100
    assert welcome["limits"]["replay_messages"] == 256
    nodes = [{"id": f"n{i}", "type": "Text", "props": {"text": "x"}} for i in range(100)]
    await session.send({"type": "event", "id": 1, "node": "root", "name": "set", "value": nodes})
    error = await session.recv()
    assert error["code"] == "tree_too_large" and error["limit"] == 100 and error["event"] == 1
    await session.send(
        {"type": "event", "id": 2, "node": "root", "name": "set", "value": nodes[:99]}
    )
    assert (await session.recv())["type"] == "ui.patch"  # 100 nodes: the session lives on
    await session.close()
    small, welcome, _ = await Session.open("/small-buffer")
    assert welcome["limits"]["replay_messages"] == 2
    await small.close()


def test_quick_handlers_run_inline_only_when_the_setting_asks():
    from phloem.runtime.inline import InlinePolicy

    app = ph.App("inline")
    assert registry.install(app, "inline.py", key="inline-off").hub.inline is None
    with override_settings(PHLOEM_INLINE_QUICK_HANDLERS=True):
        hub = registry.install(app, "inline.py", key="inline-on").hub
    assert isinstance(hub.inline, InlinePolicy) and hub.offload
