"""Session isolation through the server: an event reaches only its own session's nodes; a
resume token resumes only its own session."""

import pytest
from session import Session, communicator

pytestmark = pytest.mark.usefixtures("served")


async def test_an_event_cannot_reach_another_sessions_node():
    counter, _, _ = await Session.open("/counter")
    form, _, _ = await Session.open("/input")
    await counter.send({"type": "event", "id": 1, "node": "name", "name": "change", "value": "x"})
    assert (await counter.recv())["code"] == "unknown_node"
    await form.send({"type": "resync"})
    snapshot = await form.recv()
    assert snapshot["root"]["children"][1]["props"]["text"] == "Hello, !"
    await counter.close()
    await form.close()


async def test_a_token_resumes_its_own_session_whatever_the_hello_says():
    first, a, _ = await Session.open("/counter")
    second, b, _ = await Session.open("/input")
    await second.close()
    comm = communicator()
    assert (await comm.connect())[0]
    again = Session(comm)
    resume = {"token": b["token"], "seq": 2}
    await again.send({"type": "hello", "versions": ["1.0"], "path": "/counter", "resume": resume})
    welcome = await again.recv()
    assert welcome["resumed"] is True and welcome["session"] == b["session"] != a["session"]
    await again.send({"type": "resync"})
    assert (await again.recv())["root"]["children"][0]["type"] == "TextInput"
    await again.close()
    await first.close()
