"""An app whose handlers block on purpose (issue 7 §1): `/work` burns CPU, sleeps or waits on a
socket for the number of seconds its event carries; `/counter` is the session that must not
notice. Both pages send heartbeats every second, so a stalled loop shows as missed ones."""

import contextlib
import socket
import time

import phloem as ph

app = ph.App("Blocking handlers")
FAST = {"heartbeat_seconds": 1}  # a connection silent for 3 s is closed (PHL-PING-005)


def burn(seconds: float) -> None:
    """Pure-Python CPU, holding the GIL except when the interpreter switches threads."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        sum(range(2000))


def wait_on_socket(seconds: float) -> None:
    """Wait for bytes that never come: a blocking recv, as a slow database or HTTP call does."""
    a, b = socket.socketpair()
    with a, b:
        a.settimeout(seconds)
        with contextlib.suppress(TimeoutError):
            a.recv(1)


@app.page("/work", limits=FAST)
def work(ui):
    done = ui.state("done", 0)

    def run(what):
        def handler(event):
            {"burn": burn, "sleep": time.sleep, "io": wait_on_socket}[what](float(event.value))
            done.set(done.value + 1)

        return handler

    return ph.Component(
        "Probe",
        {},
        ph.Text(f"Done: {done.value}", id="done"),
        id="work",
        on={name: run(name) for name in ("burn", "sleep", "io")},
    )


@app.page("/counter", limits=FAST)
def counter(ui):
    count = ui.state("count", 0)
    return ph.Column(
        ph.Text(f"Count: {count.value}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
    )
