"""Expected-failure baselines: XFAIL, stale entries, re-triage, `baseline update`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml
from phloem_conformance.baseline import BaselineError, load_baseline
from phloem_conformance.cases import load_cases
from phloem_conformance.cli import main
from phloem_conformance.schemas import suite_schema

from .conftest import python_command

CASES = {c.id: c for c in load_cases()}
CASE = "click-updates-counter"


def write_baseline(path: Path, *entries: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"entries": list(entries)}))
    return path


def entry(case: str = CASE, **changes: Any) -> dict[str, Any]:
    return {"case": case, "expect": "fail", "reason": "double counts (known bug)",
            "issue": "https://example.org/issues/1", "hash": CASES[case].hash, **changes}


def run(tmp_path: Path, command: str, baseline: Path, *cases: str) -> tuple[int, list[dict[str, Any]]]:
    out = tmp_path / "out"
    argv = ["run", "--target", "sdk", "--adapter", command, "--baseline", str(baseline),
            "--report", str(out / "report.ndjson"), "--summary", str(out / "summary.md"),
            "--junit", str(out / "junit.xml"), "--html", str(out / "report.html")]
    for case in cases or (CASE,):
        argv += ["--case", case]
    code = main(argv)
    lines = [json.loads(line) for line in (out / "report.ndjson").read_text().splitlines()]
    validator = suite_schema("report")
    for line in lines:
        assert list(validator.iter_errors(line)) == [], line
    return code, lines


@pytest.mark.subprocess
def test_an_expected_failure_is_xfail_and_does_not_fail_the_run(tmp_path: Path, fake_sdk: Path) -> None:
    # ping-pong is listed too but not run (--case): an entry for a case not run is ignored.
    baseline = write_baseline(tmp_path / "baseline.yaml", entry(), entry("ping-pong"))
    code, lines = run(tmp_path, python_command(fake_sdk, "--bug", "double-count"), baseline)
    assert code == 0
    line, foot = lines[1], lines[-1]
    assert line["status"] == "XFAIL" and line["first_divergence"]["kind"] == "effect"
    assert line["baseline"] == {"expect": "fail", "reason": "double counts (known bug)", "actual": "FAIL",
                                "issue": "https://example.org/issues/1", "outcome": "xfail"}
    assert foot["counts"]["XFAIL"] == 1 and foot["expected_failures"] == [CASE]
    assert (foot["conformant"], foot["passed"], foot["unexpected"]) == (False, True, [])
    assert "Expected failures (XFAIL" in (tmp_path / "out" / "summary.md").read_text()
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "1")
    assert "XFAIL" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.subprocess
def test_a_listed_case_that_passes_is_a_stale_entry(tmp_path: Path, fake_sdk: Path) -> None:
    baseline = write_baseline(tmp_path / "baseline.yaml", entry())
    code, lines = run(tmp_path, python_command(fake_sdk), baseline)
    assert code == 1
    assert lines[1]["status"] == "PASS" and lines[1]["baseline"]["outcome"] == "stale"
    foot = lines[-1]
    assert foot["conformant"] is True and foot["passed"] is False
    assert [(p["case"], p["problem"]) for p in foot["baseline_problems"]] == [(CASE, "stale")]
    assert "stale baseline entry" in (tmp_path / "out" / "summary.md").read_text()
    suite = ET.parse(tmp_path / "out" / "junit.xml").getroot()
    failure = suite.find("testcase/failure")
    assert failure is not None and failure.get("type") == "baseline-stale"


@pytest.mark.subprocess
def test_a_case_changed_since_the_baseline_must_be_retriaged(tmp_path: Path, fake_sdk: Path) -> None:
    baseline = write_baseline(tmp_path / "baseline.yaml", entry(hash="sha256:" + "0" * 64))
    code, lines = run(tmp_path, python_command(fake_sdk, "--bug", "double-count"), baseline)
    assert code == 1
    assert lines[1]["status"] == "FAIL" and lines[1]["baseline"]["outcome"] == "retriage"
    problems = lines[-1]["baseline_problems"]
    assert [p["problem"] for p in problems] == ["retriage"]
    assert problems[0]["message"].startswith("re-triage: case changed since the baseline was written")


@pytest.mark.subprocess
def test_an_entry_for_no_case_is_stale(tmp_path: Path, fake_sdk: Path) -> None:
    baseline = write_baseline(tmp_path / "baseline.yaml", entry(), {**entry("ping-pong"), "case": "gone-case"})
    code, lines = run(tmp_path, python_command(fake_sdk, "--bug", "double-count"), baseline)
    assert code == 1
    assert [(p["case"], p["problem"]) for p in lines[-1]["baseline_problems"]] == [("gone-case", "stale")]
    names = [c.get("name") for c in ET.parse(tmp_path / "out" / "junit.xml").getroot()]
    assert "gone-case" in names


@pytest.mark.subprocess
def test_another_status_than_expected_is_reported_as_it_is(tmp_path: Path, fake_sdk: Path) -> None:
    baseline = write_baseline(tmp_path / "baseline.yaml", entry(expect="skip"))
    code, lines = run(tmp_path, python_command(fake_sdk, "--bug", "double-count"), baseline)
    assert code == 1
    assert (lines[1]["status"], lines[1]["baseline"]["outcome"]) == ("FAIL", "unexpected")
    assert lines[-1]["unexpected"] == [CASE]


@pytest.mark.parametrize("data", [
    {"entries": [{"case": CASE, "expect": "maybe", "reason": "x", "hash": "sha256:" + "0" * 64}]},
    {"entries": [{"case": CASE, "expect": "fail", "reason": "x"}]},
    {"entries": [entry(), entry()]},
    ["not", "a", "mapping"],
])
def test_a_bad_baseline_is_refused(tmp_path: Path, fake_sdk: Path, data: Any) -> None:
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(BaselineError):
        load_baseline(path)
    assert main(["run", "--target", "sdk", "--adapter", python_command(fake_sdk), "--case", CASE,
                 "--baseline", str(path)]) == 2


@pytest.mark.subprocess
def test_baseline_update_writes_the_failures_of_a_report(tmp_path: Path, fake_sdk: Path) -> None:
    command = python_command(fake_sdk, "--bug", "double-count")
    report = tmp_path / "report.ndjson"
    assert main(["run", "--target", "sdk", "--adapter", command, "--case", CASE, "--case", "ping-pong",
                 "--report", str(report)]) == 1
    out = tmp_path / "baseline.yaml"
    assert main(["baseline", "update", "--report", str(report), "--out", str(out)]) == 0
    data = yaml.safe_load(out.read_text())
    assert list(suite_schema("baseline").iter_errors(data)) == []
    assert [(e["case"], e["expect"], e["hash"]) for e in data["entries"]] == [(CASE, "fail", CASES[CASE].hash)]
    # Triaged by hand, then updated again from a run with the baseline: reason and issue stay.
    data["entries"][0].update(reason="triaged", issue="https://example.org/issues/7")
    out.write_text(yaml.safe_dump(data))
    assert main(["run", "--target", "sdk", "--adapter", command, "--case", CASE, "--case", "ping-pong",
                 "--report", str(report), "--baseline", str(out)]) == 0
    assert main(["baseline", "update", "--report", str(report), "--out", str(out)]) == 0
    assert load_baseline(out)[CASE] == {**data["entries"][0], "reason": "triaged",
                                        "issue": "https://example.org/issues/7"}
