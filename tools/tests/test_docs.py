"""The docs site's generated parts (tools/docs.py); `make docs` builds the site itself with
`mkdocs build --strict`, where a broken link or anchor fails."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import docs

pytestmark = [pytest.mark.subprocess]  # not in make test-fast


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


def _site_config(tmp_path: Path, page: str) -> Path:
    """mkdocs.yml's own checking settings over a one-page site."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    (tmp_path / "src").mkdir(parents=True)
    (tmp_path / "src" / "index.md").write_text(page)
    (tmp_path / "src" / "other.md").write_text("# Other\n\n## A heading\n")
    small = {k: config[k] for k in ("strict", "validation", "markdown_extensions")}
    small |= {"site_name": "t", "docs_dir": str(tmp_path / "src"), "nav": ["index.md", "other.md"]}
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(small))
    return path


def test_the_build_fails_on_a_link_to_a_missing_page_or_anchor(tmp_path: Path):
    good = _site_config(tmp_path / "good", "# Home\n\n[there](other.md#a-heading)\n")
    assert docs.build(good, tmp_path / "good" / "site") == 0
    for broken in ("[x](no-such-page.md)", "[x](other.md#no-such-heading)"):
        config = _site_config(tmp_path / broken[4:10], f"# Home\n\n{broken}\n")
        assert docs.build(config, tmp_path / "site") != 0, broken


def test_sphinx_roles_in_docstrings_show_as_code():
    import griffe_roles

    text = "Use :class:`Component`, :meth:`~phloem.runtime.Hub.push` or :func:`phloem.load_app`."
    assert griffe_roles.plain(text) == "Use `Component`, `push` or `phloem.load_app`."
