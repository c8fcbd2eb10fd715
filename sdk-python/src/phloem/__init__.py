"""Phloem: a Python script becomes a live web app.

import phloem as ph
app = ph.App("Counter")

@app.page("/")
def home(ui):
    count = ui.state("count", 0)
    return ph.Column(
        ph.Text(f"Count: {count.value}", id="count"),
        ph.Button("Increment", id="inc", on_click=lambda e: count.set(count.value + 1)),
    )
"""

from phloem import jobs, runtime, testing
from phloem.app import App, load_app
from phloem.jobs import JobCancelled, JobHandle, JobProgress
from phloem.ui import UI, Button, Column, Component, Element, Event, Link, State, Text, TextInput

__all__ = [
    "UI",
    "App",
    "Button",
    "Column",
    "Component",
    "Element",
    "Event",
    "JobCancelled",
    "JobHandle",
    "JobProgress",
    "Link",
    "State",
    "Text",
    "TextInput",
    "jobs",
    "load_app",
    "runtime",
    "testing",
]
