"""Authoring API: components, events, state.

The core components without a hand-written helper in :mod:`phloem.ui.components` get a
generated one (:mod:`phloem.ui._helpers`, from the schemas), exported here all the same.
"""

from phloem.ui import _helpers
from phloem.ui._helpers import *  # noqa: F403  (the generated helpers, listed in its __all__)
from phloem.ui.components import (
    Button,
    Column,
    Component,
    Element,
    Event,
    Handler,
    Link,
    Text,
    TextInput,
)
from phloem.ui.render import DuplicateIdError, render
from phloem.ui.state import UI, State

__all__ = [
    "UI",
    "Button",
    "Column",
    "Component",
    "DuplicateIdError",
    "Element",
    "Event",
    "Handler",
    "Link",
    "State",
    "Text",
    "TextInput",
    "render",
    *_helpers.__all__,
]
