"""Signed-in users only (auth=True): ui.user is the project's Django user."""

import phloem as ph

app = ph.App("Greeter")


@app.page("/", auth=True)
def home(ui):
    times = ui.state("times", 0)
    return ph.Column(
        ph.Text(f"Hello, {ui.user}", id="hello"),
        ph.Text(f"Waved {times.value} times", id="times"),
        ph.Button("Wave", id="wave", on_click=lambda e: times.set(times.value + 1)),
    )
