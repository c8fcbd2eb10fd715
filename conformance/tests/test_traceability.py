from __future__ import annotations

from pathlib import Path

import pytest
from phloem_conformance.cases import load_cases
from phloem_conformance.traceability import default_requirements_path, load_requirements, trace

pytestmark = pytest.mark.skipif(not default_requirements_path().is_file(),
                                reason="spec/requirements.yaml not written yet")


def test_every_case_requirement_exists_in_the_spec() -> None:
    report = trace(load_cases(), load_requirements())
    assert report.unknown == {}


def test_the_trace_lists_requirements_without_a_case() -> None:
    requirements = load_requirements()
    report = trace(load_cases(), requirements)
    assert len(report.covered) + len(report.uncovered) == len(requirements)
    text = report.markdown()
    assert "Requirements with no case" in text
    assert all(r["id"] in text for r in report.uncovered)


def test_every_must_requirement_has_a_case() -> None:
    """Fails while a MUST of spec/requirements.yaml has no case (`phloem-conformance trace` exits 1)."""
    from phloem_conformance.cli import main

    report = trace(load_cases(), load_requirements())
    missing = [r["id"] for r in report.uncovered_must]
    assert missing == [], f"MUST requirements with no case: {missing}"
    assert main(["trace"]) == 0


def test_trace_exits_1_when_a_must_has_no_case(tmp_path: Path) -> None:
    from phloem_conformance.cli import main

    requirements = tmp_path / "requirements.yaml"
    requirements.write_text(
        "- {id: PHL-DELIV-001, level: MUST, profile: core, summary: covered}\n"
        "- {id: PHL-ZZZ-001, level: MUST, profile: core, summary: nobody checks this}\n"
        "- {id: PHL-ZZZ-002, level: SHOULD, profile: core, summary: nor this}\n")
    cases = load_cases()
    report = trace(cases, load_requirements(requirements))
    assert [r["id"] for r in report.uncovered_must] == ["PHL-ZZZ-001"]
    assert main(["trace", "--requirements", str(requirements)]) == 1
    requirements.write_text("- {id: PHL-DELIV-001, level: MUST, profile: core, summary: covered}\n"
                            "- {id: PHL-ZZZ-002, level: SHOULD, profile: core, summary: nor this}\n")
    report = trace(cases, load_requirements(requirements))
    assert report.uncovered_must == []
