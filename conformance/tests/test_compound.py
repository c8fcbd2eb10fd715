"""any_order, interleave, repeat; named connections, client closes, takeover (design §6).

Each runs against the fake SDK (sdk role: sans-IO; server role: a real socket) through a case
written here, and each has a twin that must fail at the right place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from phloem_conformance.cases import lint, load_cases
from phloem_conformance.runner import CaseResult, run_sync
from phloem_conformance.schemas import load_protocol

from .conftest import python_command

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

HELLO: dict[str, Any] = {"c2s": {"type": "hello", "versions": ["1.0"]}}
WELCOME: dict[str, Any] = {"s2c": {"type": "welcome", "version": "1.0", "token": "$bind:token"}}
SNAPSHOT: dict[str, Any] = {"s2c": {"type": "ui.snapshot", "root": {
    "id": "$bind:root", "children": [{"id": "$bind:count", "props": {"text": "Count: 0"}}, {"id": "$bind:inc"}]}}}
COUNT_1 = {"children": [{"id": "$ref:count", "props": {"text": "Count: 1"}}, {"id": "$ref:inc"}]}
ROLES = [("sdk", ()), ("server", ("--role", "server"))]


def run_case(tmp_path: Path, fake_sdk: Path, role: str, args: tuple[str, ...], steps: list[dict[str, Any]],
             *bugs: str) -> CaseResult:
    folder = tmp_path / "cases" / "compound"
    folder.mkdir(parents=True, exist_ok=True)
    case = {"id": "compound-case", "rev": 1, "title": "A compound case holds", "requirements": ["PHL-DELIV-001"],
            "profile": "core", "level": "MUST", "since": "1.0", "roles": ["server", "sdk"], "fixture": "counter",
            "steps": steps}
    (folder / "compound-case.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    cases = load_cases(tmp_path / "cases")
    assert lint(cases) == []
    extra = [a for bug in bugs for a in ("--bug", bug)]
    _, [result] = run_sync(role, python_command(fake_sdk, *args, *extra), cases, load_protocol())
    return result


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_any_order_accepts_expectations_in_another_order(tmp_path: Path, fake_sdk: Path, role: str,
                                                          args: tuple[str, ...]) -> None:
    steps = [HELLO, {"any_order": [SNAPSHOT, WELCOME]}, {"barrier": {}}]
    result = run_case(tmp_path, fake_sdk, role, args, steps)
    assert result.status == "PASS", result.divergence


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_any_order_reports_the_closest_expectation_when_none_matches(tmp_path: Path, fake_sdk: Path, role: str,
                                                                      args: tuple[str, ...]) -> None:
    wrong = {"s2c": {"type": "ui.snapshot", "root": {"children": [{"props": {"text": "Count: 7"}}, {}]}}}
    result = run_case(tmp_path, fake_sdk, role, args, [HELLO, {"any_order": [wrong, WELCOME]}])
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["step"], d["kind"], d["within"]) == (1, "any_order", "/any_order/0")
    assert (d["pointer"], d["expected"], d["actual"]) == ("/root/children/0/props/text", "Count: 7", "Count: 0")
    assert "matches none of the 1 expected here" in d["reason"]


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_interleave_keeps_each_list_in_order(tmp_path: Path, fake_sdk: Path, role: str,
                                             args: tuple[str, ...]) -> None:
    steps = [HELLO, WELCOME, SNAPSHOT,
             {"interleave": [
                 [{"c2s": {"type": "ping", "id": "p"}}, {"s2c": {"type": "pong", "id": "p"}}],
                 [{"c2s": {"type": "event", "id": 1, "node": "$ref:inc", "name": "click"}},
                  {"s2c": {"type": "ui.patch", "event": 1, "$effect": COUNT_1}}],
             ]},
             {"barrier": {}}]
    result = run_case(tmp_path, fake_sdk, role, args, steps)
    assert result.status == "PASS", result.divergence


def test_interleave_fails_when_a_list_comes_out_of_order(tmp_path: Path, fake_sdk: Path) -> None:
    steps = [HELLO, {"interleave": [[SNAPSHOT, WELCOME], [{"c2s": {"type": "ping", "id": "p"}},
                                                         {"s2c": {"type": "pong", "id": "p"}}]]}]
    result = run_case(tmp_path, fake_sdk, "sdk", (), steps)
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["step"], d["kind"], d["within"], d["pointer"]) == (1, "interleave", "/interleave/0/0", "/type")
    assert (d["expected"], d["actual"]) == ("ui.snapshot", "welcome")


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_repeat_runs_its_steps_n_times(tmp_path: Path, fake_sdk: Path, role: str, args: tuple[str, ...]) -> None:
    steps = [HELLO, WELCOME, SNAPSHOT,
             {"repeat": {"times": 3, "steps": [{"c2s": {"type": "ping", "id": "r"}},
                                               {"s2c": {"type": "pong", "id": "r"}}]}},
             {"barrier": {}}]
    result = run_case(tmp_path, fake_sdk, role, args, steps)
    assert result.status == "PASS", result.divergence
    assert sum(1 for e in result.transcript if e["dir"] == "s2c" and e["data"].get("id") == "r") == 3


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_a_repeat_range_stops_at_the_first_message_that_does_not_match(tmp_path: Path, fake_sdk: Path, role: str,
                                                                       args: tuple[str, ...]) -> None:
    pings = [{"c2s": {"type": "ping", "id": i}} for i in range(3)]
    steps = [HELLO, WELCOME, SNAPSHOT, *pings,
             {"repeat": {"times": {"min": 1, "max": 5}, "steps": [{"s2c": {"type": "pong", "id": {"$type": "integer"}}}]}},
             {"barrier": {}}]
    result = run_case(tmp_path, fake_sdk, role, args, steps)
    assert result.status == "PASS", result.divergence
    # On a socket the barrier's ping went out before the look-ahead: no timeout was waited for.
    assert result.duration_ms < 4000


def test_a_repeat_that_comes_short_fails_in_its_last_round(tmp_path: Path, fake_sdk: Path) -> None:
    pings = [{"c2s": {"type": "ping", "id": i}} for i in range(2)]
    steps = [HELLO, WELCOME, SNAPSHOT, *pings,
             {"repeat": {"times": {"min": 3, "max": 5}, "steps": [{"s2c": {"type": "pong", "id": {"$type": "integer"}}}]}}]
    result = run_case(tmp_path, fake_sdk, "sdk", (), steps)
    assert result.status == "FAIL"
    d = result.divergence
    assert d is not None
    assert (d["step"], d["within"]) == (5, "/repeat/steps/0 (round 3)")
    assert d["reason"] == "no message pending"


def _takeover(close_code: int | None) -> list[dict[str, Any]]:
    before = [{"c2s_close": {"code": close_code}}] if close_code else []
    return [
        HELLO, WELCOME, SNAPSHOT,
        {"c2s": {"type": "event", "id": 1, "node": "$ref:inc", "name": "click"}},
        {"s2c": {"type": "ui.patch", "event": 1, "$effect": COUNT_1}},
        *before,
        {"connect": {"as": "b"}},
        {"c2s": {"type": "hello", "versions": ["1.0"], "resume": {"token": "$ref:token", "seq": 3}}, "on": "b"},
        {"s2c": {"type": "welcome", "seq": 4, "resumed": True}, "on": "b"},
        {"c2s": {"type": "event", "id": 2, "node": "$ref:inc", "name": "click"}, "on": "b"},
        {"s2c": {"type": "ui.patch", "event": 2, "$effect": {"children": [{"props": {"text": "Count: 2"}}, {}]}},
         "on": "b"},
    ]


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_a_session_closed_with_4000_resumes_on_a_named_connection(tmp_path: Path, fake_sdk: Path, role: str,
                                                                  args: tuple[str, ...]) -> None:
    result = run_case(tmp_path, fake_sdk, role, args, _takeover(4000))
    assert result.status == "PASS", result.divergence
    assert {"t_ms": result.transcript[-1]["t_ms"], "dir": "s2c", "data": result.transcript[-1]["data"],
            "on": "b"} == result.transcript[-1]
    assert any(e["dir"] == "close" and e["data"] == {"code": 4000, "by": "client"} for e in result.transcript)


@pytest.mark.parametrize(("role", "args"), ROLES)
def test_a_takeover_closes_the_old_connection_with_4409(tmp_path: Path, fake_sdk: Path, role: str,
                                                        args: tuple[str, ...]) -> None:
    steps = [*_takeover(None), {"close": {"code": 4409}, "on": "main"}]
    result = run_case(tmp_path, fake_sdk, role, args, steps)
    assert result.status == "PASS", result.divergence
    broken = run_case(tmp_path, fake_sdk, role, args, steps, "no-takeover-close")
    assert broken.status == "FAIL"
    d = broken.divergence
    assert d is not None
    assert (d["step"], d["kind"], d["connection"]) == (len(steps) - 1, "close", "main")


def test_a_session_is_not_visible_from_another_connection(tmp_path: Path, fake_sdk: Path) -> None:
    """Isolation: a second connection gets a session of its own, with another token."""
    steps = [HELLO, WELCOME, SNAPSHOT, {"connect": {"as": "b"}},
             {"c2s": {"type": "hello", "versions": ["1.0"]}, "on": "b"},
             {"s2c": {"type": "welcome", "seq": 1, "token": {"$not": "$ref:token"}}, "on": "b"},
             {"s2c": {"type": "ui.snapshot", "seq": 2}, "on": "b"}]
    assert run_case(tmp_path, fake_sdk, "sdk", (), steps).status == "PASS"


def test_an_adapter_without_named_connections_makes_the_case_na(tmp_path: Path, fake_sdk: Path) -> None:
    result = run_case(tmp_path, fake_sdk, "sdk", (), _takeover(4000), "no-connect")
    assert (result.status, result.counts_against) == ("N/A", False)
    assert "cannot open another connection" in result.reason


def test_a_step_on_an_unknown_connection_is_a_case_error(tmp_path: Path, fake_sdk: Path) -> None:
    steps = [HELLO, {"s2c": {"type": "welcome"}, "on": "nope"}]
    result = run_case(tmp_path, fake_sdk, "sdk", (), steps)
    assert result.status == "ERROR"
    assert "no connection named 'nope'" in result.reason
