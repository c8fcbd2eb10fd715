"""Development mode of `phloem run` (its default): the app reloads when its files are saved.

The Hub serves a stand-in app whose page at each path is a stable function that, at every
render, calls the page of the *current* code. A save reloads the script (and the local modules
it imports, forgotten first so they run again), swaps the current code, and re-renders every
session through `updates.apush`: the session's state stays, the browser gets an ordinary
`ui.patch`. A script that fails to load, or a page that raises, renders its traceback instead
(development only: with ``--no-reload`` the runtime answers with the coded error alone), and
the next good save brings the page back.

The watcher (watchfiles) runs in a thread; loading runs there too, the swap and re-render on
the serving loop, where the Hub lives.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType

import phloem as ph
import watchfiles
from phloem.runtime.session import not_found_page

from . import registry, updates

log = logging.getLogger(__name__)
ERROR_ID = "phloem-dev-error"  # the node showing the traceback (tests and users find it)
# watchfiles yields once the files have been quiet this long (ms): editors write a file in
# one or a few quick writes; 30 ms groups them and leaves most of the 300 ms save -> screen
# budget to loading and rendering.
QUIET_MS = 30


def _installed(path: Path) -> bool:
    return any(part in ("site-packages", "dist-packages") for part in path.parts)


def _nothing(ui: ph.UI) -> None:
    """Changes no state: the re-render alone shows the new code."""


class DevApp:
    """The app script's current code, and the stand-in app the Hub serves."""

    def __init__(self, script: Path) -> None:
        self.script = script.resolve()
        self.root = self.script.parent
        self.app: ph.App | None = None  # the last code that loaded
        self.failure: str | None = None  # the traceback of the last load, if it failed
        # Modules imported before the app (phloem, Django, ...) are the framework's, never
        # reloaded, even when they live under the script's directory (an editable install).
        self._framework = set(sys.modules)
        self._local: dict[str, Path] = {}  # module name -> file, imported by the script

    def load(self) -> bool:
        """Run the script afresh; False (and the traceback kept to show) if it failed."""
        for name in self._local:
            sys.modules.pop(name, None)
        try:
            app = ph.load_app(self.script)
        except Exception as exc:
            self.failure = self.traceback(exc)
            ok = False
        else:
            self.app, self.failure, ok = app, None, True
        self._local = self._local_modules()
        return ok

    def _local_modules(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for name, module in list(sys.modules.items()):
            if name in self._framework or not isinstance(module, ModuleType):
                continue
            file = getattr(module, "__file__", None)
            if not file:
                continue
            path = Path(file).resolve()
            if path.is_relative_to(self.root) and not _installed(path):
                found[name] = path
        return found

    def traceback(self, exc: BaseException) -> str:
        """`exc`'s traceback from the first frame in the app's own files (not phloem's loader,
        not runpy): what the author can act on."""
        shown = traceback.TracebackException.from_exception(exc)
        frames = list(shown.stack)
        first = next(
            (i for i, f in enumerate(frames) if Path(f.filename).is_relative_to(self.root)),
            len(frames),
        )
        shown.stack = traceback.StackSummary.from_list(frames[first:])
        return "".join(shown.format())

    def files(self) -> set[Path]:
        """What to watch: the script and the local modules it imported."""
        return {self.script, *self._local.values()}

    def served_app(self) -> ph.App:
        """The stand-in: a page at every path, which renders the current code's page there (or
        says there is none, until a save adds it), with the current code's page options."""
        current = self.app
        served = ph.App(current.name if current is not None else self.script.stem)
        served.pages = _EveryPath(self._page)
        if current is not None:
            served.options = dict(current.options)
        return served

    def _page(self, path: str) -> Callable[[ph.UI], ph.Element]:
        def page(ui: ph.UI) -> ph.Element:
            if self.failure is not None:
                return error_page(f"{self.script.name} could not be loaded", self.failure)
            fn = self.app.pages.get(path) if self.app is not None else None
            if fn is None:
                return not_found_page(path)(ui)
            try:
                tree = fn(ui)
                if not isinstance(tree, ph.Element):
                    raise TypeError(
                        f"a page must return a component such as ph.Column(...), not {tree!r}"
                    )
                return tree
            except Exception as exc:
                log.exception("the page at %s raised", path)
                return error_page(f"The page at {path} raised", self.traceback(exc))

        return page


class _EveryPath(dict[str, Callable[[ph.UI], ph.Element]]):
    """Pages by path, for any path (the Hub looks a session's page up with ``get``): a session
    opened while the script was broken, or on a path its code does not have yet, gets the page
    its path has after the next good save. Nothing is stored per path, so paths that clients
    make up cost no memory."""

    def __init__(self, make: Callable[[str], Callable[[ph.UI], ph.Element]]) -> None:
        super().__init__()
        self._make = make

    def get(self, path: str, default: object = None) -> Callable[[ph.UI], ph.Element]:
        return self._make(path)

    def __getitem__(self, path: str) -> Callable[[ph.UI], ph.Element]:
        return self._make(path)


def error_page(title: str, details: str) -> ph.Element:
    return ph.Column(
        ph.Text(title, id=f"{ERROR_ID}-title", variant="heading"),
        ph.Text(details, id=ERROR_ID, variant="code"),
        ph.Text("Save the file to try again.", id=f"{ERROR_ID}-hint", variant="caption"),
    )


def start(dev: DevApp, served: registry.Served, key: str = registry.DEFAULT) -> threading.Event:
    """Watch `dev`'s files from a daemon thread; set the returned event to stop."""
    stop = threading.Event()
    threading.Thread(
        target=_watch, args=(dev, served, key, stop), name="phloem-reload", daemon=True
    ).start()
    return stop


def _watch(dev: DevApp, served: registry.Served, key: str, stop: threading.Event) -> None:
    while not stop.is_set():
        files = dev.files()
        names = {str(f) for f in files}
        dirs = sorted({str(f.parent) for f in files})
        for _ in watchfiles.watch(
            *dirs,
            watch_filter=_only(names),
            recursive=False,
            step=QUIET_MS,
            stop_event=stop,
        ):
            reload(dev, served, key)
            if dev.files() != files:
                break  # it imports other local modules now: watch their directories too


def _only(names: set[str]) -> Callable[[watchfiles.Change, str], bool]:
    return lambda _change, path: path in names


def reload(dev: DevApp, served: registry.Served, key: str = registry.DEFAULT) -> Future[int] | None:
    """Load the script again and re-render every session (from any thread but the loop's)."""
    if dev.load():
        log.info("reloaded %s", dev.script.name)
    else:
        log.error("%s could not be loaded:\n%s", dev.script.name, dev.failure)
    loop = served.loop
    if loop is None:  # nothing connected yet, so no session to re-render
        served.app = served.hub.app = dev.served_app()
        return None
    done = asyncio.run_coroutine_threadsafe(_apply(dev, served, key), loop)
    done.add_done_callback(_log_failure)
    return done


def _log_failure(done: Future[int]) -> None:
    if not done.cancelled() and done.exception() is not None:
        log.error("reloaded code could not be served", exc_info=done.exception())


async def _apply(dev: DevApp, served: registry.Served, key: str) -> int:
    """On the serving loop: serve the new code and re-render every session with it."""
    served.app = served.hub.app = dev.served_app()
    count = 0
    for session in list(served.hub.sessions.values()):
        try:
            await updates.apush(session.id, _nothing, key)
            count += 1
        except Exception:  # expired meanwhile, or the tree outgrew its limit
            log.warning("session %s was not re-rendered", session.id, exc_info=True)
    return count
