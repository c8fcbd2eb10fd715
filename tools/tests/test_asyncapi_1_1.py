"""spec/1.1/asyncapi.yaml: @asyncapi/parser accepts it and refuses broken copies of it
(tools/asyncapi/validate.mjs, which follows its `$ref`s into spec/1.0/asyncapi.yaml), and it
stays in step with the schemas: one message per 1.0 and 1.1 message schema, each 1.0 one taken
from the 1.0 document, and each direction's operations carrying exactly 1.1's union of that
direction. (spec/1.0/asyncapi.yaml has its own tests: reference-server/tests/test_asyncapi.py.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "spec" / "1.1" / "asyncapi.yaml"
DOC_1_0 = ROOT / "spec" / "1.0" / "asyncapi.yaml"
TOOL = ROOT / "tools" / "asyncapi"
SCHEMAS = ROOT / "schemas"
UNIONS = {"client-message", "server-message"}


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node 20 is needed to validate the AsyncAPI document"
    assert (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run `npm ci` in tools/asyncapi"
    )
    return subprocess.run(
        [node, str(TOOL / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=60
    )


def _doc(path: Path = DOC) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))


@pytest.mark.subprocess
def test_asyncapi_parser_accepts_the_document() -> None:
    done = _validate(DOC)
    assert done.returncode == 0, done.stderr
    assert "valid AsyncAPI 3.0.0 document: 1 channel(s), 11 operations, 15 messages" in done.stdout


def _edit_schema(root: Path, rel: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = root / "schemas" / rel
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")


def _missing_job_schema(doc: dict[str, Any], root: Path) -> None:
    doc["components"]["messages"]["job.log"]["payload"]["schema"]["$ref"] = (
        "../../schemas/1.1/messages/job.tail.schema.json"
    )


def _missing_1_0_message(doc: dict[str, Any], root: Path) -> None:
    doc["components"]["messages"]["ping"]["$ref"] = "../1.0/asyncapi.yaml#/components/messages/pang"


def _cancel_that_publishes(doc: dict[str, Any], root: Path) -> None:
    doc["operations"]["receiveJobCancel"]["action"] = "publish"  # AsyncAPI 2's word, not 3's


def _2020_12_keyword_in_a_job_schema(doc: dict[str, Any], root: Path) -> None:
    _edit_schema(
        root,
        "1.1/messages/job.log.schema.json",
        lambda s: s["properties"]["lines"].update(prefixItems=[{"type": "string"}]),
    )


def _2020_12_keyword_in_a_1_0_schema(doc: dict[str, Any], root: Path) -> None:
    # Reached only through the 1.0 document's resync message: the draft check follows it there.
    _edit_schema(
        root,
        "1.0/messages/resync.schema.json",
        lambda s: s.update(unevaluatedProperties=True),
    )


def _unchanged(doc: dict[str, Any], root: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (_missing_job_schema, "job.tail.schema.json"),
        (_missing_1_0_message, "/components/messages/pang"),
        (_cancel_that_publishes, "at /operations/receiveJobCancel/action"),
        (_2020_12_keyword_in_a_job_schema, '"prefixItems" is JSON Schema 2020-12 only'),
        (_2020_12_keyword_in_a_1_0_schema, '"unevaluatedProperties" is JSON Schema 2020-12 only'),
        (_unchanged, None),
    ],
)
@pytest.mark.subprocess
def test_asyncapi_parser_refuses_a_broken_copy(
    tmp_path: Path, breakage: Callable[[dict[str, Any], Path], None], complaint: str | None
) -> None:
    # The copy keeps the repository's layout, so its relative $refs reach the copied files.
    for top in ("spec/1.0", "schemas/1.0", "schemas/1.1"):
        shutil.copytree(ROOT / top, tmp_path / top)
    doc = _doc()
    breakage(doc, tmp_path)
    copy = tmp_path / "spec" / "1.1" / "asyncapi.yaml"
    copy.parent.mkdir(parents=True)
    copy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    done = _validate(copy)
    if complaint is None:  # the control: a faithful copy passes, so the breakage is what fails
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invalid AsyncAPI document" in done.stderr and complaint in done.stderr


def _stems(version: str) -> set[str]:
    files = (SCHEMAS / version / "messages").glob("*.schema.json")
    return {p.name.removesuffix(".schema.json") for p in files} - UNIONS


def test_every_message_schema_of_1_0_and_1_1_is_a_message_of_the_channel() -> None:
    messages = _doc()["components"]["messages"]
    assert set(messages) == _stems("1.0") | _stems("1.1")
    for name in _stems("1.0"):  # 1.0's messages are 1.0's document's, never copies
        assert messages[name] == {"$ref": f"../1.0/asyncapi.yaml#/components/messages/{name}"}
        assert name in _doc(DOC_1_0)["components"]["messages"]
    for name in _stems("1.1"):
        payload = messages[name]["payload"]
        assert payload["schema"]["$ref"] == f"../../schemas/1.1/messages/{name}.schema.json"
        assert payload["schemaFormat"] == "application/schema+json;version=draft-07"
        kind = json.loads((SCHEMAS / "1.1" / "messages" / f"{name}.schema.json").read_text())
        assert messages[name]["name"] == kind["properties"]["type"]["const"]
    channel = _doc()["channels"]["phloem"]["messages"]
    assert {ref["$ref"] for ref in channel.values()} == {
        f"#/components/messages/{n}" for n in messages
    }


def _union(version: str, name: str) -> set[str]:
    """The message stems of a union, a 1.0 union within a 1.1 one read through."""
    path = SCHEMAS / version / "messages" / f"{name}.schema.json"
    out: set[str] = set()
    for member in json.loads(path.read_text(encoding="utf-8"))["oneOf"]:
        ref = member["$ref"]
        stem = Path(ref).name.removesuffix(".schema.json")
        out |= _union("1.0", stem) if ref.startswith("../../1.0/") else {stem}
    return out


def _messages_of(operation: dict[str, Any]) -> set[str]:
    return {ref["$ref"].rsplit("/", 1)[-1] for ref in operation.get("messages", [])}


def test_operations_carry_each_directions_messages() -> None:
    """What the server receives is 1.1's client-message union; what it sends (and replies),
    1.1's server-message union (PHL-MSG-001)."""
    operations = _doc()["operations"].values()
    received = set().union(*(_messages_of(o) for o in operations if o["action"] == "receive"))
    sent = set().union(*(_messages_of(o) for o in operations if o["action"] == "send"))
    replies = set().union(*(_messages_of(o["reply"]) for o in operations if "reply" in o))
    assert received == _union("1.1", "client-message")
    assert sent == _union("1.1", "server-message")
    assert replies <= sent


def test_the_channel_is_1_0_s_with_the_same_subprotocol_and_close_codes() -> None:
    channel, channel_1_0 = _doc()["channels"]["phloem"], _doc(DOC_1_0)["channels"]["phloem"]
    assert channel["address"] == channel_1_0["address"]
    assert channel["x-phloem-subprotocol"] == channel_1_0["x-phloem-subprotocol"]
    assert channel["bindings"] == {"$ref": "../1.0/asyncapi.yaml#/channels/phloem/bindings"}
    assert channel["x-phloem-close-codes"] == {
        "$ref": "../1.0/asyncapi.yaml#/channels/phloem/x-phloem-close-codes"
    }


def test_requirement_ids_cited_exist() -> None:
    known = {e["id"] for e in yaml.safe_load((ROOT / "spec" / "requirements.yaml").read_text())}
    cited = set(re.findall(r"PHL-[A-Z]+-\d{3}", DOC.read_text(encoding="utf-8")))
    assert cited and cited <= known
