"""spec/1.0/asyncapi.yaml: @asyncapi/parser accepts it and refuses broken copies of it
(tools/asyncapi/validate.mjs), and it stays in step with the schemas and the spec: one message
per message schema, each direction's operations carrying exactly that direction's messages,
every close code of the spec."""

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest
import yaml
from conftest import REPO

DOC = REPO / "spec" / "1.0" / "asyncapi.yaml"
TOOL = REPO / "tools" / "asyncapi"
MESSAGES = REPO / "schemas" / "1.0" / "messages"
UNIONS = {"client-message", "server-message"}


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node 20 is needed to validate the AsyncAPI document"
    assert (TOOL / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "tools/asyncapi has no node_modules: run `npm ci` in tools/asyncapi"
    )
    return subprocess.run(
        [node, str(TOOL / "validate.mjs"), str(path)], capture_output=True, text=True, timeout=60
    )


def _doc() -> dict:
    return yaml.safe_load(DOC.read_text(encoding="utf-8"))


@pytest.mark.subprocess
def test_asyncapi_parser_accepts_the_document():
    done = _validate(DOC)
    assert done.returncode == 0, done.stderr
    assert "valid AsyncAPI 3.0.0 document" in done.stdout


def _break_action(doc: dict, schemas: Path) -> None:
    doc["operations"]["receiveHello"]["action"] = "publish"  # AsyncAPI 2's word, not 3's


def _break_reference(doc: dict, schemas: Path) -> None:
    doc["components"]["messages"]["event"]["payload"]["schema"]["$ref"] = (
        "../../schemas/1.0/messages/no-such.schema.json"
    )


def _break_reply(doc: dict, schemas: Path) -> None:
    doc["operations"]["receivePing"]["reply"]["messages"] = [{"$ref": "#/channels/nowhere"}]


def _break_payload_schema(doc: dict, schemas: Path) -> None:
    path = schemas / "messages" / "resync.schema.json"
    schema = orjson.loads(path.read_bytes())
    schema["type"] = 12
    path.write_bytes(orjson.dumps(schema))


def _use_2020_12_only_keyword(doc: dict, schemas: Path) -> None:
    # Valid 2020-12 and a valid draft-07 *shape*, but draft-07 would ignore it silently.
    path = schemas / "messages" / "hello.schema.json"
    schema = orjson.loads(path.read_bytes())
    schema["properties"]["versions"]["prefixItems"] = [{"const": "1.0"}]
    path.write_bytes(orjson.dumps(schema))


def _unchanged(doc: dict, schemas: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("breakage", "complaint"),
    [
        (_break_action, "error asyncapi-document-resolved at /operations/receiveHello/action"),
        (_break_reference, "error invalid-ref at /components/messages/event/payload"),
        (_break_reply, "error invalid-ref at /operations/receivePing/reply/messages/0"),
        (_break_payload_schema, '"type" property must be equal to one of the allowed values'),
        (_use_2020_12_only_keyword, '"prefixItems" is JSON Schema 2020-12 only'),
        (_unchanged, None),
    ],
)
@pytest.mark.subprocess
def test_asyncapi_parser_refuses_a_broken_copy(tmp_path, breakage, complaint):
    # The copy keeps the repository's layout, so its relative $refs reach the copied schemas.
    schemas = tmp_path / "schemas" / "1.0"
    shutil.copytree(REPO / "schemas" / "1.0", schemas)
    doc = _doc()
    breakage(doc, schemas)
    copy = tmp_path / "spec" / "1.0" / "asyncapi.yaml"
    copy.parent.mkdir(parents=True)
    copy.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    done = _validate(copy)
    if complaint is None:  # the control: a faithful copy passes, so the breakage is what fails
        assert done.returncode == 0, done.stderr
        return
    assert done.returncode == 1, done.stdout + done.stderr
    assert "invalid AsyncAPI document" in done.stderr and complaint in done.stderr


def _payload_file(message: dict) -> str:
    return Path(message["payload"]["schema"]["$ref"]).name


def test_every_message_schema_is_a_message_of_the_channel():
    doc = _doc()
    files = {p.name for p in MESSAGES.glob("*.schema.json")}
    expected = {f.removesuffix(".schema.json") for f in files} - UNIONS
    messages = doc["components"]["messages"]
    assert set(messages) == expected
    for name, message in messages.items():
        assert message["name"] == name
        assert _payload_file(message) == f"{name}.schema.json"
        assert message["payload"]["schemaFormat"] == "application/schema+json;version=draft-07"
    channel = doc["channels"]["phloem"]["messages"]
    assert {ref["$ref"] for ref in channel.values()} == {
        f"#/components/messages/{name}" for name in expected
    }


def _union(name: str) -> set[str]:
    schema = orjson.loads((MESSAGES / f"{name}.schema.json").read_bytes())
    return {ref["$ref"].removesuffix(".schema.json") for ref in schema["oneOf"]}


def _messages_of(operation: dict) -> set[str]:
    return {ref["$ref"].rsplit("/", 1)[-1] for ref in operation.get("messages", [])}


def test_operations_carry_each_directions_messages():
    """What the server receives is the client-message union; what it sends (and replies) is
    the server-message union (PHL-MSG-001)."""
    operations = _doc()["operations"].values()
    received = set().union(*(_messages_of(o) for o in operations if o["action"] == "receive"))
    sent = set().union(*(_messages_of(o) for o in operations if o["action"] == "send"))
    replies = set().union(*(_messages_of(o["reply"]) for o in operations if "reply" in o))
    assert received == _union("client-message")
    assert sent == _union("server-message")
    assert replies <= sent


def test_channel_names_every_close_code_of_the_spec():
    transport = (REPO / "spec" / "1.0" / "transport.md").read_text(encoding="utf-8")
    table = {int(code) for code in re.findall(r"^\| `(\d{4})` \|", transport, re.MULTILINE)}
    client = {4000, 4002}  # a client's own codes: PHL-TRANSPORT-009, and a server's violation
    channel = _doc()["channels"]["phloem"]
    listed = {entry["code"] for entry in channel["x-phloem-close-codes"]}
    assert table and table | client <= listed
    for code in listed:
        assert f"| {code} |" in channel["description"]


def test_channel_requires_the_phloem_subprotocol():
    channel = _doc()["channels"]["phloem"]
    assert channel["address"] == "/phloem/ws"
    headers = channel["bindings"]["ws"]["headers"]
    assert headers["required"] == ["Sec-WebSocket-Protocol"]
    pattern = re.compile(headers["properties"]["Sec-WebSocket-Protocol"]["pattern"])
    assert pattern.search("phloem.v1") and pattern.search("phloem.v2, phloem.v1")
    assert not pattern.search("phloem.v10") and not pattern.search("chat")


def test_requirement_ids_cited_exist():
    known = {
        entry["id"]
        for entry in yaml.safe_load((REPO / "spec" / "requirements.yaml").read_text("utf-8"))
    }
    cited = set(re.findall(r"PHL-[A-Z]+-\d{3}", DOC.read_text(encoding="utf-8")))
    assert cited and cited <= known
