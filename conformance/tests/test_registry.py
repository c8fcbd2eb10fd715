"""The step registry: every kind is one decorated function, and everything else derives from it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from phloem_conformance import registry, registry_gen
from phloem_conformance.cases import Case, lint
from phloem_conformance.registry import Doc, applies, kinds, open_fields, step_kind, walk
from phloem_conformance.schemas import suite_dir, suite_schema


def test_the_case_schema_and_the_readme_table_are_what_the_registry_writes() -> None:
    """Stale? Run python -m phloem_conformance.registry_gen --write."""
    assert registry_gen.stale() == []


def test_the_schema_lists_exactly_the_registered_kinds() -> None:
    schema = json.loads((suite_dir() / "schemas" / "case.schema.json").read_text())
    step = schema["$defs"]["step"]
    listed = [alt["required"][0] for alt in step["oneOf"]]
    assert listed == list(kinds())
    assert len(set(listed)) == len(listed)
    assert [alt["if"]["required"][0] for alt in step["allOf"]] == listed


def test_every_kind_has_a_runner_a_body_schema_and_a_readme_row() -> None:
    readme = (suite_dir() / "README.md").read_text()
    for name, kind in kinds().items():
        assert callable(kind.run), name
        assert kind.body, name
        assert kind.docs and all(d.form.startswith(f"`{name}") for d in kind.docs), name
        assert all(f"| {d.form} |" in readme for d in kind.docs), name


def test_default_roles_come_from_the_registry() -> None:
    roles = ["server", "sdk", "renderer"]
    assert applies({"user": {"click": "b"}}, "renderer", roles)
    assert not applies({"user": {"click": "b"}}, "sdk", roles)
    assert applies({"c2s": {"type": "ping"}}, "sdk", roles)  # no default: the case's roles
    assert not applies({"c2s": {"type": "ping"}}, "sdk", ["renderer"])
    assert applies({"control": {"advance": 1}, "roles": ["renderer"]}, "renderer", roles)
    # connect: a probe is for servers, a named connection for servers and SDKs
    assert not applies({"connect": {"status": 403}}, "sdk", roles)
    assert applies({"connect": {"as": "b"}}, "sdk", roles)


def test_the_walker_finds_steps_at_any_depth() -> None:
    steps = [
        {"c2s": {"type": "ping"}},
        {"repeat": {"times": 2, "steps": [{"any_order": [{"control": {"advance": 1}}]}]}},
        {"interleave": [[{"barrier": {}}], [{"s2c": {"type": "pong"}}]]},
    ]
    assert [kind for kind, _ in walk(steps)] == [
        "c2s",
        "repeat",
        "any_order",
        "control",
        "interleave",
        "barrier",
        "s2c",
    ]


def test_a_renderer_gets_a_clock_only_for_a_control_step_that_applies_to_it() -> None:
    roles = ["renderer", "sdk"]
    nested = [{"any_order": [{"control": {"advance": 1}, "roles": ["renderer"]}]}]
    assert open_fields(nested, "renderer", roles) == {"clock": True}
    assert open_fields([{"control": {"advance": 1}}], "renderer", roles) == {}  # sdk's only
    assert open_fields(nested, "sdk", roles) == {}


def test_a_step_of_no_known_kind_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no known kind"):
        step_kind({"teleport": {}})


def test_a_new_step_kind_is_one_decorated_function(tmp_path: Path) -> None:
    """Registered once: the session runs it, the schema lists it (lint accepts a case using
    it), the roles default as declared and the README has its row."""
    ran: list[Any] = []

    @registry.step(
        "wait_job",
        body={"type": "object", "required": ["job"], "properties": {"job": {"type": "string"}}},
        roles=("server", "sdk"),
        docs=[Doc("`wait_job: {job}`", "waits for the job", "—")],
    )
    async def wait_job(session: Any, step: dict[str, Any]) -> None:
        ran.append(step["wait_job"])

    try:
        assert "wait_job" in kinds()
        assert not applies({"wait_job": {"job": "j"}}, "renderer", ["sdk", "renderer"])
        schema = registry_gen.case_schema(suite_schema("case").schema)
        assert "wait_job" in [a["required"][0] for a in schema["$defs"]["step"]["oneOf"]]
        assert "| `wait_job: {job}` | waits for the job | — |" in registry_gen.readme_table()
        asyncio.run(registry.run(object(), "wait_job", {"wait_job": {"job": "j"}}))  # type: ignore[arg-type]
        assert ran == [{"job": "j"}]
        # The suite's own files do not know it yet: the gen check says so.
        assert registry_gen.stale() != []
        case = Case(
            {
                "id": "job-waits",
                "rev": 1,
                "title": "A job is waited for",
                "requirements": ["PHL-JOB-001"],
                "profile": "core",
                "level": "MUST",
                "since": "1.0",
                "roles": ["sdk"],
                "steps": [{"wait_job": {"job": "j"}}],
            },
            tmp_path / "job-waits.yaml",
            "jobs",
        )
        # Lint judges by the schema file, which knows the kind once regenerated.
        assert lint([case]) == [
            f'{case.path}/steps/0: {{"wait_job":{{"job":"j"}}}} is not valid under any of the '
            "schemas listed in the 'oneOf' keyword"
        ]
        assert list(Draft202012Validator(schema).iter_errors(case.data)) == []
        assert case.steps_for("sdk") == [(0, "wait_job", {"wait_job": {"job": "j"}})]
    finally:
        del registry.REGISTRY["wait_job"]
        registry._ordered = None
    assert "wait_job" not in kinds()
