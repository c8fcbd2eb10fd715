"""Per-session state, reached from a page function through ``ui.state(name, default)``.

A handler that fails leaves nothing behind (PHL-EVT-010), in-place changes included: while a
handler (or a pushed function) runs, the session's :class:`Journal` keeps a snapshot of each
value the first time it is reached through ``ui.state`` or a :class:`State` handle, and a
rollback puts the snapshots back. Values that nothing reaches are never copied, so a 100 MB
DataFrame that a click does not touch costs that click nothing. The page function's own reads
are not journalled: it renders state, and a render that fails rolls back only what the handler
before it reached.

How each kind is protected (the tutorial's "When a handler fails" lists the same):

- immutable values (numbers, strings, bytes, tuples and frozensets of them, None…): nothing to
  copy; ``set`` is undone by putting the old value back;
- ``list``, ``dict``, ``set``, ``bytearray``: a deep copy, restored into the same object;
- numpy arrays: a copy, written back into the same array when its shape and dtype still fit;
- pandas DataFrames and Series: a shallow copy, which pandas' copy-on-write (pandas 3) keeps
  unchanged when the original is modified in place; the copy replaces the changed object;
- anything else (instances of your own classes, open files, models…): only ``set`` is undone;
  storing one warns with :class:`UnprotectedStateWarning`.
"""

from __future__ import annotations

import copy
import sys
import warnings
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

T = TypeVar("T")

_IMMUTABLE = (
    type(None), bool, int, float, complex, str, bytes, Decimal, Fraction, date, datetime,
    time, timedelta, UUID, range,
)  # fmt: skip
_CONTAINERS = (list, dict, set, frozenset, tuple, bytearray)
_PROTECTED = _IMMUTABLE + _CONTAINERS
# The exact types of the usual values (a count, a label, a flag): one set lookup, no isinstance
# walk, on every set() and every value a handler reaches.
_PLAIN_TYPES = frozenset({type(None), bool, int, float, str})


class UnprotectedStateWarning(UserWarning):
    """A value stored in ``ui.state`` whose in-place changes a failing handler cannot undo."""


def _pandas_kind(value: object) -> bool:
    pd = sys.modules.get("pandas")  # not imported here: apps without pandas never pay for it
    return pd is not None and isinstance(value, (pd.DataFrame, pd.Series))


def _numpy_kind(value: object) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(value, (np.ndarray, np.generic))


def protected(value: object) -> bool:
    """Whether a failing handler's in-place changes to ``value`` are rolled back."""
    if type(value) in _PLAIN_TYPES:
        return True
    return isinstance(value, _PROTECTED) or _numpy_kind(value) or _pandas_kind(value)


def _warn_unprotected(name: str, value: object) -> None:
    if not protected(value):
        warnings.warn(
            f"ui.state({name!r}) holds a {type(value).__qualname__}: a handler that changes it "
            "in place and then fails keeps the change (only set() is undone, PHL-EVT-010). "
            "Store lists, dicts, sets, numpy arrays, DataFrames or immutable values, or replace "
            "the object with set() instead of changing it",
            UnprotectedStateWarning,
            stacklevel=3,
        )


def _snapshot(value: object) -> object:
    if type(value) in _PLAIN_TYPES or isinstance(value, _IMMUTABLE):
        return value
    if _pandas_kind(value):
        pd = sys.modules["pandas"]
        deep = int(pd.__version__.split(".")[0]) < 3  # before pandas 3, copy-on-write is opt-in
        return value.copy(deep=deep)  # type: ignore[attr-defined]
    if _numpy_kind(value):
        return value.copy()  # type: ignore[attr-defined]
    if isinstance(value, _CONTAINERS):
        try:
            return copy.deepcopy(value)
        except Exception:  # an element that cannot be copied (a lock, a generator…)
            return value
    return value  # unprotected: warned about when stored


