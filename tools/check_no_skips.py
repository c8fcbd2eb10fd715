"""Fail when a pytest JUnit report records any skipped test.

CI must run every test, including those needing Chromium or Redis: a skip there hides a
failure, so it is treated as one.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET


def skipped_tests(path: str) -> list[str]:
    root = ET.parse(path).getroot()
    return [
        f"{case.get('classname')}::{case.get('name')}"
        for case in root.iter("testcase")
        if case.find("skipped") is not None
    ]


def main(argv: list[str]) -> int:
    skipped = skipped_tests(argv[1])
    for name in skipped:
        print(f"skipped test not allowed: {name}", file=sys.stderr)
    return 1 if skipped else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
