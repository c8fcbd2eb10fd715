"""Coded protocol errors.

Like h11, an error says whose fault it is: :class:`RemoteProtocolError` means the peer broke the
protocol (the runtime answers it with an ``error`` message and usually carries on);
:class:`LocalProtocolError` means this side was misused (a bug in the caller, never sent).
Both carry one of the closed list of wire error codes (PHL-ERR-001).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

ErrorCode = Literal[
    "malformed_frame",
    "invalid_message",
    "unknown_message_type",
    "frame_too_large",
    "rate_limited",
    "handshake_required",
    "unexpected_message",
    "version_unsupported",
    "unknown_node",
    "stale_revision",
    "unknown_event",
    "handler_error",
    "internal_error",
    "tree_too_large",
    "unauthorized",
    "unknown_job",  # since 1.1 (PHL-JOB-051)
]

ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One row of the spec's error table."""

    fault: Literal["client", "server"]
    survives: bool
    close: int | None  # WebSocket close code after the error, when the session does not survive


ERROR_TABLE: dict[ErrorCode, ErrorInfo] = {
    "malformed_frame": ErrorInfo("client", True, None),
    "invalid_message": ErrorInfo("client", True, None),
    "unknown_message_type": ErrorInfo("client", True, None),
    "frame_too_large": ErrorInfo("client", True, None),
    "rate_limited": ErrorInfo("client", True, None),
    "handshake_required": ErrorInfo("client", True, None),
    "unexpected_message": ErrorInfo("client", True, None),
    "version_unsupported": ErrorInfo("client", False, 4406),
    "unknown_node": ErrorInfo("client", True, None),
    "stale_revision": ErrorInfo("client", True, None),
    "unknown_event": ErrorInfo("client", True, None),
    "handler_error": ErrorInfo("server", True, None),
    "internal_error": ErrorInfo("server", False, 1011),
    "tree_too_large": ErrorInfo("server", True, None),  # PHL-LIM-009: the app built it
    "unauthorized": ErrorInfo("client", False, 4401),  # PHL-SEC-007
    "unknown_job": ErrorInfo("client", True, None),  # PHL-JOB-051
}


class PhloemError(Exception):
    """Base of every exception phloem raises on purpose."""


class ProtocolError(PhloemError):
    """A protocol rule was broken. ``code`` is the wire error code; ``extra`` holds the
    additional ``error`` message fields (``limit``, ``supported``, ``event``)."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.extra = extra
        self.message_type: str | None = None  # the offending message's type, once known

    @property
    def info(self) -> ErrorInfo:
        return ERROR_TABLE[self.code]


class RemoteProtocolError(ProtocolError):
    """The peer sent something the protocol forbids; answer it with an ``error`` message."""


class LocalProtocolError(ProtocolError):
    """This side misused the protocol objects (a bug in the caller); never sent to the peer."""


class PatchConflict(RemoteProtocolError):
    """A patch does not apply to the tree it names as base; the receiver asks for a resync
    (PHL-PATCH-008)."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_message", message)
