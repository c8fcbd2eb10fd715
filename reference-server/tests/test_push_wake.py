"""Server-initiated updates (design §5): `phloem_server.push` from any thread, woken through
an in-memory channel layer that expires messages after 1 s and holds 1 per channel: a dropped
or expired wake, or no connection at all, loses nothing."""

import asyncio
import time

import phloem_server
import pytest
from channels.layers import get_channel_layer
from django.test import override_settings
from phloem.runtime import UnknownSession
from phloem_server import updates
from session import Session, communicator, find

TIGHT_LAYER = {
    "default": {
        "BACKEND": "channels.layers.InMemoryChannelLayer",
        "CONFIG": {"expiry": 1, "capacity": 1},
    }
}


@pytest.fixture(autouse=True)
def tight_layer(served):
    with override_settings(CHANNEL_LAYERS=TIGHT_LAYER):  # channels rebuilds its layers
        yield


class LayerClock:
    """The in-memory layer's clock (channels.layers reads time.time() for expiry), moved on
    at will: the layer's expiry passes without waiting for it in real time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def layer_clock(monkeypatch):
    clock = LayerClock()
    monkeypatch.setattr("channels.layers.time", clock)  # only the layer's module sees it
    return clock


def bump(ui):
    count = ui.state("count", 0)
    count.set(count.value + 1)


async def test_a_push_from_another_thread_reaches_the_connected_browser():
    assert get_channel_layer().capacity == 1 and get_channel_layer().expiry == 1
    session, welcome, snapshot = await Session.open()
    text_id = find(snapshot["root"], "Text")["id"]
    future = await asyncio.to_thread(phloem_server.push, welcome["session"], bump)
    await asyncio.wrap_future(future)
    patch = await session.recv()  # woken through the layer, no frame from the client needed
    assert patch == {
        "type": "ui.patch", "seq": 3, "base": 1, "rev": 2,
        "ops": [{"id": text_id, "set": {"text": "Count: 1"}}],
    }  # fmt: skip
    await session.close()


async def test_a_burst_of_pushes_past_the_layers_capacity_arrives_whole_and_in_order():
    session, welcome, _snapshot = await Session.open()
    await asyncio.gather(*(updates.apush(welcome["session"], bump) for _ in range(5)))
    patches = [await session.recv() for _ in range(5)]
    assert [p["seq"] for p in patches] == [3, 4, 5, 6, 7]
    assert patches[-1]["ops"][0]["set"] == {"text": "Count: 5"}
    await session.close()


async def test_a_push_wakes_its_connection_in_process_without_a_channel_layer():
    with override_settings(CHANNEL_LAYERS={}):
        assert get_channel_layer() is None
        session, welcome, _snapshot = await Session.open()
        await updates.apush(welcome["session"], bump)
        patch = await session.recv()  # no layer, no frame from the client: a direct wake
        assert patch["type"] == "ui.patch" and patch["seq"] == 3
        await session.close()


async def test_a_lost_wake_is_made_good_by_the_next_frame():
    session, welcome, _snapshot = await Session.open()
    await session.send({"type": "ping", "id": 0})  # answered once the hello is handled whole
    assert await session.recv() == {"type": "pong", "id": 0}
    layer = get_channel_layer()
    # Lose the wakes: the direct one (the consumer is no longer known to hold the session)
    # and the layer's (as one that expired or was dropped would be): no wake arrives.
    updates._held.pop(("default", welcome["session"]))
    group = updates.group("default", welcome["session"])
    consumers = list(layer.groups.get(group, {}))
    for channel in consumers:
        await layer.group_discard(group, channel)
    await updates.apush(welcome["session"], bump)
    assert await session.comm.receive_nothing(timeout=0.3)
    await session.send({"type": "ping", "id": 1})
    patch, pong = await session.recv(), await session.recv()
    assert (
        patch["type"] == "ui.patch" and "event" not in patch and pong == {"type": "pong", "id": 1}
    )
    await session.close()


async def test_pushes_while_detached_survive_the_layers_expiry_and_arrive_on_resume(layer_clock):
    session, welcome, snapshot = await Session.open()
    await updates.apush(welcome["session"], bump)  # connected
    assert (await session.recv())["seq"] == 3
    await session.close()
    for _ in range(3):
        await updates.apush(welcome["session"], bump)  # detached: nobody to wake
    layer_clock.offset += 1.2  # past the layer's expiry
    resumed = Session(communicator())
    assert (await resumed.comm.connect())[0]
    await resumed.send({
        "type": "hello", "versions": ["1.0"], "path": "/counter",
        "resume": {"token": welcome["token"], "seq": 3},
    })  # fmt: skip
    again = await resumed.recv()
    assert again["resumed"] is True and again["seq"] == 4
    patches = [await resumed.recv() for _ in range(3)]
    assert [p["seq"] for p in patches] == [5, 6, 7]
    assert patches[-1]["ops"][0]["set"] == {"text": "Count: 4"}
    click = await resumed.click(find(snapshot["root"], "Button")["id"])
    assert click["ops"][0]["set"] == {"text": "Count: 5"}  # exact: nothing lost, nothing doubled
    await resumed.close()


async def test_pushing_to_an_unknown_session_raises():
    session, _, _ = await Session.open()
    with pytest.raises(UnknownSession):
        await asyncio.wrap_future(
            await asyncio.to_thread(phloem_server.push, "no-such-session", bump)
        )
    await session.close()
