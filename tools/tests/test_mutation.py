"""tools/mutation: the recorded score stays in step with the sources and the suite. Every
targeted mutant still applies to its file, every case the triage or the targeted list names
exists, every survivor of the recorded samples is triaged, and the annotation filter and the
score's arithmetic do what score.md says."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
MUTATION = TOOLS / "mutation"
sys.path.insert(0, str(MUTATION))

import mutate  # noqa: E402
import score  # noqa: E402

CASES = {p.stem for p in (ROOT / "conformance" / "cases").rglob("*.yaml")}
TARGETED: dict[str, Any] = yaml.safe_load((MUTATION / "targeted.yaml").read_text())["mutants"]
TRIAGE: dict[str, Any] = yaml.safe_load((MUTATION / "triage.yaml").read_text())["survivors"]
VERDICTS = {"equivalent", "out-of-scope", "should-level", "blind-spot"}


@pytest.mark.parametrize("name", sorted(TARGETED))
def test_targeted_mutant_applies_to_its_source_and_names_a_case(name: str) -> None:
    m = TARGETED[name]
    assert m["old"] in (ROOT / m["file"]).read_text(encoding="utf-8"), "the source moved on"
    assert m["old"] != m["new"]
    assert m["case"] in CASES
    assert set(m["targets"]) <= set(mutate.TARGETS)


def test_every_triage_entry_has_a_verdict_a_reason_and_an_existing_case() -> None:
    for key, entry in TRIAGE.items():
        assert entry["verdict"] in VERDICTS, key
        assert entry.get("reason"), key
        assert entry.get("case") is None or entry["case"] in CASES, key
        assert "case" not in entry or entry["verdict"] == "blind-spot", key


@pytest.mark.parametrize("target", mutate.TARGETS)
def test_every_recorded_survivor_is_triaged(target: str) -> None:
    path = MUTATION / f"results-{target}.json"
    if not path.exists():
        pytest.fail(f"no recorded results for {target}: run make mutation")
    rows = json.loads(path.read_text())["mutants"]
    assert rows, "an empty sample"
    survivors = [r["key"] for r in rows if r["outcome"] == "survived"]
    assert [k for k in survivors if k not in TRIAGE] == []


def test_annotations_are_found_in_signatures_and_assignments(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("x: int | None = 1\ndef f(a: list[int], b=2) -> bool:\n    return a > b\n")
    inside = mutate.annotation_lines(module)
    assert (1, 3) in inside  # `int | None`
    assert (2, 9) in inside and (2, 28) in inside  # `list[int]`, `bool`
    assert (1, 16) not in inside  # the value 1
    assert (3, 13) not in inside  # the comparison in the body


def test_score_leaves_out_equivalent_and_out_of_scope_survivors(tmp_path: Path) -> None:
    rows = [
        {"key": k, "module": "m.py", "line": 1, "diff": "-a\n+b", "outcome": o}
        for k, o in [("k1", "killed"), ("s1", "survived"), ("s2", "survived"), ("s3", "survived")]
    ]
    (tmp_path / "results-sdk.json").write_text(json.dumps({"seed": 7, "mutants": rows}))
    (tmp_path / "rejudged-sdk.json").write_text(json.dumps({"s3": "killed"}))
    (tmp_path / "triage.yaml").write_text(
        yaml.safe_dump(
            {
                "survivors": {
                    "s1": {"verdict": "equivalent", "reason": "r"},
                    "s2": {"verdict": "should-level", "reason": "r"},
                    "s3": {"verdict": "blind-spot", "reason": "r", "case": "c"},
                }
            }
        )
    )
    score.write_score(tmp_path)
    text = (tmp_path / "score.md").read_text()
    assert "| killed before the new cases | 1/3 = 33.3 % |" in text
    assert "| killed now | 2/3 = 66.7 % |" in text
