"""The runner against fake implementations: conformant ones pass, broken ones are caught."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from phloem_conformance.adapter import AdapterError
from phloem_conformance.cases import load_cases
from phloem_conformance.cli import main
from phloem_conformance.runner import CaseResult, run_sync
from phloem_conformance.schemas import load_protocol, suite_schema

from .conftest import python_command

pytestmark = pytest.mark.subprocess  # starts adapters, servers or tools: not in make test-fast

CASES = load_cases()


def run(target: str, command: str, *case_ids: str) -> dict[str, CaseResult]:
    cases = [c for c in CASES if not case_ids or c.id in case_ids]
    _, results = run_sync(target, command, cases, load_protocol())
    return {r.case.id: r for r in results}


def statuses(results: dict[str, CaseResult]) -> dict[str, str]:
    return {k: r.status for k, r in results.items()}


@pytest.mark.parametrize(("target", "args"), [("sdk", ()), ("server", ("--role", "server"))])
def test_a_conformant_fake_passes_every_case(fake_sdk: Path, target: str, args: tuple[str, ...]) -> None:
    results = run(target, python_command(fake_sdk, *args))
    # The fake implements the fixtures the runner's own tests need, not every fixture of the suite.
    lacking = {k for k, r in results.items() if r.status == "SKIP" and "does not provide fixture" in r.reason}
    # The fake server, like a real one, cannot control time: cases with a control step are N/A.
    timed = {k for k, r in results.items()
             if target == "server" and _has_control(r) and target in r.case.data["roles"] and k not in lacking}
    applicable = {k: r for k, r in results.items()
                  if target in r.case.data["roles"] and k not in timed and k not in lacking}
    assert {r.status for r in applicable.values()} == {"PASS"}, {
        k: (r.status, r.reason) for k, r in applicable.items() if r.status != "PASS"}
    assert {r.status for k, r in results.items() if k not in applicable and k not in lacking} <= {"N/A"}
    for k in timed:
        assert results[k].reason.startswith("adapter cannot control time"), results[k].reason


def _has_control(result: CaseResult) -> bool:
    return any("control" in step for step in result.case.data["steps"])


def _time_case(tmp_path: Path) -> Path:
    cases = tmp_path / "cases" / "limits"
    cases.mkdir(parents=True)
    (cases / "time-passes.yaml").write_text(
        "id: time-passes\nrev: 1\ntitle: A second passes, then a ping is answered\n"
        "requirements: [PHL-LIM-004]\nprofile: core\nlevel: MUST\nsince: '1.0'\n"
        "roles: [server, sdk]\nfixture: counter\nsteps:\n"
        "  - control: {advance: 1}\n  - c2s: {type: ping, id: 1}\n  - s2c: {type: pong, id: 1}\n"
    )
    return tmp_path / "cases"


def _adapter(tmp_path: Path, supports: list[str] | None, control_answer: str) -> str:
    """A minimal sdk adapter: says ok to everything, answers control with ``control_answer``,
    and logs every command it gets (to see what the runner asked)."""
    hello = {"ok": True, "role": "sdk", "fixtures": ["counter"]}
    if supports is not None:
        hello["supports"] = supports
    script = tmp_path / "adapter.py"
    script.write_text(
        "import json, sys\n"
        f"log = open({str(tmp_path / 'log')!r}, 'a')\n"
        "for line in sys.stdin:\n"
        "    cmd = json.loads(line)\n"
        "    log.write(cmd['cmd'] + '\\n'); log.flush()\n"
        f"    if cmd['cmd'] == 'hello': print(json.dumps({hello!r}), flush=True); continue\n"
        f"    if cmd['cmd'] == 'control': print(json.dumps({control_answer}), flush=True); continue\n"
        "    print(json.dumps({'ok': True, 'frames': []}), flush=True)\n"
    )
    return python_command(script)


@pytest.mark.parametrize(
    ("supports", "answer", "asked"),
    [
        (["control"], "{'ok': False, 'unsupported': True}", True),  # declared, cannot this time
        ([], "{'ok': True}", False),  # not declared: never asked
        (None, "{'ok': True}", False),  # an adapter older than supports: declares nothing
    ],
)
def test_a_control_step_the_adapter_cannot_do_is_na_and_not_counted(
    tmp_path: Path, supports: list[str] | None, answer: str, asked: bool
) -> None:
    """A case with a control step is N/A, with the reason, when the adapter does not declare
    control in its hello's supports or answers unsupported; the run still exits 0."""
    cases = _time_case(tmp_path)
    command = _adapter(tmp_path, supports, answer)
    _, results = run_sync("sdk", command, load_cases(cases), load_protocol())
    assert [(r.status, r.counts_against) for r in results] == [("N/A", False)]
    assert results[0].reason.startswith("adapter cannot control time")
    assert ("control" in (tmp_path / "log").read_text().split()) is asked
    assert main(["run", "--target", "sdk", "--adapter", command, "--cases", str(cases)]) == 0


