"""Generated cases: determinism, validity, the metamorphic check, and shrinking to a minimal case."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from phloem_conformance.cases import lint, load_cases
from phloem_conformance.cli import main
from phloem_conformance.generate import Script, run_generated, scripts, shrink, to_case, tree_script
from phloem_conformance.runner import Runner
from phloem_conformance.schemas import load_protocol

from .conftest import python_command


def test_the_same_seed_gives_the_same_cases_and_another_seed_others() -> None:
    one = [to_case(s).data for s in scripts(7, 10)]
    assert one == [to_case(s).data for s in scripts(7, 10)]
    assert one != [to_case(s).data for s in scripts(8, 10)]


def test_generated_cases_lint_and_their_stimuli_validate(tmp_path: Path) -> None:
    assert main(["generate", "--seed", "3", "--count", "30", "--out", str(tmp_path / "g")]) == 0
    cases = load_cases(tmp_path / "g")
    assert len(cases) == 30
    assert lint(cases) == []
    schemas = load_protocol()
    for case in cases:
        for step in case.data["steps"]:
            if "c2s" in step and "$ref:root" not in str(step["c2s"]):
                assert schemas.client_errors(step["c2s"]) == [], (case.id, step)


def test_generated_trees_change_every_time_and_keep_ids_unique() -> None:
    for index in range(0, 40, 2):
        script = tree_script(11, index)
        for before, after in zip(script.sets, script.sets[1:], strict=False):
            assert before != after
        for forest in script.sets:
            ids = [n["id"] for n in _walk(forest)]
            assert len(ids) == len(set(ids)) and "root" not in ids


def _walk(forest: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    return [x for n in forest for x in [n, *_walk(n["children"])]]


def _run(fake_sdk: Path, tmp_path: Path, *bugs: str, count: int = 12, role: str = "sdk") -> list:  # type: ignore[type-arg]
    command = python_command(fake_sdk, *(["--role", "server"] if role == "server" else []),
                             *(a for b in bugs for a in ("--bug", b)))

    async def go() -> list:  # type: ignore[type-arg]
        runner = Runner(role, command, load_protocol())
        await runner.start()
        try:
            return await run_generated(runner, 5, count, tmp_path)
        finally:
            await runner.stop()

    return asyncio.run(go())


@pytest.mark.parametrize("role", ["sdk", "server"])
@pytest.mark.subprocess
def test_a_conformant_fake_passes_the_generated_cases(fake_sdk: Path, tmp_path: Path, role: str) -> None:
    generated = _run(fake_sdk, tmp_path, role=role, count=8 if role == "server" else 12)
    assert {g.result.status for g in generated} == {"PASS"}, [(g.script.id, g.result.reason) for g in generated]
    assert not list(tmp_path.glob("*.yaml"))


@pytest.mark.subprocess
def test_a_patch_bug_is_shrunk_to_one_event_with_the_nodes_that_matter(fake_sdk: Path, tmp_path: Path) -> None:
    """The fake drops `disabled` from a Button inside a Column, in patches only."""
    generated = _run(fake_sdk, tmp_path, "echo-drops-disabled", count=40)
    failed = [g for g in generated if g.result.status == "FAIL"]
    assert failed, "no generated tree had a disabled Button in a Column"
    for g in failed:
        assert g.written is not None and g.written.is_file()
        [forest] = g.script.sets  # one event
        nodes = _walk(forest)
        assert [n["type"] for n in nodes] == ["Column", "Button"], forest
        assert set(nodes[1]["props"]) == {"label", "disabled"}
        assert nodes[0]["props"] == {}
        assert g.result.divergence["kind"] == "effect"
        assert g.result.divergence["pointer"].endswith("/props/disabled")
        written = load_cases(tmp_path)
        assert lint(written) == []
        assert yaml.safe_load(g.written.read_text())["id"] == g.script.id


@pytest.mark.subprocess
def test_the_metamorphic_check_catches_a_resync_that_differs_from_the_patches(fake_sdk: Path,
                                                                               tmp_path: Path) -> None:
    """The fake's resync snapshot reverses the root's children; every patch was right."""
    generated = _run(fake_sdk, tmp_path, "resync-reverses", count=12)
    failed = [g for g in generated if g.result.status == "FAIL"]
    assert failed
    for g in failed:
        assert g.result.divergence["kind"] == "reduced"
        assert g.result.divergence["pointer"].startswith("/root/children/0")
        assert len(g.script.sets) == 1
        assert len(g.script.sets[0]) == 2 and all(not n["children"] for n in g.script.sets[0])


@pytest.mark.subprocess
def test_malformed_frames_get_their_codes(fake_sdk: Path, tmp_path: Path) -> None:
    generated = _run(fake_sdk, tmp_path, count=20)
    kinds = {g.script.kind for g in generated}
    assert kinds == {"trees", "malformed"}
    codes = {code for g in generated for _, code in g.script.frames}
    assert {"malformed_frame", "invalid_message", "unknown_message_type", "frame_too_large"} <= codes


def test_the_shrinker_finds_a_minimal_failing_script_against_a_predicate() -> None:
    """A fake implementation that fails whenever some set holds a Text inside a Column."""
    def has_text_in_column(script: Script) -> bool:
        return any(n["type"] == "Column" and any(c["type"] == "Text" for c in n["children"])
                   for forest in script.sets for n in _walk(forest))

    script = next(s for s in (tree_script(2, i) for i in range(0, 400, 2)) if has_text_in_column(s))

    async def fails(candidate: Script) -> bool:
        return has_text_in_column(candidate)

    small, runs = asyncio.run(shrink(script, fails))
    assert has_text_in_column(small) and runs > 0
    [forest] = small.sets
    assert [n["type"] for n in _walk(forest)] == ["Column", "Text"]
    assert small.size() < script.size()
