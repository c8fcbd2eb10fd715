"""The docs site's generated parts (tools/docs.py); `make docs` builds the site itself with
`mkdocs build --strict`, where a broken link or anchor fails."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import docs

REPO = Path(__file__).resolve().parents[2]


def test_a_requirement_where_it_is_defined_becomes_its_own_anchor():
    text = "**PHL-TREE-001** A node MUST be an object; see PHL-TREE-002."
    assert docs.anchor_requirements(text) == (
        "[**PHL-TREE-001**](#PHL-TREE-001){#PHL-TREE-001} A node MUST be an object; see PHL-TREE-002."
    )


def test_the_requirements_page_links_every_requirement_to_its_anchor():
    entries = yaml.safe_load((REPO / "spec" / "requirements.yaml").read_text(encoding="utf-8"))
    page = docs.requirements_page()
    links = dict(re.findall(r"\| \[(PHL-[A-Z]+-\d{3})\]\(\.\./(spec/[^)#]+)#\1\)", page))
    assert links == {e["id"]: e["page"] for e in entries}


def test_a_directory_without_an_index_gets_a_listing(tmp_path: Path):
    (tmp_path / "schemas" / "defs").mkdir(parents=True)
    (tmp_path / "schemas" / "a.schema.json").write_text("{}")
    listing = docs.listing(tmp_path / "schemas", tmp_path)
    assert listing == "# schemas/\n\n- [a.schema.json](a.schema.json)\n- [defs/](defs/index.md)\n"
