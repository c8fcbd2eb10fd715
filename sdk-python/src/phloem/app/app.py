"""An app: a name and its pages, each a function ``(ui) -> component tree``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, overload

from phloem.jobs.job import Job, JobFunction
from phloem.jobs.model import JobOptions
from phloem.protocol._wire_1_1 import JOB_NAME_MAX_LENGTH
from phloem.ui.components import Element
from phloem.ui.state import UI

Page = Callable[[UI], Element]

_PATH = re.compile(r"/[^\s]{0,2047}")  # hello.path: starts with "/" (PHL-HS-007)


@dataclass(frozen=True, slots=True)
class PageOptions:
    """How a page is served: ``auth`` requires an authenticated user (PHL-SEC-007);
    ``limits`` overrides fields of the server's :class:`~phloem.runtime.Limits` for its
    sessions."""

    auth: bool = False
    limits: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class App:
    def __init__(self, name: str) -> None:
        self.name = name
        self.pages: dict[str, Page] = {}
        self.options: dict[str, PageOptions] = {}  # by path; a page without options is absent
        self.jobs: dict[str, Job] = {}  # by name (the function's)

    def page(
        self, path: str = "/", *, auth: bool = False, limits: Mapping[str, Any] | None = None
    ) -> Callable[[Page], Page]:
        """Register the decorated function as the page at ``path``. ``auth=True``: only an
        authenticated user may open it. ``limits``: overrides of the server's limits for this
        page, e.g. ``{"replay_messages": 2}``."""
        if not _PATH.fullmatch(path):
            raise ValueError(f"page path {path!r} must start with '/'")
        from phloem.runtime.limits import Limits  # here: the runtime imports this module

        overrides = dict(limits or {})
        Limits().replace(overrides)  # fail here, at import, on an unknown field or bad value

        def register(fn: Page) -> Page:
            if path in self.pages:
                raise ValueError(f"app {self.name!r} already has a page at {path!r}")
            self.pages[path] = fn
            if auth or overrides:
                self.options[path] = PageOptions(auth, MappingProxyType(overrides))
            return fn

        return register

    @overload
    def job(self, fn: JobFunction, /) -> Job: ...
    @overload
    def job(
        self,
        fn: None = None,
        /,
        *,
        name: str | None = None,
        supersede: bool = False,
        retry: bool = False,
        grace: float = 10.0,
    ) -> Callable[[JobFunction], Job]: ...

    def job(
        self,
        fn: JobFunction | None = None,
        /,
        *,
        name: str | None = None,
        supersede: bool = False,
        retry: bool = False,
        grace: float = 10.0,
    ) -> Job | Callable[[JobFunction], Job]:
        """Register ``fn(params, progress)`` as a job (``@app.job`` or ``@app.job(...)``).
        ``supersede``: a new start cancels the owner's unfinished runs; ``retry``: safe to run
        again after a crash; ``grace``: seconds from cancel to the hard stop."""
        if grace <= 0:
            raise ValueError(f"job grace must be greater than 0 seconds, not {grace!r}")
        options = JobOptions(grace=grace, retry=retry, supersede=supersede)

        def register(fn: JobFunction) -> Job:
            key = name or fn.__name__
            if not 0 < len(key) <= JOB_NAME_MAX_LENGTH:
                raise ValueError(
                    f"a job name is 1 to {JOB_NAME_MAX_LENGTH} characters, not {len(key)}: {key[:40]!r}"
                )
            if key in self.jobs:
                raise ValueError(f"app {self.name!r} already has a job named {key!r}")
            job = self.jobs[key] = Job(fn, key, options)
            return job

        return register(fn) if fn is not None else register

    def page_options(self, path: str) -> PageOptions:
        return self.options.get(path) or _DEFAULT_OPTIONS

    def __repr__(self) -> str:
        return f"App({self.name!r}, pages={sorted(self.pages)})"


_DEFAULT_OPTIONS = PageOptions()
