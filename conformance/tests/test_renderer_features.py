"""Renderer-side runner features against the fake renderer: the frame-size check of every
renderer frame (PHL-LIM-001), ``audit`` (PHL-SEC-006), clock control and the ``type`` action.

Each feature passes a conformant fake and catches a fake with the matching bug at the right place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from phloem_conformance.cases import lint, load_cases
from phloem_conformance.registry import open_fields
from phloem_conformance.runner import CaseResult, run_sync
from phloem_conformance.schemas import load_protocol

from .conftest import python_command

HELLO: dict[str, Any] = {"c2s": {"type": "hello", "versions": {"$contains": ["1.0"]}}}
LIMIT = 1024  # the smallest max_frame_bytes the schema allows
WELCOME: dict[str, Any] = {"s2c": {"type": "welcome", "version": "1.0", "session": "s-1",
                                   "token": {"$bind": "token", "$stimulus": "tok-Z9yX8wV7uT6sR5qP"},
                                   "limits": {"max_frame_bytes": LIMIT, "max_events_per_second": 50}}}


def field_page(value: str, node: str = "f") -> dict[str, Any]:
    return {"s2c": {"type": "ui.snapshot", "rev": 1, "root": {"id": "root", "type": "Column", "children": [
        {"id": node, "type": "TextInput", "props": {"label": "Field", "value": value}}]}}}


def change(value: Any) -> dict[str, Any]:
    return {"c2s": {"type": "event", "id": {"$type": "integer", "$stimulus": 1}, "node": "f", "name": "change",
                    "value": value}}


def run_steps(tmp_path: Path, fake_renderer: Path, steps: list[dict[str, Any]], *bugs: str,
              requirement: str = "PHL-LIM-001") -> CaseResult:
    folder = tmp_path / "cases" / "renderer"
    folder.mkdir(parents=True, exist_ok=True)
    case = {"id": "renderer-case", "rev": 1, "title": "A renderer case holds", "requirements": [requirement],
            "profile": "core", "level": "MUST", "since": "1.0", "roles": ["renderer"], "steps": steps}
    (folder / "renderer-case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    cases = load_cases(tmp_path / "cases")
    assert lint(cases) == []
    return run_case(fake_renderer, cases, *bugs)


def run_case(fake_renderer: Path, cases: Any, *bugs: str) -> CaseResult:
    extra = [a for bug in bugs for a in ("--bug", bug)]
    _, [result] = run_sync("renderer", python_command(fake_renderer, *extra), cases, load_protocol())
    return result


def suite_case(case_id: str) -> list[Any]:
    return [c for c in load_cases() if c.id == case_id]


# ---- the frame-size check -----------------------------------------------------------------

def _value_length_for(frame_bytes: int) -> int:
    """The length of a value whose change frame, as the fake writes it, has ``frame_bytes`` bytes."""
    empty = {"type": "event", "id": 1, "node": "f", "name": "change", "value": "", "rev": 1}
    return frame_bytes - len(json.dumps(empty).encode())


@pytest.mark.subprocess
def test_a_frame_of_exactly_the_announced_limit_is_accepted(tmp_path: Path, fake_renderer: Path) -> None:
    n = _value_length_for(LIMIT)
    steps = [HELLO, WELCOME, field_page("x" * (n - 1)), {"user": {"type": "f", "text": "x"}},
             change({"$re": f"^x{{{n}}}$", "$stimulus": "x"}), {"barrier": {}}]
    result = run_steps(tmp_path, fake_renderer, steps)
    assert result.status == "PASS", result.divergence
    frames = [e["data"] for e in result.transcript if e["dir"] == "c2s" and e["data"].get("name") == "change"]
    assert [len(json.dumps(f).encode()) for f in frames] == [LIMIT]


@pytest.mark.subprocess
def test_a_frame_one_byte_over_the_limit_fails_with_its_size(tmp_path: Path, fake_renderer: Path) -> None:
    n = _value_length_for(LIMIT + 1)
    steps = [HELLO, WELCOME, field_page("x" * (n - 1)), {"user": {"type": "f", "text": "x"}},
             change({"$re": "^x+$", "$stimulus": "x"})]
    result = run_steps(tmp_path, fake_renderer, steps, "no-frame-limit")
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["step"], d["kind"], d["expected"], d["actual"]) == (4, "c2s", {"$num": [0, LIMIT]}, LIMIT + 1)
    assert "over the max_frame_bytes 1024 the runner announced (PHL-LIM-001)" in d["reason"]


@pytest.mark.subprocess
def test_every_frame_is_checked_whatever_the_step(tmp_path: Path, fake_renderer: Path) -> None:
    """No step expects the change: the oversized frame arriving before a barrier's pong is
    reported for its size, not as an unexpected message."""
    steps = [HELLO, WELCOME, field_page("y" * LIMIT), {"user": {"type": "f", "text": "yy"}}, {"barrier": {}}]
    assert run_steps(tmp_path, fake_renderer, steps).status == "PASS"  # no change fits: none is sent
    result = run_steps(tmp_path, fake_renderer, steps, "no-frame-limit")
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None and (d["step"], d["kind"]) == (4, "barrier")
    assert "over the max_frame_bytes" in d["reason"] and d["actual"] > LIMIT


@pytest.mark.subprocess
def test_the_suite_case_passes_a_renderer_that_keeps_to_the_limit(fake_renderer: Path) -> None:
    assert run_case(fake_renderer, suite_case("renderer-frame-within-announced-limit")).status == "PASS"


@pytest.mark.subprocess
def test_a_frame_over_the_limit_during_a_repeat_look_ahead_fails(tmp_path: Path, fake_renderer: Path) -> None:
    steps = [HELLO, WELCOME, field_page("y" * LIMIT), {"user": {"type": "f", "text": "yy"}},
             {"repeat": {"times": {"min": 0, "max": 2}, "steps": [change({"$re": "^y+$", "$stimulus": "y"})]}},
             {"barrier": {}}]
    result = run_steps(tmp_path, fake_renderer, steps, "no-frame-limit")
    assert result.status == "FAIL"
    assert result.divergence is not None and "over the max_frame_bytes" in result.divergence["reason"]


@pytest.mark.subprocess
def test_the_suite_case_catches_a_renderer_that_sends_text_over_the_limit(fake_renderer: Path) -> None:
    result = run_case(fake_renderer, suite_case("renderer-frame-within-announced-limit"), "no-frame-limit")
    assert result.status == "FAIL" and "PHL-LIM-001" in result.reason


# ---- audit --------------------------------------------------------------------------------

@pytest.mark.subprocess
def test_audit_finds_the_token_in_the_console(fake_renderer: Path) -> None:
    cases = suite_case("renderer-token-not-leaked")
    result = run_case(fake_renderer, cases, "log-token")
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["kind"], d["pointer"], d["expected"]) == ("audit", "/console/0", {"$not": {"$contains": "tok-Q7xW2vN9pL4kR8sT1aZ"}})
    assert "PHL-SEC-006" in d["reason"]
    audits = [e["data"] for e in result.transcript if e["dir"] == "audit"]
    assert audits and set(audits[0]) >= {"url", "console", "local_storage", "session_storage", "cookies"}


@pytest.mark.subprocess
def test_audit_judges_only_the_places_the_step_names(tmp_path: Path, fake_renderer: Path) -> None:
    snapshot = {"s2c": {"type": "ui.snapshot", "rev": 1, "root": {"id": "root", "type": "Column"}}}
    steps = [HELLO, WELCOME, snapshot, {"barrier": {}}]
    outside = run_steps(tmp_path, fake_renderer, [*steps, {"audit": {"absent": ["$ref:token"], "in": ["url", "cookies"]}}],
                        "log-token", requirement="PHL-SEC-006")
    assert outside.status == "PASS", outside.divergence
    everywhere = run_steps(tmp_path, fake_renderer, [*steps, {"audit": {"absent": ["$ref:token"]}}], "log-token",
                           requirement="PHL-SEC-006")
    assert everywhere.status == "FAIL"
    assert everywhere.divergence is not None and everywhere.divergence["pointer"] == "/console/0"


@pytest.mark.subprocess
def test_an_adapter_without_audit_makes_the_case_na(fake_renderer: Path) -> None:
    result = run_case(fake_renderer, suite_case("renderer-token-not-leaked"), "no-audit")
    assert (result.status, result.counts_against) == ("N/A", False)
    assert result.reason.startswith("adapter cannot audit")


# ---- clock control ------------------------------------------------------------------------

@pytest.mark.subprocess
def test_the_renderer_clock_drives_the_heartbeat(fake_renderer: Path) -> None:
    """The fake answers `control` only when `open` asked for a clock: a PASS shows the runner
    asked for it, and the renderer's heartbeat ran on it (ping, then close 4000, then resume)."""
    result = run_case(fake_renderer, suite_case("renderer-closes-4000-on-silent-peer"))
    assert result.status == "PASS", result.divergence
    kinds = [(e["dir"], e["data"].get("type") or e["data"].get("code")) for e in result.transcript
             if e["dir"] in ("control", "c2s", "close")]
    assert [k for k in kinds if k[0] != "c2s" or k[1] in ("ping", "hello")] == [
        ("c2s", "hello"), ("control", None), ("c2s", "ping"), ("control", None), ("close", 4000), ("c2s", "hello")]


