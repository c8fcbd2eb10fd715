"""Coded protocol errors.

Like h11, an error says whose fault it is: :class:`RemoteProtocolError` means the peer broke the
protocol (the runtime answers it with an ``error`` message and usually carries on);
:class:`ServerFault` means this server or the app it runs failed (answered with an ``error``
message too, logged as a bug here); :class:`LocalProtocolError` means this side was misused (a
bug in the caller, never sent). Each carries one of the closed list of wire error codes
(PHL-ERR-001), whose table (fault, survives, close code) is generated from the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from phloem.protocol import _catalog
from phloem.protocol._catalog import ErrorCode as ErrorCode

ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """One row of the spec's error table (``x-phloem`` of ``error-code.schema.json``)."""

    fault: Literal["client", "server"]
    survives: bool
    close: int | None  # WebSocket close code after the error, when the session does not survive
    reconnect: bool | None  # after a fatal error: does the client connect again by itself?


ERROR_TABLE: dict[ErrorCode, ErrorInfo] = {
    code: ErrorInfo(*row) for code, row in _catalog.ERRORS.items()
}
SERVER_FAULTS: frozenset[str] = frozenset(c for c, i in ERROR_TABLE.items() if i.fault == "server")


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

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        if ERROR_TABLE[code].fault != "client":
            raise ValueError(f"{code} is the server's fault: raise ServerFault")
        super().__init__(code, message, **extra)


class ServerFault(ProtocolError):
    """This server, or the application it runs, failed while handling the peer's message
    (``handler_error``, ``tree_too_large``, ``internal_error``: fault ``server`` in the error
    table); the peer is answered with an ``error`` message and did nothing wrong."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        if ERROR_TABLE[code].fault != "server":
            raise ValueError(f"{code} is the client's fault, not the server's")
        super().__init__(code, message, **extra)


class LocalProtocolError(ProtocolError):
    """This side misused the protocol objects (a bug in the caller); never sent to the peer."""


class PatchConflict(RemoteProtocolError):
    """A patch does not apply to the tree it names as base; the receiver asks for a resync
    (PHL-PATCH-008)."""

    def __init__(self, message: str) -> None:
        super().__init__("invalid_message", message)
