"""Load an app from a script, the way ``phloem run app.py`` does."""

from __future__ import annotations

import runpy
from pathlib import Path

from phloem.app.app import App
from phloem.protocol.errors import PhloemError


class AppNotFound(PhloemError):
    """The script defines no ``phloem.App``, or more than one."""


def load_app(path: str | Path) -> App:
    """Run the script at ``path`` and return the one :class:`App` it defines."""
    script = Path(path)
    if not script.is_file():
        raise AppNotFound(f"no such file: {script}")
    namespace = runpy.run_path(str(script), run_name="__phloem_app__")
    apps = {id(v): (k, v) for k, v in namespace.items() if isinstance(v, App)}
    if not apps:
        raise AppNotFound(f"{script} defines no phloem App (e.g. app = ph.App('My app'))")
    if len(apps) > 1:
        names = ", ".join(sorted(k for k, _ in apps.values()))
        raise AppNotFound(f"{script} defines several phloem Apps ({names}); keep one per file")
    return next(iter(apps.values()))[1]