def test_a_declared_command_that_fails_is_an_adapter_error_not_na(tmp_path: Path) -> None:
    """Only a declared command answering ``unsupported: true`` makes a case N/A: any other
    refusal is the adapter's error (the runner reads no error text)."""
    command = _adapter(tmp_path, ["control"], "{'ok': False, 'error': 'unknown command'}")
    _, results = run_sync("sdk", command, load_cases(_time_case(tmp_path)), load_protocol())
    assert results[0].status == "ERROR"
    assert "refused 'control': unknown command" in results[0].reason


def test_a_hello_whose_supports_is_not_a_list_of_names_stops_the_run(tmp_path: Path) -> None:
    command = _adapter(tmp_path, "control", "{'ok': True}")  # type: ignore[arg-type]
    with pytest.raises(AdapterError, match="supports is a list of command names"):
        run_sync("sdk", command, load_cases(_time_case(tmp_path)), load_protocol())


def test_a_conformant_fake_renderer_passes_every_renderer_case(fake_renderer: Path) -> None:
    results = run("renderer", python_command(fake_renderer))
    assert {r.status for r in results.values() if "renderer" in r.case.data["roles"]} == {"PASS"}, {
        k: (r.status, r.reason, r.divergence) for k, r in results.items()
        if "renderer" in r.case.data["roles"] and r.status != "PASS"}
    assert {r.status for r in results.values() if "renderer" not in r.case.data["roles"]} == {"N/A"}