@pytest.mark.subprocess
def test_a_renderer_adapter_without_a_clock_makes_the_case_na(fake_renderer: Path) -> None:
    result = run_case(fake_renderer, suite_case("renderer-closes-4000-on-silent-peer"), "no-clock")
    assert (result.status, result.counts_against) == ("N/A", False)
    assert result.reason.startswith("adapter cannot control time")


@pytest.mark.subprocess
def test_a_renderer_without_heartbeat_warns_at_the_ping(fake_renderer: Path) -> None:
    result = run_case(fake_renderer, suite_case("renderer-closes-4000-on-silent-peer"), "no-heartbeat")
    assert result.status == "WARN"  # a SHOULD case
    d = result.divergence
    assert d is not None and (d["step"], d["kind"]) == (5, "c2s")


def _has_control(steps: list[dict[str, Any]], role: str) -> bool:
    return open_fields(steps, role, ["server", "sdk", "renderer"]) == {"clock": True}


def test_only_a_control_step_for_the_role_asks_for_a_clock() -> None:
    control = {"control": {"advance": 1}, "roles": ["renderer"]}
    assert _has_control([control], "renderer")
    assert not _has_control([{"control": {"advance": 1}}], "renderer")  # a server/sdk step
    assert _has_control([{"repeat": {"times": 2, "steps": [control]}}], "renderer")
    assert _has_control([{"interleave": [[{"barrier": {}}], [control]]}], "renderer")
    assert _has_control([{"any_order": [control]}], "renderer")
    assert not _has_control([{"barrier": {}}], "renderer")


