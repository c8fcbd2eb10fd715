from __future__ import annotations

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
