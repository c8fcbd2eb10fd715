"""tools/gen_catalog.py: every output is fresh, the value-schema compiler checks what the schema
says (and refuses what it cannot check), and the facts the prose repeats agree with the schemas."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TOOLS = Path(__file__).resolve().parents[1]
ROOT = TOOLS.parent
sys.path.insert(0, str(TOOLS))

import gen_catalog  # noqa: E402
from value_schema import Unsupported, check  # noqa: E402

pytestmark = [pytest.mark.subprocess]  # not in make test-fast



def test_every_generated_output_is_up_to_date() -> None:
    stale = [
        str(path.relative_to(ROOT))
        for path, fresh in gen_catalog.outputs().items()
        if path.read_text(encoding="utf-8") != fresh
    ]
    assert stale == [], "run `make gen`"


def _accepts(schema: Any, value: Any) -> bool:
    expr, _ = check(schema, "test")
    return bool(eval(f"lambda v: {expr}", {"_re": re})(value))  # our own generated expression


@pytest.mark.parametrize(
    ("schema", "good", "bad", "words"),
    [
        ({"enum": ["a", "b"]}, ["a"], ["c", 1, None], "one of 'a', 'b'"),
        ({"type": "integer", "minimum": 1, "maximum": 6}, [1, 6, 2.0], [0, 7, 1.5, True, "1"], "an integer from 1 to 6"),
        ({"type": "string", "maxLength": 3}, ["", "abc"], ["abcd", 3], "a string of at most 3 characters"),
        ({"type": "number", "minimum": 0}, [0, 2.5], [-1, False], "a number of at least 0"),
        ({"type": "string", "pattern": "^[A-Z]"}, ["Ab"], ["ab"], "a string matching ^[A-Z]"),
        ({"description": "no constraint"}, [None, 1, "x", [1]], [], "any value"),
    ],
)
def test_a_value_schema_compiles_to_a_check_and_its_words(
    schema: Any, good: list[Any], bad: list[Any], words: str
) -> None:
    assert all(_accepts(schema, v) for v in good)
    assert not any(_accepts(schema, v) for v in bad)
    assert check(schema, "test")[1] == words


def test_a_keyword_the_compiler_cannot_check_fails_generation() -> None:
    with pytest.raises(Unsupported, match="oneOf"):
        check({"oneOf": [{"type": "string"}, {"type": "null"}]}, "X.events.y.value")
    with pytest.raises(Unsupported, match="maxLength"):
        check({"type": "integer", "maxLength": 3}, "X.props.n")


def test_the_spec_error_table_says_what_the_schema_says() -> None:
    schema = json.loads((ROOT / "schemas/1.0/defs/error-code.schema.json").read_text("utf-8"))
    rows = schema["x-phloem"]["errors"]
    spec = (ROOT / "spec/1.0/errors.md").read_text("utf-8")
    seen = set()
    for line in spec.splitlines():
        m = re.match(r"\| `([a-z_]+)` \|.*\| (client|server) \| (yes|no \(fatal\)) \|.*\| (—|`\d+`) \|$", line)
        if m is None:
            continue
        code, fault, survives, close = m.groups()
        seen.add(code)
        row = rows[code]
        assert (fault, survives == "yes") == (row["fault"], row["survives"]), code
        assert close == ("—" if row["survives"] else f"`{row['close']}`"), code
    assert seen == set(schema["enum"])


def test_the_asyncapi_document_names_the_schemas_subprotocol() -> None:
    version = json.loads((ROOT / "schemas/1.0/defs/version.schema.json").read_text("utf-8"))
    doc = yaml.safe_load((ROOT / "spec/1.0/asyncapi.yaml").read_text("utf-8"))
    found = re.findall(r"x-phloem-subprotocol: (\S+)", yaml.safe_dump(doc))
    assert found == [version["x-phloem"]["subprotocol"]]


def test_the_asyncapi_close_codes_follow_the_fatal_errors_of_the_schema() -> None:
    schema = json.loads((ROOT / "schemas/1.0/defs/error-code.schema.json").read_text("utf-8"))
    doc = yaml.safe_load((ROOT / "spec/1.0/asyncapi.yaml").read_text("utf-8"))
    listed = {
        entry["after"]: entry["code"]
        for channel in doc["channels"].values()
        for entry in channel.get("x-phloem-close-codes", [])
        if "after" in entry
    }
    fatal = {code: row["close"] for code, row in schema["x-phloem"]["errors"].items() if not row["survives"]}
    assert listed == fatal