def test_a_patch_with_the_wrong_effect_fails_at_the_text(fake_sdk: Path) -> None:
    result = run("sdk", python_command(fake_sdk, "--bug", "double-count"), "click-updates-counter")[
        "click-updates-counter"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert result.divergence["kind"] == "effect"
    assert result.divergence["pointer"] == "/children/0/props/text"
    assert (result.divergence["expected"], result.divergence["actual"]) == ("Count: 1", "Count: 2")
    assert result.divergence["step"] == 6


def test_a_duplicate_event_applied_twice_is_caught(fake_sdk: Path) -> None:
    result = run("sdk", python_command(fake_sdk, "--bug", "reapply-duplicate"),
                 "duplicate-event-applied-once")["duplicate-event-applied-once"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert (result.divergence["pointer"], result.divergence["actual"]) == ("/type", "ui.patch")


def test_a_wrong_close_code_is_caught(fake_sdk: Path) -> None:
    result = run("server", python_command(fake_sdk, "--role", "server", "--bug", "wrong-close"),
                 "handshake-no-common-version")["handshake-no-common-version"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert (result.divergence["kind"], result.divergence["actual"]) == ("close", 4400)


def test_a_resync_answered_with_an_old_tree_is_caught(fake_sdk: Path) -> None:
    result = run("sdk", python_command(fake_sdk, "--bug", "stale-resync"),
                 "stale-revision-resync")["stale-revision-resync"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert result.divergence["pointer"] == "/root/children/0/props/text"


def test_a_renderer_applying_a_stale_patch_is_caught(fake_renderer: Path) -> None:
    result = run("renderer", python_command(fake_renderer, "--bug", "apply-stale"),
                 "stale-revision-resync")["stale-revision-resync"]
    assert result.status == "FAIL"
    assert result.divergence is not None and result.divergence["expected"] == {"type": "resync"}


def test_a_renderer_without_fallback_is_caught(fake_renderer: Path) -> None:
    result = run("renderer", python_command(fake_renderer, "--bug", "no-fallback"),
                 "unknown-component-fallback")["unknown-component-fallback"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert (result.divergence["kind"], result.divergence["pointer"]) == ("render", "/children/0/fallback")


def test_a_crashing_adapter_is_an_error_not_a_pass(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    cmd = json.loads(line)\n"
        "    if cmd['cmd'] == 'open': sys.exit(3)\n"
        "    print(json.dumps({'ok': True, 'role': 'sdk', 'fixtures': ['counter']}), flush=True)\n"
    )
    results = run("sdk", python_command(script), "ping-pong")
    assert results["ping-pong"].status == "ERROR"
    assert "exited" in results["ping-pong"].reason


def test_a_missing_fixture_is_skipped_and_not_conformant(tmp_path: Path, fake_sdk: Path) -> None:
    results = run("sdk", python_command(fake_sdk), "ping-pong")
    assert results["ping-pong"].status == "PASS"
    script = tmp_path / "nofixtures.py"
    script.write_text(
        "import json, sys\n"
        "for line in sys.stdin:\n"
        "    print(json.dumps({'ok': True, 'role': 'sdk', 'fixtures': []}), flush=True)\n"
    )
    results = run("sdk", python_command(script), "ping-pong")
    assert results["ping-pong"].status == "SKIP"
    assert results["ping-pong"].counts_against


def test_cli_writes_valid_reports_and_fails_on_a_must_failure(tmp_path: Path, fake_sdk: Path) -> None:
    out = tmp_path / "out"
    code = main(["run", "--target", "sdk", "--adapter", python_command(fake_sdk, "--bug", "double-count"),
                 "--report", str(out / "report.ndjson"), "--summary", str(out / "summary.md"),
                 "--junit", str(out / "junit.xml")])
    assert code == 1
    lines = [json.loads(line) for line in (out / "report.ndjson").read_text().splitlines()]
    validator = suite_schema("report")
    for line in lines:
        assert list(validator.iter_errors(line)) == []
    assert [lines[0]["kind"], lines[-1]["kind"]] == ["header", "footer"]
    assert "click-updates-counter" in lines[-1]["must_not_passed"]
    failed = next(line for line in lines if line.get("case") == "click-updates-counter")
    assert failed["first_divergence"]["pointer"] == "/children/0/props/text"
    assert any(entry["dir"] == "c2s" for entry in failed["transcript"])
    assert "click-updates-counter" in (out / "summary.md").read_text()
    suite = ET.parse(out / "junit.xml").getroot()
    assert int(suite.get("failures", "0")) >= 1


FAKE_FIXTURES = {"counter", "unknown-component", "dismiss", "disabled-button", "failing-handler", "tree-echo",
                 "ledger", "input", None}


def test_cli_exits_zero_when_every_must_case_passes(fake_sdk: Path) -> None:
    """Over the cases whose fixtures the fake provides (a SKIP is not a pass)."""
    chosen = [a for c in CASES if c.data.get("fixture") in FAKE_FIXTURES
              and set(c.data.get("fixtures", [])) <= FAKE_FIXTURES for a in ("--case", c.id)]
    assert main(["run", "--target", "sdk", "--adapter", python_command(fake_sdk), *chosen]) == 0


def test_cli_refuses_an_adapter_of_another_role(fake_sdk: Path) -> None:
    assert main(["run", "--target", "renderer", "--adapter", python_command(fake_sdk)]) == 2


@pytest.mark.parametrize(("target", "args"), [("sdk", ()), ("server", ("--role", "server"))])
def test_a_resume_without_replay_is_caught_at_the_lost_patch(fake_sdk: Path, target: str,
                                                             args: tuple[str, ...]) -> None:
    result = run(target, python_command(fake_sdk, *args, "--bug", "no-replay"),
                 "resume-replays-missed-patch")["resume-replays-missed-patch"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert (result.divergence["step"], result.divergence["kind"]) == (8, "s2c")
    assert any(entry["dir"] == "reconnect" for entry in result.transcript)


@pytest.mark.parametrize(("target", "args"), [("sdk", ()), ("server", ("--role", "server"))])
def test_a_server_rotating_its_token_on_resume_passes_the_resume_cases(
        fake_sdk: Path, target: str, args: tuple[str, ...]) -> None:
    # PHL-DELIV-004: the client resumes with the latest welcome's token, which may be new.
    chosen = ("second-resume-replays-only-missed", "resume-replays-missed-patch",
              "resume-does-not-replay-welcome")
    results = run(target, python_command(fake_sdk, *args, "--rotate-tokens"), *chosen)
    assert statuses(results) == dict.fromkeys(chosen, "PASS"), {
        k: r.reason for k, r in results.items()}


def test_a_resume_with_a_spent_token_is_refused_by_the_rotating_fake(
        fake_sdk: Path, tmp_path: Path) -> None:
    # The rotating fake is strict, so the test above shows the case presents the new token.
    case = (Path(__file__).parents[1] / "cases" / "resume" / "second-resume-replays-only-missed.yaml")
    stale = tmp_path / "cases" / "resume"
    stale.mkdir(parents=True)
    (stale / case.name).write_text(case.read_text().replace("token: $rebind:token", ""))
    cases = load_cases(tmp_path / "cases")
    _, results = run_sync("sdk", python_command(fake_sdk, "--rotate-tokens"), cases, load_protocol())
    assert results[0].status == "FAIL"
    divergence = results[0].divergence
    assert divergence is not None
    # The second resume's welcome: a new session (seq 1), since the first token is spent.
    assert (divergence["step"], divergence["pointer"], divergence["actual"]) == (15, "/seq", 1)


def test_a_renderer_reconnecting_without_resume_is_caught(fake_renderer: Path) -> None:
    result = run("renderer", python_command(fake_renderer, "--bug", "no-resume"),
                 "renderer-resumes-after-drop")["renderer-resumes-after-drop"]
    assert result.status == "FAIL"
    assert result.divergence is not None
    assert (result.divergence["step"], result.divergence["pointer"]) == (6, "/resume")


def _case_copy(tmp_path: Path, case_id: str, **changes: object) -> Path:
    import yaml

    case = next(c for c in CASES if c.id == case_id)
    data = {**case.data, **changes}
    folder = tmp_path / "cases" / case.area
    folder.mkdir(parents=True)
    (folder / f"{case_id}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp_path / "cases"


@pytest.mark.parametrize(("level", "status"), [("SHOULD", "WARN"), ("MAY", "INFO")])
def test_a_should_divergence_warns_and_a_may_one_informs_without_failing_the_run(
        tmp_path: Path, fake_sdk: Path, level: str, status: str) -> None:
    cases = _case_copy(tmp_path, "click-updates-counter", level=level)
    out = tmp_path / "report.ndjson"
    code = main(["run", "--target", "sdk", "--adapter", python_command(fake_sdk, "--bug", "double-count"),
                 "--cases", str(cases), "--report", str(out), "--summary", str(tmp_path / "s.md"),
                 "--junit", str(tmp_path / "j.xml")])
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    validator = suite_schema("report")
    assert all(list(validator.iter_errors(line)) == [] for line in lines)
    assert lines[1]["status"] == status and lines[1]["first_divergence"]["kind"] == "effect"
    assert lines[-1]["counts"][status] == 1 and lines[-1]["conformant"] is True
    assert lines[-1]["warnings" if level == "SHOULD" else "information"] == ["click-updates-counter"]
    assert f"{status} `click-updates-counter`" in (tmp_path / "s.md").read_text()
    assert int(ET.parse(tmp_path / "j.xml").getroot().get("failures", "0")) == 0


def test_a_foreign_origin_accepted_is_caught(tmp_path: Path, fake_sdk: Path) -> None:
    cases = _case_copy(tmp_path, "origin-foreign-refused", steps=[{"connect": {"origin": None, "status": 403}}])
    _, results = run_sync("server", python_command(fake_sdk, "--role", "server"), load_cases(cases),
                          load_protocol())
    assert results[0].status == "FAIL"
    assert results[0].divergence is not None
    assert (results[0].divergence["kind"], results[0].divergence["actual"]) == ("connect", 101)
