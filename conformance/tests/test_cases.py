"""The suite checks itself: every case is well-formed and every stimulus is a valid message."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from phloem_conformance.cases import Case, lint, load_cases
from phloem_conformance.matching import Bindings, concretize
from phloem_conformance.schemas import load_protocol, suite_schema

CASES = load_cases()
ROLES = ("server", "sdk", "renderer")


def test_there_are_cases() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case_validates_against_the_case_schema(case: Case) -> None:
    errors = [e.message for e in suite_schema("case").iter_errors(case.data)]
    assert errors == []


def test_case_ids_are_unique() -> None:
    assert [i for i, n in Counter(c.id for c in CASES).items() if n > 1] == []


def test_cases_lint_clean() -> None:
    assert lint(CASES) == []


def test_titles_state_facts() -> None:
    assert [c.id for c in CASES if "should" in c.data["title"].lower()] == []


def _seed(body: Any, bindings: Bindings) -> None:
    """Bind what an expectation would bind, with a plausible value (ids become their name)."""
    if isinstance(body, str) and body.startswith("$bind:") and body[6:] not in bindings:
        bindings.values[body[6:]] = body[6:]
    elif isinstance(body, dict):
        name = body.get("$bind")
        if isinstance(name, str) and name not in bindings:
            bindings.values[name] = body.get("$stimulus", name)
        for key, sub in body.items():
            if key not in ("$bind", "$stimulus"):
                _seed(sub, bindings)
    elif isinstance(body, list):
        for item in body:
            _seed(item, bindings)


def stimuli(case: Case, role: str) -> Iterator[tuple[int, str, Any]]:
    bindings = Bindings()
    for index, kind, step in case.steps_for(role):
        plays_server = role == "renderer"
        if (kind == "c2s" and not plays_server) or (kind == "s2c" and plays_server):
            yield index, kind, concretize(step.get("stimulus", step[kind]), bindings)
        elif kind in ("c2s", "s2c", "render"):
            _seed(step[kind], bindings)


PAIRS = [(c, r) for c in CASES for r in ROLES if r in c.data["roles"]]


@pytest.mark.parametrize(("case", "role"), PAIRS, ids=lambda x: x.id if isinstance(x, Case) else x)
def test_every_stimulus_is_a_valid_protocol_message(case: Case, role: str) -> None:
    schemas = load_protocol()
    for index, kind, message in stimuli(case, role):
        if kind == "s2c":
            message = {"seq": 1, **message} if message.get("type") != "pong" else message
            errors = schemas.server_errors(message)
        else:
            errors = schemas.client_errors(message)
        assert errors == [], f"step {index}: {errors}"


def test_cases_name_only_fixtures_with_a_contract() -> None:
    from phloem_conformance.schemas import suite_dir

    contracts = {p.stem for p in (suite_dir() / "fixtures").glob("*.md")}
    assert {c.data["fixture"] for c in CASES if "fixture" in c.data} <= contracts


def test_every_case_hash_is_stable_and_distinct() -> None:
    hashes = [c.hash for c in CASES]
    assert len(set(hashes)) == len(hashes)
    assert load_cases()[0].hash == CASES[0].hash
