"""`phloem-conformance bundle`: every case compiled to JSON with the report's content hash."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from phloem_conformance import PROTOCOL_VERSION
from phloem_conformance.cases import load_cases
from phloem_conformance.cli import main
from phloem_conformance.schemas import suite_schema


def test_the_bundle_holds_every_case_with_its_hash(tmp_path: Path) -> None:
    out = tmp_path / "bundle.json"
    assert main(["bundle", "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert list(suite_schema("bundle").iter_errors(data)) == []
    cases = {c.id: c for c in load_cases()}
    assert [e["id"] for e in data["cases"]] == sorted(cases)
    assert data["protocol_versions"] == [PROTOCOL_VERSION]
    for item in data["cases"]:
        # A third-party runner recomputes the hash from the JSON alone.
        canonical = json.dumps(item["case"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert item["hash"] == "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()
        assert item["hash"] == cases[item["id"]].hash
        assert item["rev"] == item["case"]["rev"] and item["case"]["id"] == item["id"]
    again = tmp_path / "again.json"
    assert main(["bundle", "--out", str(again)]) == 0
    assert json.loads(again.read_text())["hash"] == data["hash"]  # deterministic


def test_a_bundle_of_cases_that_do_not_lint_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "cases" / "x"
    cases.mkdir(parents=True)
    (cases / "bad-case.yaml").write_text("id: other-id\nrev: 1\n")
    assert main(["bundle", "--out", str(tmp_path / "b.json"), "--cases", str(tmp_path / "cases")]) == 2
    assert not (tmp_path / "b.json").exists()
