"""Sans-IO wire core: message parsing and building, trees and patches, the connection state
machine and coded errors. No sockets, no clocks, no event loop."""

from phloem.protocol.errors import (
    ERROR_CODES,
    ERROR_TABLE,
    ErrorCode,
    LocalProtocolError,
    PatchConflict,
    PhloemError,
    ProtocolError,
    RemoteProtocolError,
)
from phloem.protocol.state import State, transition
from phloem.protocol.tree import Node, apply, diff
from phloem.protocol.version import SUPPORTED_VERSIONS, pick_version

__all__ = [
    "ERROR_CODES",
    "ERROR_TABLE",
    "SUPPORTED_VERSIONS",
    "ErrorCode",
    "LocalProtocolError",
    "Node",
    "PatchConflict",
    "PhloemError",
    "ProtocolError",
    "RemoteProtocolError",
    "State",
    "apply",
    "diff",
    "pick_version",
    "transition",
]
