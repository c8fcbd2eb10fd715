import asyncio
import logging

import orjson
import pytest
from phloem.runtime.connection import Output
from phloem_server import records
from phloem_server.models import SessionRecord
from session import Session, communicator, find

pytestmark = pytest.mark.usefixtures("served")


async def test_hello_gets_welcome_then_snapshot():
    session, welcome, snapshot = await Session.open()
    assert welcome["type"] == "welcome" and welcome["seq"] == 1 and welcome["version"] == "1.0"
    assert welcome["limits"]["max_frame_bytes"] == 65536
    assert snapshot["type"] == "ui.snapshot" and snapshot["seq"] == 2 and snapshot["rev"] == 1
    assert find(snapshot["root"], "Text")["props"]["text"] == "Count: 0"
    await session.close()


async def test_click_gets_a_patch_acknowledging_the_event():
    session, _, snapshot = await Session.open()
    patch = await session.click(find(snapshot["root"], "Button")["id"])
    assert patch["type"] == "ui.patch" and patch["event"] == 1 and patch["base"] == 1
    text_id = find(snapshot["root"], "Text")["id"]
    assert {"id": text_id, "set": {"text": "Count: 1"}} in patch["ops"]
    await session.close()


BAD_INPUTS = [
    pytest.param({"text": "{not json"}, "malformed_frame", id="malformed-json"),
    pytest.param({"text": '["an", "array"]'}, "malformed_frame", id="not-an-object"),
    pytest.param({"bytes": b'{"type":"ping"}'}, "malformed_frame", id="binary-frame"),
    pytest.param(
        {"text": '{"type":"event","id":"one","node":"x","name":"click"}'},
        "invalid_message",
        id="wrong-field-type",
    ),
    pytest.param({"text": '{"type":"teleport"}'}, "unknown_message_type", id="unknown-type"),
    pytest.param(
        {"text": '{"type":"event","id":1,"node":"no-such-node","name":"click"}'},
        "unknown_node",
        id="missing-node",
    ),
    pytest.param(
        {"text": '{"type":"ping","pad":"' + "x" * 70_000 + '"}'}, "frame_too_large", id="oversized"
    ),
    pytest.param(
        {"text": '{"type":"hello","versions":["1.0"]}'}, "unexpected_message", id="second-hello"
    ),
]


@pytest.mark.parametrize(("frame", "code"), BAD_INPUTS)
async def test_bad_input_gets_its_coded_error_is_logged_and_the_session_survives(
    frame, code, caplog
):
    session, _, snapshot = await Session.open()
    with caplog.at_level(logging.INFO, logger="phloem_server.protocol"):
        await session.send_raw(text=frame.get("text"), data=frame.get("bytes"))
        error = await session.recv()
    assert error["type"] == "error" and error["code"] == code
    assert error.get("fatal") is not True
    assert any(code in r.getMessage() for r in caplog.records if r.name == "phloem_server.protocol")
    # Still usable: the next event is handled normally.
    session.event_id = 10
    patch = await session.click(find(snapshot["root"], "Button")["id"])
    assert patch["type"] == "ui.patch" and patch["event"] == 11
    await session.close()


async def test_message_before_hello_gets_handshake_required():
    comm = communicator()
    assert (await comm.connect())[0]
    await comm.send_to(text_data='{"type":"ping"}')
    error = orjson.loads(await comm.receive_from())
    assert error["code"] == "handshake_required"
    await comm.disconnect()


async def test_unsupported_version_gets_fatal_error_and_close_4406():
    comm = communicator()
    assert (await comm.connect())[0]
    await comm.send_to(text_data='{"type":"hello","versions":["9.0"]}')
    error = orjson.loads(await comm.receive_from())
    assert error["code"] == "version_unsupported" and error["fatal"] is True
    assert await comm.receive_output() == {"type": "websocket.close", "code": 4406}
    await comm.wait()


async def test_two_sessions_do_not_share_state():
    first, _, snapshot = await Session.open()
    button = find(snapshot["root"], "Button")["id"]
    await first.click(button)
    await first.click(button)
    second, _, fresh = await Session.open()
    assert find(fresh["root"], "Text")["props"]["text"] == "Count: 0"
    patch = await second.click(find(fresh["root"], "Button")["id"])
    assert {"id": find(fresh["root"], "Text")["id"], "set": {"text": "Count: 1"}} in patch["ops"]
    await first.close()
    await second.close()


