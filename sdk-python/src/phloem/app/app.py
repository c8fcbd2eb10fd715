"""An app: a name and its pages, each a function ``(ui) -> component tree``."""

from __future__ import annotations

import re
from collections.abc import Callable

from phloem.ui.components import Element
from phloem.ui.state import UI

Page = Callable[[UI], Element]

_PATH = re.compile(r"/[^\s]{0,2047}")  # hello.path: starts with "/" (PHL-HS-007)


class App:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pages: dict[str, Page] = {}

    def page(self, path: str = "/") -> Callable[[Page], Page]:
        """Register the decorated function as the page at ``path``."""
        if not _PATH.fullmatch(path):
            raise ValueError(f"page path {path!r} must start with '/'")

        def register(fn: Page) -> Page:
            if path in self.pages:
                raise ValueError(f"app {self.name!r} already has a page at {path!r}")
            self.pages[path] = fn
            return fn

        return register

    def __repr__(self) -> str:
        return f"App({self.name!r}, pages={sorted(self.pages)})"
