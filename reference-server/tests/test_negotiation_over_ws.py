"""Component negotiation and TextInput through the server (design §1, §2)."""

import pytest
from session import Session, communicator

pytestmark = pytest.mark.usefixtures("served")


async def test_undeclared_components_arrive_as_fallbacks_and_welcome_names_the_rest():
    comm = communicator()
    assert (await comm.connect())[0]
    session = Session(comm)
    declared = {"Column": 1, "Text": 1, "Button": 1, "Sparkline": 1}
    await session.send(
        {"type": "hello", "versions": ["1.0"], "path": "/fallback", "components": declared}
    )
    welcome, snapshot = await session.recv(), await session.recv()
    assert welcome["components"] == declared
    kinds = {c["id"]: (c["type"], c.get("props")) for c in snapshot["root"]["children"]}
    assert kinds == {
        "t": ("Text", {"text": "plain"}),
        "in": ("Column", {"fallback": "TextInput"}),
        "probe": ("Column", {"fallback": "Probe"}),
    }
    await session.send({"type": "event", "id": 1, "node": "in", "name": "change", "value": "x"})
    assert await session.recv() == {"type": "ack", "seq": 3, "event": 1}
    await session.close()


async def test_a_text_input_change_updates_value_and_greeting():
    session, _, _snapshot = await Session.open("/input-upper")
    await session.send({"type": "event", "id": 1, "node": "name", "name": "change", "value": "ada"})
    patch = await session.recv()
    assert sorted(patch["ops"], key=lambda op: op["id"]) == [
        {"id": "greeting", "set": {"text": "Hello, ADA!"}},
        {"id": "name", "set": {"value": "ADA"}},
    ]
    await session.close()
