"""One harness per role: how the runner reaches an implementation of that role for one case.

A harness opens the case through the adapter, makes the session's first channel (the adapter
itself for a sans-IO SDK, a WebSocket to a server, a WebSocket server a renderer connects to),
and serves the steps that go through the adapter rather than the wire (``control``, ``user``,
``render``, ``audit``, further connections). A new role is one class with ``@harness(ROLE)``.

Optional adapter commands (``control``, ``connect``, ``login``, ``audit``) are asked for only
when the adapter's hello reply lists them in ``supports`` (as Bowtie's implementations declare
theirs); otherwise the case is N/A for that adapter, never a pass or a failure. A declared
command may still answer one request ``{"ok": false, "unsupported": true}`` (a clock that
cannot move that far): N/A as well. Any other ``ok: false`` is the adapter's error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from . import registry
from .adapter import Adapter, AdapterError
from .cases import Case
from .channels import SUBPROTOCOL, Channel, ClientSocketChannel, SdkChannel, ServerSocketChannel
from .divergence import ControlUnsupported, Divergence
from .link import MAIN
from .session import Session

if TYPE_CHECKING:
    from .runner import Runner

HARNESSES: dict[str, type[Harness]] = {}


def harness(role: str) -> Callable[[type[Harness]], type[Harness]]:
    def register(cls: type[Harness]) -> type[Harness]:
        cls.role = role
        HARNESSES[role] = cls
        return cls

    return register


class Harness:
    role: ClassVar[str]
    #: False when the adapter serves no fixtures (a renderer is given a URL, not an app).
    needs_fixtures: ClassVar[bool] = True

    def __init__(self, runner: Runner) -> None:
        self.runner = runner

    @property
    def adapter(self) -> Adapter:
        assert self.runner.adapter is not None
        return self.runner.adapter

    @property
    def timeout(self) -> float:
        return self.runner.adapter_timeout

    async def run(self, case: Case) -> Divergence | None:
        raise NotImplementedError

    def session(self, case: Case, channel: Channel, **kwargs: Any) -> Session:
        session = Session(
            case,
            self.role,
            channel,
            self.runner.schemas,
            self.runner.step_timeout,
            control=self.control,
            **kwargs,
        )
        self.runner.session = session
        return session

    def open_command(self, case: Case) -> dict[str, Any]:
        command: dict[str, Any] = {"cmd": "open", "case": case.id}
        command.update(registry.open_fields(case.data["steps"], self.role, case.data["roles"]))
        return command

    # ---- optional adapter commands ----------------------------------------------------------

    def require(self, command: str, what: str) -> None:
        if command not in self.runner.supports:
            declared = ", ".join(sorted(self.runner.supports)) or "nothing"
            raise ControlUnsupported(
                f"adapter cannot {what} ({command!r} not in its supports: {declared})"
            )

    async def optional(self, command: dict[str, Any], what: str) -> dict[str, Any] | None:
        """The reply to a declared optional command; None when it answers ``unsupported``."""
        self.require(command["cmd"], what)
        reply = await self.adapter.exchange(command, self.timeout)
        if reply.get("ok") is True:
            return reply
        if reply.get("unsupported") is True:
            return None
        raise AdapterError(f"adapter refused {command['cmd']!r}: {reply.get('error')}")

    async def control(self, operation: dict[str, Any]) -> bool:
        """``control`` steps: ``{advance: S}`` -> ``{"cmd":"control","op":"advance","seconds":S}``,
        ``{push: NAME}`` -> ``{"cmd":"control","op":"push","name":NAME}``; False when the adapter
        cannot (the case is N/A)."""
        ((op, value),) = operation.items()
        command = {"cmd": "control", "op": op, "seconds" if op == "advance" else "name": value}
        if op == "job":  # a fixture job's step (conformance/fixtures/jobs-long.md)
            command = {"cmd": "control", "op": "job", "job": value}
        if "control" not in self.runner.supports:
            return False
        reply = await self.optional(command, "control time")
        if reply is None:
            return False
        # A sans-IO SDK reports what its connections did while the clock moved (a silent
        # one closed with 4000, PHL-PING-005): delivered as if received meanwhile.
        session = self.runner.session
        main = session.links[MAIN].channel if session is not None else None
        if isinstance(main, SdkChannel):
            main.deliver_all(reply)
        return True


@harness("sdk")
class SdkHarness(Harness):
    """A sans-IO SDK: every frame goes through the adapter's ``send``."""

    async def run(self, case: Case) -> Divergence | None:
        command = self.open_command(case)
        command["fixture"] = case.data.get("fixture")
        await self.adapter.request(command, self.timeout)
        main = SdkChannel(self.adapter, self.timeout)

        async def open_connection(name: str, spec: dict[str, Any]) -> Channel:
            what = (
                f"open another connection as user {spec['user']!r}"
                if "user" in spec
                else ("open another connection")
            )
            command: dict[str, Any] = {"cmd": "connect", "connection": name}
            if "user" in spec:
                command["user"] = spec["user"]
            if await self.optional(command, what) is None:
                raise ControlUnsupported(f"adapter cannot {what}")
            return SdkChannel(main.adapter, self.timeout, name, main.peers)

        return await self.session(case, main, open_connection=open_connection).run()


