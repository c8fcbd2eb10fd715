"""Per-session state, reached from a page function through ``ui.state(name, default)``."""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class State(Generic[T]):
    """A handle on one named value of the session's state. ``value`` reads it now (so a handler
    that runs later sees the latest value); ``set`` changes it and the page re-renders."""

    __slots__ = ("_name", "_store")

    def __init__(self, store: dict[str, Any], name: str) -> None:
        self._store = store
        self._name = name

    @property
    def value(self) -> T:
        return cast(T, self._store[self._name])

    def set(self, value: T) -> None:
        self._store[self._name] = value

    def __repr__(self) -> str:
        return f"State({self._name!r}, {self._store[self._name]!r})"


class UI:
    """What a page function receives: access to this session's state, its page path and the
    name of its authenticated user (``None`` when anonymous). ``jobs`` is the session's view
    of its owner's jobs (``phloem.jobs``), reached through ``@app.job`` functions."""

    __slots__ = ("_store", "jobs", "path", "user")

    def __init__(
        self, store: dict[str, Any], path: str, user: str | None = None, jobs: Any = None
    ) -> None:
        self._store = store
        self.path = path
        self.user = user
        self.jobs = jobs

    def state(self, name: str, default: T) -> State[T]:
        self._store.setdefault(name, default)
        return State(self._store, name)