def _restore_into(current: object, snap: object) -> object:
    """Put ``snap`` back, into ``current`` itself where its kind allows, so references the app
    holds to the object see the rollback too; returns the object the store keeps."""
    if current is snap:
        return current
    if isinstance(current, list) and type(snap) is list:
        current[:] = snap
        return current
    if isinstance(current, (dict, set)) and type(snap) is type(current):
        current.clear()
        current.update(snap)
        return current
    if isinstance(current, bytearray) and type(snap) is bytearray:
        current[:] = snap
        return current
    np = sys.modules.get("numpy")
    if (
        np is not None
        and isinstance(current, np.ndarray)
        and isinstance(snap, np.ndarray)
        and current.shape == snap.shape
        and current.dtype == snap.dtype
        and current.flags.writeable
    ):
        np.copyto(current, snap)
        return current
    return snap


class Journal:
    """A session's state and, while a handler runs, what is needed to undo it.

    :meth:`begin` starts recording, :meth:`pause` stops it (the page function renders next),
    :meth:`rollback` undoes everything since :meth:`begin`, :meth:`commit` keeps it."""

    __slots__ = ("_keys", "_saved", "recording", "store")

    def __init__(self) -> None:
        self.store: dict[str, Any] = {}
        self.recording = False
        self._keys: dict[str, Any] | None = None  # the store as it was, shallowly
        self._saved: dict[str, tuple[object, object]] = {}  # name -> (object, its snapshot)

    def begin(self) -> None:
        self._keys = dict(self.store)
        self._saved = {}
        self.recording = True

    def pause(self) -> None:
        self.recording = False

    def reached(self, name: str) -> None:
        """The running handler reaches ``name``: snapshot it, once per run."""
        if name not in self._saved and name in self.store:
            value = self.store[name]
            self._saved[name] = (value, _snapshot(value))

    def replaced(self, name: str) -> None:
        """The running handler sets ``name``: the old object stays as it is, so it is its own
        snapshot unless it was reached (and possibly changed) before."""
        if name not in self._saved and name in self.store:
            value = self.store[name]
            self._saved[name] = (value, value)

    def rollback(self) -> None:
        keys, saved = self._keys, self._saved
        self.recording, self._keys, self._saved = False, None, {}
        if keys is None:
            return
        self.store.clear()
        self.store.update(keys)
        for name, (original, snap) in saved.items():
            self.store[name] = _restore_into(original, snap)

    def commit(self) -> None:
        self.recording, self._keys, self._saved = False, None, {}


class State(Generic[T]):
    """A handle on one named value of the session's state. ``value`` reads it now (so a handler
    that runs later sees the latest value); ``set`` changes it and the page re-renders."""

    __slots__ = ("_journal", "_name")

    def __init__(self, journal: Journal, name: str) -> None:
        self._journal = journal
        self._name = name

    @property
    def value(self) -> T:
        journal = self._journal
        if journal.recording:
            journal.reached(self._name)
        return cast(T, journal.store[self._name])

    def set(self, value: T) -> None:
        journal = self._journal
        if journal.recording:
            journal.replaced(self._name)
        if journal.store.get(self._name) is not value:
            _warn_unprotected(self._name, value)
        journal.store[self._name] = value

    def __repr__(self) -> str:
        return f"State({self._name!r}, {self._journal.store[self._name]!r})"


class UI:
    """What a page function receives: access to this session's state, its page path, the
    name of its authenticated user (``None`` when anonymous) and the session's id, which a
    handler hands to work that outlives it (a thread, a job) so that it can update this
    session later (``phloem_server.push(ui.session, fn)``). ``jobs`` is the session's view
    of its owner's jobs (``phloem.jobs``), reached through ``@app.job`` functions."""

    __slots__ = ("_journal", "jobs", "path", "session", "user")

    def __init__(
        self,
        journal: Journal,
        path: str,
        user: str | None = None,
        session: str = "",
        jobs: Any = None,
    ) -> None:
        self._journal = journal
        self.path = path
        self.user = user
        self.session = session
        self.jobs = jobs

    def state(self, name: str, default: T) -> State[T]:
        journal = self._journal
        if name not in journal.store:
            _warn_unprotected(name, default)
            journal.store[name] = default
        elif journal.recording:
            journal.reached(name)
        return State(journal, name)
