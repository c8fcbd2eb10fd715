"""The HTML report: self-contained, no script, everything escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from phloem_conformance.cases import Case, load_cases
from phloem_conformance.cli import main
from phloem_conformance.html_report import html_report
from phloem_conformance.runner import CaseResult

from .conftest import python_command

EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)">'


TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong", "em", "table", "tr",
        "th", "td", "code", "a", "section", "details", "summary", "pre", "div", "ul", "li"}
ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "class", "id", "href"}


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def no_active_content(page: str) -> None:
    """Only the report's own elements and attributes; links only within the page."""
    parser = Elements()
    parser.feed(page)
    assert {tag for tag, _ in parser.found} <= TAGS
    for _, attrs in parser.found:
        assert {name for name, _ in attrs} <= ATTRIBUTES
        assert all((value or "").startswith("#") for name, value in attrs if name == "href")


def test_untrusted_case_data_and_transcripts_are_escaped() -> None:
    data = {"id": "evil-case", "rev": 1, "title": EVIL, "requirements": [EVIL], "level": "MUST"}
    case = Case(data, Path("evil-case.yaml"), EVIL)
    divergence = {"step": 2, "kind": "s2c", "pointer": "/x" + EVIL, "expected": EVIL, "actual": {"a": EVIL},
                  "reason": EVIL}
    result = CaseResult(case, "FAIL", EVIL, divergence, [{"t_ms": 1, "dir": "s2c", "data": "</pre>" + EVIL}])
    head = {"role": "sdk", "protocol_version": "1.0", "suite": {"version": EVIL},
            "implementation": {"name": EVIL, "version": EVIL}}
    page = html_report(head, [result])
    no_active_content(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<details><summary>transcript (1 entries)</summary>" in page
    assert "&lt;/pre&gt;" in page


@pytest.mark.subprocess
def test_cli_writes_an_html_report_with_the_first_divergence(tmp_path: Path, fake_sdk: Path) -> None:
    out = tmp_path / "report.html"
    code = main(["run", "--target", "sdk", "--adapter", python_command(fake_sdk, "--bug", "double-count"),
                 "--case", "click-updates-counter", "--case", "ping-pong", "--html", str(out)])
    assert code == 1
    page = out.read_text(encoding="utf-8")
    no_active_content(page)
    assert page.startswith("<!DOCTYPE html>")
    assert '<tr class="s-FAIL"><td>FAIL</td>' in page and '<tr class="s-PASS"><td>PASS</td>' in page
    section = page[page.index('id="case-click-updates-counter"'):]
    assert "/children/0/props/text" in section and "&quot;Count: 1&quot;" in section
    assert "&quot;Count: 2&quot;" in section and "<details>" in section
    assert 'id="case-ping-pong"' not in page  # a PASS has no details
    assert len(load_cases()) > 0