# ---- the type action ----------------------------------------------------------------------

@pytest.mark.subprocess
def test_type_reaches_the_adapter_concrete_with_clear_and_delay(tmp_path: Path, fake_renderer: Path) -> None:
    page = field_page("old", node="$bind:field")
    steps = [HELLO, WELCOME, page,
             {"render": {"id": "root", "children": [{"id": "$ref:field", "role": "textbox", "value": "old"}]}},
             {"user": {"type": "$ref:field", "text": "new", "clear": True, "delay_ms": 5}},
             {"repeat": {"times": {"min": 0, "max": 3}, "steps": [
                 {"c2s": {"type": "event", "id": {"$type": "integer", "$stimulus": 1}, "node": "$ref:field",
                          "name": "change", "value": {"$re": "^(|n|ne)$", "$stimulus": "n"}}}]}},
             {"c2s": {"type": "event", "id": {"$type": "integer", "$stimulus": 2}, "node": "$ref:field",
                      "name": "change", "value": "new"}},
             {"render": {"id": "root", "children": [{"id": "$ref:field", "value": "new"}]}}]
    result = run_steps(tmp_path, fake_renderer, steps, requirement="PHL-COMP-019")
    assert result.status == "PASS", result.divergence
    users = [e["data"] for e in result.transcript if e["dir"] == "user"]
    assert users == [{"type": "field", "text": "new", "clear": True, "delay_ms": 5}]


@pytest.mark.subprocess
def test_a_renderer_that_ignores_the_echo_rule_fails_where_the_field_shows(fake_renderer: Path) -> None:
    cases = suite_case("echo-rule-older-answer-does-not-overwrite")
    assert run_case(fake_renderer, cases).status == "PASS"
    result = run_case(fake_renderer, cases, "no-echo-rule")
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["kind"], d["pointer"], d["expected"], d["actual"]) == ("render", "/children/0/value", "ab", "A")
