"""Job fixtures for the server's job tests: every step waits for the test's say-so (a file
the test creates), so no test waits on time for a job to get somewhere."""

from __future__ import annotations

from pathlib import Path

# The app the worker processes load. Each job's params name a control directory: step i runs
# once the file "go-i" exists there.
APP = '''
import json
import os
import time
from pathlib import Path

import phloem as ph

app = ph.App("Job fixtures")


@app.page("/")
def home(ui):
    last = ui.state("last", "")

    def start(event):  # "NAME PARAMS-JSON": start that job with those params
        name, _, params = event.value.partition(" ")
        last.set(app.jobs[name].start(ui, json.loads(params)).id)

    latest = gated.latest(ui)
    done = latest.result["steps"] if latest and latest.state == "succeeded" else "-"
    return ph.Column(
        ph.Text(f"last: {last.value}", id="last"),
        ph.Text(f"result: {done}", id="result"),
        ph.TextInput("start", id="start", value="", on_change=start),
        id="root",
    )


def wait_for(path, progress=None):
    while not path.exists():
        if progress is not None:
            progress()  # still alive; raises once cancelled
        time.sleep(0.002)


@app.job
def gated(params, progress):
    """``steps`` steps, each released by the test; logs one line per step."""
    control = Path(params["dir"])
    for i in range(params["steps"]):
        wait_for(control / f"go-{i}", progress)
        progress((i + 1) / params["steps"], stage=f"step {i + 1}")
        progress.log(f"step {i + 1} done")
    return {"pid": os.getpid(), "steps": params["steps"]}


@app.job
def boom(params, progress):
    progress(0.5, stage="about to fail")
    raise ValueError("k must be > 1")


@app.job
def stubborn(params, progress):
    """Never calls progress() again after its first report: only a hard stop ends it."""
    control = Path(params["dir"])
    (control / "pid").write_text(str(os.getpid()))  # before the report the test waits for
    progress(0.1, stage="deaf")
    wait_for(control / "never")


@app.job(retry=True)
def retried(params, progress):
    """Safe to retry: the first attempt waits (the test kills it); later ones finish."""
    control = Path(params["dir"])
    (control / f"attempt-{os.getpid()}").write_text("")
    if not (control / "killed").exists():
        (control / "pid").write_text(str(os.getpid()))  # before the report the test waits for
        progress(0.2, stage="working")
        wait_for(control / "never", progress)
    return "second time lucky"
'''


def write_app(directory: Path) -> Path:
    path = directory / "jobs_app.py"
    path.write_text(APP)
    return path
