"""A base for writing an adapter in Python: the stdio loop, the hello reply and error replies.

Subclass :class:`StdioAdapter`, set ``role`` and ``implementation``, and write one method per
command, ``cmd_<name>(self, command) -> dict``: the dict is the reply (``"ok": true`` is added).
The hello reply is built for you: role, implementation, ``fixtures()``, and ``supports``, the
optional commands (``control``, ``connect``, ``login``, ``audit``) the class has a method for.
``close`` and ``bye`` answer ok unless overridden.

    class Adapter(StdioAdapter):
        def __init__(self) -> None:
            self.role = "sdk"
            self.implementation = {"name": "my-sdk", "version": "1.2", "language": "python"}

        def fixtures(self) -> list[str]:
            return ["counter"]

        def cmd_open(self, command: dict[str, Any]) -> dict[str, Any]: ...
        def cmd_send(self, command: dict[str, Any]) -> dict[str, Any]: ...

    if __name__ == "__main__":
        sys.exit(Adapter().serve())

Raise :class:`Refused` for a request the adapter rejects (``ok: false`` with the message),
:class:`Unsupported` for one it cannot do this time (the case is N/A). Any other exception is
answered ``ok: false`` with its type and message, its traceback on stderr: every command gets
exactly one reply line, whatever happens.
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any, TextIO

from . import ADAPTER_PROTOCOL
from .adapter import OPTIONAL_COMMANDS


class Refused(Exception):
    """The adapter rejects this request: ``{"ok": false, "error": MESSAGE}``."""


class Unsupported(Exception):
    """The adapter cannot do this (a clock that cannot move that far): the case is N/A."""


class StdioAdapter:
    role: str
    implementation: dict[str, str]

    def fixtures(self) -> list[str]:
        return []

    def supports(self) -> list[str]:
        """The optional commands this adapter has a method for."""
        return sorted(c for c in OPTIONAL_COMMANDS if callable(getattr(self, f"cmd_{c}", None)))

    def cmd_hello(self, command: dict[str, Any]) -> dict[str, Any]:
        if command.get("adapter_protocol") != ADAPTER_PROTOCOL:
            raise Refused(f"this adapter speaks adapter_protocol {ADAPTER_PROTOCOL}")
        return {
            "role": self.role,
            "implementation": dict(self.implementation),
            "fixtures": self.fixtures(),
            "supports": self.supports(),
        }

    def cmd_close(self, command: dict[str, Any]) -> dict[str, Any]:
        return {}

    def cmd_bye(self, command: dict[str, Any]) -> dict[str, Any]:
        return {}

    def handle(self, line: str) -> tuple[str | None, dict[str, Any]]:
        """(command name, reply) for one line of input."""
        try:
            command = json.loads(line)
        except ValueError:
            return None, {"ok": False, "error": f"not JSON: {line[:200]!r}"}
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            return None, {"ok": False, "error": "a command is a JSON object with a string cmd"}
        name = command["cmd"]
        method = getattr(self, f"cmd_{name}", None)
        if not callable(method):
            return name, {"ok": False, "error": f"unknown command {name!r}"}
        try:
            reply = method(command)
        except Refused as exc:
            return name, {"ok": False, "error": str(exc)}
        except Unsupported as exc:
            return name, {"ok": False, "unsupported": True, "error": str(exc)}
        except Exception as exc:  # one reply per command, whatever happens
            traceback.print_exc(file=sys.stderr)
            return name, {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        return name, {"ok": True, **reply}

    def serve(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
        """One reply line per command line until ``bye`` or the end of input; exit status 0."""
        source, sink = stdin or sys.stdin, stdout or sys.stdout
        for line in source:
            if not line.strip():
                continue
            name, reply = self.handle(line)
            sink.write(json.dumps(reply, ensure_ascii=False) + "\n")
            sink.flush()
            if name == "bye" and reply["ok"]:
                break
        return 0
