"""Generated renderer cases (the patches generator): determinism, every patch valid against the
reference tree and the ui.patch schema, projections as the component pages state them, a
conformant fake renderer passing, and a renderer bug caught and shrunk to a minimal case."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from phloem_conformance.cases import lint, load_cases
from phloem_conformance.cli import main
from phloem_conformance.generate import (
    Generated,
    Script,
    candidates,
    patch_script,
    run_generated,
    scripts,
    shrink,
    to_case,
)
from phloem_conformance.generate_renderer import (
    MAX_NODES,
    MAX_PATCHES,
    count,
    expected,
    projection,
)
from phloem_conformance.matching import Bindings, match
from phloem_conformance.runner import Runner
from phloem_conformance.schemas import load_protocol
from phloem_conformance.tree import Tree

from .conftest import python_command

OPS = ("set", "unset", "insert", "remove", "move", "replace")


def _messages(script: Script) -> list[dict[str, Any]]:
    """The server messages of the case, numbered as the runner numbers them."""
    out = []
    for step in to_case(script).data["steps"]:
        if "s2c" in step:
            out.append({**step["s2c"], "seq": len(out) + 1})
    return out


def _op(op: dict[str, Any]) -> str:
    return next(k for k in OPS if k in op)


def test_the_same_seed_gives_the_same_cases_and_another_seed_others() -> None:
    one = [to_case(s).data for s in scripts(7, 10, "renderer")]
    assert one == [to_case(s).data for s in scripts(7, 10, "renderer")]
    assert one != [to_case(s).data for s in scripts(8, 10, "renderer")]
    assert {c["id"] for c in one} == {f"generated-patches-7-{i}" for i in range(10)}
    assert all(c["roles"] == ["renderer"] for c in one)


def test_every_patch_applies_to_the_reference_tree_and_validates() -> None:
    schemas = load_protocol()
    kinds: set[str] = set()
    for script in scripts(3, 80, "renderer"):
        tree = Tree()
        messages = _messages(script)
        assert [m["type"] for m in messages[:2]] == ["welcome", "ui.snapshot"]
        assert messages[-1]["type"] == "ui.snapshot"
        patches = messages[2:-1]
        assert 1 <= len(patches) <= MAX_PATCHES
        for message in messages:
            assert schemas.server_errors(message) == [], (script.id, message)
            if message["type"] == "ui.snapshot":
                assert tree.rev is None or message["rev"] > tree.rev  # a fresh one, a new rev
                tree.snapshot(message["root"], message["rev"])
            elif message["type"] == "ui.patch":
                assert message["base"] == tree.rev and message["rev"] > message["base"]
                tree.apply(message)  # raises PatchError when it does not apply
                kinds |= {_op(op) for op in message["ops"]}
            assert tree.root is None or count(tree.root) <= MAX_NODES
    assert kinds == set(OPS)


def test_every_render_step_expects_the_projection_of_the_reduced_tree() -> None:
    for script in scripts(4, 20, "renderer"):
        tree = Tree()
        renders = []
        for step in to_case(script).data["steps"]:
            message = step.get("s2c", {})
            if message.get("type") == "ui.snapshot":
                tree.snapshot(message["root"], message["rev"])
            elif message.get("type") == "ui.patch":
                tree.apply(message)
            elif "render" in step and "$bind" not in step["render"]:
                assert tree.root is not None
                assert step["render"] == expected(tree.root)
                assert match(step["render"], projection(tree.root), Bindings()) is None
                renders.append(step["render"])
        assert len(renders) == len(script.patches) + 2
        assert renders[-1] == renders[-2]  # the fresh snapshot shows what the patches built


def test_projections_are_the_component_pages_examples() -> None:
    """spec/1.0/components/*.md, "Observable projection", the examples of each page."""
    page = {"id": "root", "type": "Column", "props": {"gap": 8, "align": "start"}, "children": [
        {"id": "title", "type": "Text", "props": {"text": "Hello", "variant": "heading"}},
        {"id": "inc", "type": "Button", "props": {"label": "Increment", "variant": "primary"}},
        {"id": "name", "type": "TextInput", "props": {"label": "Name", "value": "Ada",
                                                       "placeholder": "Your name"}},
        {"id": "docs", "type": "Link", "props": {"text": "Documentation",
                                                  "href": "https://phloem.dev/docs"}},
        {"id": "off", "type": "Button", "props": {"label": "Off", "disabled": True}},
        {"id": "empty", "type": "TextInput", "props": {"label": "Empty"}}]}
    assert projection(page) == {"id": "root", "type": "Column", "role": "group", "children": [
        {"id": "title", "type": "Text", "role": "text", "text": "Hello", "children": []},
        {"id": "inc", "type": "Button", "role": "button", "name": "Increment", "enabled": True,
         "children": []},
        {"id": "name", "type": "TextInput", "role": "textbox", "name": "Name", "value": "Ada",
         "enabled": True, "children": []},
        {"id": "docs", "type": "Link", "role": "link", "name": "Documentation",
         "href": "https://phloem.dev/docs", "children": []},
        {"id": "off", "type": "Button", "role": "button", "name": "Off", "enabled": False,
         "children": []},
        {"id": "empty", "type": "TextInput", "role": "textbox", "name": "Empty", "value": "",
         "enabled": True, "children": []}]}
    pattern = expected(page)
    assert pattern["text"] == {"$absent": True} and pattern["children"][0]["name"] == {"$absent": True}
    text_with_a_name = {**projection(page)["children"][0], "name": "Hello"}
    assert match(pattern["children"][0], text_with_a_name, Bindings()) is not None


def test_generated_renderer_cases_lint(tmp_path: Path) -> None:
    out = tmp_path / "g"
    assert main(["generate", "--seed", "3", "--count", "12", "--target", "renderer", "--out", str(out)]) == 0
    cases = load_cases(out)
    assert len(cases) == 12 and lint(cases) == []
    assert all(yaml.safe_load(c.path.read_text())["roles"] == ["renderer"] for c in cases)


def test_shrinking_keeps_every_candidate_a_valid_smaller_session() -> None:
    script = patch_script(6, 3)
    seen = 0
    for candidate in candidates(script):
        seen += 1
        assert candidate.size() < script.size()
        tree = Tree()
        for message in _messages(candidate)[1:-1]:
            if message["type"] == "ui.snapshot":
                tree.snapshot(message["root"], message["rev"])
            else:
                tree.apply(message)
    assert seen > 10


def test_the_shrinker_finds_a_minimal_session_against_a_predicate() -> None:
    """A fake renderer that fails whenever a patch moves a node to another parent."""
    def moves_between(script: Script) -> bool:
        tree = Tree()
        assert script.root is not None
        tree.snapshot(script.root, 1)
        found = False
        for patch in script.patches:
            for op in patch["ops"]:
                if "move" in op:
                    parents = {c["id"]: n["id"] for n in _nodes(tree.root) for c in n["children"]}
                    found = found or parents[op["id"]] != op["move"]
                assert tree.rev is not None
                tree.apply({"base": tree.rev, "rev": tree.rev + 1, "ops": [op]})
        return found

    script = next(s for s in scripts(2, 60, "renderer") if moves_between(s) and len(s.patches) > 3)

    async def fails(candidate: Script) -> bool:
        return moves_between(candidate)

    small, runs = asyncio.run(shrink(script, fails))
    assert moves_between(small) and runs > 0
    [patch] = small.patches
    [op] = patch["ops"]
    assert "move" in op and patch["rev"] == 2
    assert small.root is not None
    assert count(small.root) == 3  # the root, the moved node and its new parent
    assert all(not n.get("props") for n in _nodes(small.root) if n["type"] == "Column")


def _nodes(node: Any) -> list[Any]:
    return [node, *(x for c in node.get("children") or [] for x in _nodes(c))]


def _run(fake_renderer: Path, tmp_path: Path, *bugs: str, seed: int, count: int,
         shrink_timeout: float | None = None) -> list[Generated]:
    command = python_command(fake_renderer, *(a for b in bugs for a in ("--bug", b)))

    async def go() -> list[Generated]:
        runner = Runner("renderer", command, load_protocol(), timeout_factor=0.2)
        await runner.start()
        try:
            return await run_generated(runner, seed, count, tmp_path, shrink_timeout=shrink_timeout)
        finally:
            await runner.stop()

    return asyncio.run(go())


@pytest.mark.subprocess
def test_a_conformant_fake_renderer_passes_the_generated_cases(fake_renderer: Path, tmp_path: Path) -> None:
    generated = _run(fake_renderer, tmp_path, seed=5, count=30)
    assert {g.result.status for g in generated} == {"PASS"}, [(g.script.id, g.result.reason) for g in generated]
    assert not list(tmp_path.glob("*.yaml"))
    # the runner took every step: snapshots, patches, renders, the fresh snapshot, the barrier
    transcript = generated[0].result.transcript
    assert [e["data"]["type"] for e in transcript if e["dir"] == "s2c"][-2:] == ["ui.snapshot", "ping"]
    assert sum(e["dir"] == "render" for e in transcript) == len(generated[0].script.patches) + 4


@pytest.mark.subprocess
def test_a_renderer_that_ignores_move_is_caught_and_shrunk_to_one_move(fake_renderer: Path,
                                                                      tmp_path: Path) -> None:
    generated = _run(fake_renderer, tmp_path, "ignore-move", seed=1, count=1, shrink_timeout=0.3)
    failed = [g for g in generated if g.result.status == "FAIL"]
    assert failed, [g.script.id for g in generated]
    for g in failed:
        assert g.shrunk_from is not None and g.script.size() < g.shrunk_from
        [patch] = g.script.patches
        assert [_op(op) for op in patch["ops"]] == ["move"]
        assert g.script.root is not None and count(g.script.root) <= 4
        divergence = g.result.divergence or {}
        assert divergence["kind"] == "render"
        assert divergence["step"] == 5  # the render after the one patch
        assert g.written is not None
        written = yaml.safe_load(g.written.read_text())
        assert written["id"] == g.script.id and written == json.loads(json.dumps(g.result.case.data))
        [ops] = [s["s2c"]["ops"] for s in written["steps"] if s.get("s2c", {}).get("type") == "ui.patch"]
        assert ops == patch["ops"]
    assert lint(load_cases(tmp_path)) == []
