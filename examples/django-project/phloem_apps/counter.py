import phloem as ph

app = ph.App("Counter")


@app.page("/")
def home(ui):
    count = ui.state("count", 0)
    return ph.Column(
        ph.Text(f"Count: {count.value}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
    )
