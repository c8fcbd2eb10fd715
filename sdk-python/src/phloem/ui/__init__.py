"""Authoring API: components, events, state."""

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
]