async def test_session_record_is_written_on_connect_and_closed_on_disconnect():
    session, welcome, _ = await Session.open()
    await records.drain()
    record = await SessionRecord.objects.aget(session=welcome["session"])
    assert record.closed is None and record.app_path.endswith("apps.py")
    await session.close()
    await records.drain()
    await record.arefresh_from_db()
    assert record.closed is not None


async def test_connection_without_the_subprotocol_is_refused():
    comm = communicator(subprotocols=())
    connected, _ = await comm.connect()
    assert not connected  # closed before accept: HTTP 403 from the ASGI server (test_live)


async def test_resume_on_a_new_connection_closes_the_old_one_with_4409():
    old, welcome, _ = await Session.open()
    new = Session(communicator())
    assert (await new.comm.connect())[0]
    resume = {"token": welcome["token"], "seq": 2}
    await new.send({"type": "hello", "versions": ["1.0"], "path": "/counter", "resume": resume})
    assert (await new.recv())["resumed"] is True
    assert await old.comm.receive_output(timeout=2) == {"type": "websocket.close", "code": 4409}
    await old.close()
    await records.drain()
    record = await SessionRecord.objects.aget(session=welcome["session"])
    assert record.closed is None  # the session lives on over the new connection
    await new.close()


async def test_runtime_failure_closes_with_1011_and_is_logged(served, monkeypatch, caplog):
    class Broken:
        session = None
        on_superseded = None
        closed = False

        def deadline(self):
            return 1e9  # never silent

        def poll(self, now):
            return Output([])

        def receive(self, frame, now):
            raise RuntimeError("runtime bug")

        def disconnect(self, now):
            pass

    monkeypatch.setattr(served.hub, "connect", lambda now: Broken())
    comm = communicator()
    assert (await comm.connect())[0]
    await comm.send_to(text_data='{"type":"hello","versions":["1.0"]}')
    assert await comm.receive_output() == {"type": "websocket.close", "code": 1011}
    assert "runtime failed" in caplog.text


BROKEN_APP = """
import phloem as ph

app = ph.App("Broken")


@app.page("/")
def home(ui):
    return ph.Column(ph.Button("Boom", id="boom", on_click=lambda e: 1 / 0))
"""


async def test_handler_exception_gets_handler_error_logged_as_a_server_fault(tmp_path, caplog):
    from phloem_server import registry

    script = tmp_path / "broken.py"
    script.write_text(BROKEN_APP)
    registry.load(script)
    session, _, _ = await Session.open("/")
    with caplog.at_level(logging.INFO, logger="phloem_server.protocol"):
        error = await session.click("boom")
    assert error["code"] == "handler_error" and error["event"] == 1
    logged = [r for r in caplog.records if r.name == "phloem_server.protocol"]
    assert (
        logged and logged[0].levelno == logging.ERROR and "handler_error" in logged[0].getMessage()
    )
    await session.close()


async def test_a_wake_effect_wakes_each_named_session(served, monkeypatch):
    # Job frames a handler queued for its owner's other sessions (phloem.runtime.Wake).
    from phloem.runtime import Wake
    from phloem_server import updates

    woken = []

    async def wake(app_key, session_id):
        woken.append(session_id)

    class Waking:
        session = None
        closed = False

        def deadline(self):
            return 1e9  # never silent

        def receive(self, frame, now):
            return Output(["{}"], None, (Wake(frozenset({"s8", "s9"})),))

        def disconnect(self, now):
            pass

    monkeypatch.setattr(updates, "wake", wake)
    monkeypatch.setattr(served.hub, "connect", lambda now: Waking())
    comm = communicator()
    assert (await comm.connect())[0]
    await comm.send_to(text_data='{"type":"hello","versions":["1.1"]}')
    assert await comm.receive_output() == {"type": "websocket.send", "text": "{}"}
    for _ in range(1000):  # the consumer carries out effects after sending: let it run on
        if len(woken) == 2:
            break
        await asyncio.sleep(0)
    assert woken == ["s8", "s9"]
    await comm.disconnect()
