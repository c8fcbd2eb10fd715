"""PHL-PING-005: a connection silent for three heartbeat intervals is closed with 4000, and
its session waits for the resume."""

import orjson
import phloem as ph
from phloem.runtime import Hub, Limits

app = ph.App("silent")


@app.page("/")
def counter(ui):
    count = ui.state("count", 0)
    return ph.Column(
        ph.Text(f"Count: {count.value}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
    )


def frames(out):
    return [orjson.loads(f) for f in out.frames]


def hello(conn, now, **extra):
    return frames(
        conn.receive(orjson.dumps({"type": "hello", "versions": ["1.0"], **extra}).decode(), now)
    )


def test_silent_connection_closed_with_4000_after_three_heartbeats():
    hub = Hub(app, Limits(heartbeat_seconds=10))
    conn = hub.connect(0.0)
    welcome, _snapshot = hello(conn, 1.0)
    assert conn.deadline() == 31.0  # three intervals after the last frame
    assert conn.poll(30.9) == ([], None, ())
    out = conn.poll(31.0)
    assert out.close == 4000 and out.frames == []
    assert conn.poll(40.0) == ([], None, ())  # idempotent: already closed

    again = hub.connect(41.0)
    resumed = hello(again, 41.0, resume={"token": welcome["token"], "seq": 2})
    assert resumed[0]["type"] == "welcome" and resumed[0]["resumed"] is True


def test_every_frame_restarts_the_silence():
    hub = Hub(app, Limits(heartbeat_seconds=10))
    conn = hub.connect(0.0)
    hello(conn, 0.0)
    for t in (25.0, 50.0, 75.0):
        assert conn.poll(t) == ([], None, ())
        conn.receive(orjson.dumps({"type": "ping", "id": str(t)}).decode(), t)
    assert conn.poll(104.9).close is None
    assert conn.poll(105.0).close == 4000


def test_a_connection_that_never_says_hello_is_closed_too():
    hub = Hub(app, Limits(heartbeat_seconds=1))
    conn = hub.connect(5.0)
    assert conn.poll(7.9).close is None
    assert conn.poll(8.0).close == 4000
    assert hub.sessions == {}