@harness("server")
class ServerHarness(Harness):
    """A server: the adapter starts it and says where; the runner connects over WebSockets."""

    async def run(self, case: Case) -> Divergence | None:
        command = self.open_command(case)
        command["fixture"] = case.data.get("fixture")
        reply = await self.adapter.request(command, self.timeout)
        step_timeout = self.runner.step_timeout
        client = await ClientSocketChannel.open(reply["url"], reply.get("origin"), step_timeout)
        others: list[ClientSocketChannel] = []

        async def open_connection(name: str, spec: dict[str, Any]) -> Channel:
            headers = await self.login(spec["user"]) if "user" in spec else None
            origin = spec.get("origin", reply.get("origin"))
            channel = await ClientSocketChannel.open(reply["url"], origin, step_timeout, headers)
            others.append(channel)
            return channel

        session = self.session(
            case,
            client,
            hello_path=reply.get("path"),
            endpoint=(reply["url"], reply.get("origin")),
            open_connection=open_connection,
        )
        try:
            if client.subprotocol != SUBPROTOCOL:
                return Divergence(
                    -1,
                    "connect",
                    "",
                    SUBPROTOCOL,
                    client.subprotocol,
                    f"server did not select the {SUBPROTOCOL} subprotocol",
                )
            return await session.run()
        finally:
            for channel in [client, *others]:
                await channel.close()

    async def login(self, user: str) -> dict[str, str]:
        """``{"cmd":"login","user":KEY}`` -> the headers (a session cookie) that make an upgrade
        request one of that user."""
        what = f"open a connection as user {user!r}"
        reply = await self.optional({"cmd": "login", "user": user}, what)
        if reply is None:
            raise ControlUnsupported(f"adapter cannot {what}")
        return {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}


@harness("renderer")
class RendererHarness(Harness):
    """A renderer: the runner is the server it connects to; the adapter acts and snapshots."""

    needs_fixtures = False

    async def run(self, case: Case) -> Divergence | None:
        server = await ServerSocketChannel.start()
        step_timeout = self.runner.step_timeout
        try:
            command = self.open_command(case)
            command["url"] = server.url
            await self.adapter.request(command, self.timeout)
            session = self.session(
                case, server, act=self.act, snapshot=self.snapshot, audit=self.audit
            )
            if not await server.wait_connected(step_timeout):
                return Divergence(
                    -1,
                    "connect",
                    "",
                    "a WebSocket connection",
                    None,
                    f"renderer did not connect within {step_timeout:g} s",
                )
            if server.subprotocol != SUBPROTOCOL:
                return Divergence(
                    -1,
                    "connect",
                    "",
                    SUBPROTOCOL,
                    server.subprotocol,
                    f"renderer did not offer the {SUBPROTOCOL} subprotocol",
                )
            return await session.run()
        finally:
            await server.close()

    async def act(self, action: dict[str, Any]) -> None:
        await self.adapter.request({"cmd": "act", "action": action}, self.timeout)

    async def snapshot(self) -> Any:
        reply = await self.adapter.request({"cmd": "snapshot"}, self.timeout)
        return reply.get("tree")

    async def audit(self) -> dict[str, Any]:
        """What the page keeps and logs: URL, console, storage, cookies (PHL-SEC-006)."""
        reply = await self.optional({"cmd": "audit"}, "audit the page")
        if reply is None:
            raise ControlUnsupported("adapter cannot audit the page (audit unsupported)")
        return {k: v for k, v in reply.items() if k != "ok"}
