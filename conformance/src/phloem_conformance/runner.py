"""Runs cases against one implementation through its adapter; one result per case."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from . import PROTOCOL_VERSION
from .adapter import Adapter, AdapterError
from .cases import Case
from .channels import SUBPROTOCOL, Channel, ClientSocketChannel, SdkChannel, ServerSocketChannel
from .matching import CaseError
from .schemas import ProtocolSchemas
from .session import MAIN, ControlUnsupported, Divergence, Session

STEP_TIMEOUT = 5.0  # seconds per expectation; multiplied by --timeout-factor
ADAPTER_TIMEOUT = 30.0  # opening a fixture may start a browser or an app
# A divergence fails a MUST case; for SHOULD it is a warning, for MAY information (spec index,
# "Profiles"). Only MUST cases decide conformance and the exit status.
DIVERGED_STATUS = {"MUST": "FAIL", "SHOULD": "WARN", "MAY": "INFO"}


@dataclass
class CaseResult:
    case: Case
    status: str  # PASS | FAIL | WARN | INFO | ERROR | SKIP | N/A | XFAIL (see README, "Statuses")
    reason: str = ""
    divergence: dict[str, Any] | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    # Set by a baseline (baseline.py): its entry, the outcome (xfail | stale | retriage |
    # unexpected) and the status the case had before the baseline turned it into XFAIL.
    baseline: dict[str, Any] | None = None

    @property
    def level(self) -> str:
        return str(self.case.data["level"])

    @property
    def diverged(self) -> bool:
        """The IUT diverged: FAIL for a MUST case, WARN for SHOULD, INFO for MAY."""
        return self.status in ("FAIL", "WARN", "INFO")

    @property
    def must_not_passed(self) -> bool:
        """A MUST case that did not pass: the implementation is not conformant."""
        return self.level == "MUST" and self.status not in ("PASS", "N/A")

    @property
    def counts_against(self) -> bool:
        """A MUST case that did not pass and is not an expected failure (XFAIL) of the baseline
        makes the run fail."""
        return self.must_not_passed and self.status != "XFAIL"


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


def applicability(case: Case, role: str, version: str = PROTOCOL_VERSION) -> str | None:
    """Why the case does not apply (N/A), or None when it does."""
    if role not in case.data["roles"]:
        return f"case does not apply to role {role}"
    if _version_key(version) < _version_key(case.data["since"]):
        return f"case is for protocol {case.data['since']} and later"
    until = case.data.get("until")
    if until and _version_key(version) >= _version_key(until):
        return f"case applies to protocol versions before {until}"
    return None


class Runner:
    def __init__(
        self,
        target: str,
        adapter_command: str,
        schemas: ProtocolSchemas,
        *,
        timeout_factor: float = 1.0,
        verbose: bool = False,
    ) -> None:
        self.target = target
        self.adapter_command = adapter_command
        self.schemas = schemas
        self.step_timeout = STEP_TIMEOUT * timeout_factor
        self.adapter_timeout = ADAPTER_TIMEOUT * timeout_factor
        self.verbose = verbose
        self.adapter: Adapter | None = None
        self.session: Session | None = None  # the case being run, for its transcript
        self.implementation: dict[str, Any] = {}

    async def start(self) -> None:
        self.adapter = Adapter(self.adapter_command, verbose=self.verbose)
        hello = await self.adapter.start()
        if hello.get("role") != self.target:
            await self.adapter.stop()
            raise AdapterError(f"adapter role is {hello.get('role')!r}, not {self.target!r}")
        self.implementation = hello

    async def stop(self) -> None:
        if self.adapter is not None:
            await self.adapter.stop()

    async def run(self, cases: list[Case]) -> list[CaseResult]:
        results = []
        for case in cases:
            results.append(await self.run_case(case))
        return results

    async def run_case(self, case: Case) -> CaseResult:
        why_not = applicability(case, self.target)
        if why_not is not None:
            return CaseResult(case, "N/A", why_not)
        needed = [f for f in [case.data.get("fixture"), *case.data.get("fixtures", [])] if f]
        missing = [f for f in needed if f not in self.implementation.get("fixtures", [])]
        if self.target != "renderer" and missing:
            return CaseResult(case, "SKIP", f"adapter does not provide fixture {missing[0]!r}")
        started = time.monotonic()
        self.session = None
        try:
            divergence = await self._run_session(case)
            if divergence is None:
                result = CaseResult(case, "PASS")
            else:
                bindings = self.session.bindings if self.session else None
                status = DIVERGED_STATUS[str(case.data["level"])]
                result = CaseResult(case, status, divergence.reason, divergence.to_json(bindings))
        except ControlUnsupported as exc:
            # The adapter cannot drive the IUT this way (a real server's clock): the case does
            # not apply to this adapter. N/A, so it never counts for or against conformance.
            result = CaseResult(case, "N/A", str(exc))
        except CaseError as exc:
            result = CaseResult(case, "ERROR", f"case error (suite bug): {exc}")
        except AdapterError as exc:
            result = CaseResult(case, "ERROR", f"adapter: {exc}")
            await self._restart()
        except (OSError, TimeoutError) as exc:
            result = CaseResult(case, "ERROR", f"connection: {exc!r}")
        finally:
            if (
                self.adapter is not None
                and self.adapter.process
                and self.adapter.process.returncode is None
            ):
                try:
                    await self.adapter.request({"cmd": "close"}, self.adapter_timeout)
                except AdapterError:
                    await self._restart()
        if self.session is not None:
            result.transcript = self.session.transcript.entries
        result.duration_ms = round((time.monotonic() - started) * 1000, 1)
        return result

    async def _restart(self) -> None:
        if self.adapter is not None:
            await self.adapter.stop()
        with contextlib.suppress(AdapterError):  # later cases then report the adapter as down
            await self.start()

    async def _run_session(self, case: Case) -> Divergence | None:
        assert self.adapter is not None
        open_cmd: dict[str, Any] = {"cmd": "open", "case": case.id}
        if self.target == "sdk":
            open_cmd["fixture"] = case.data.get("fixture")
            await self.adapter.request(open_cmd, self.adapter_timeout)
            main = SdkChannel(self.adapter, self.adapter_timeout)

            async def open_sdk(name: str, spec: dict[str, Any]) -> Channel:
                channel = SdkChannel(main.adapter, self.adapter_timeout, name, main.peers)
                if not await channel.open(spec.get("user")):
                    what = f"as user {spec['user']!r}" if "user" in spec else "(no connect command)"
                    raise ControlUnsupported(f"adapter cannot open another connection {what}")
                return channel

            return await self._session(case, main, open_connection=open_sdk).run()
        if self.target == "server":
            open_cmd["fixture"] = case.data.get("fixture")
            reply = await self.adapter.request(open_cmd, self.adapter_timeout)
            client = await ClientSocketChannel.open(
                reply["url"], reply.get("origin"), self.step_timeout
            )
            others: list[ClientSocketChannel] = []

            async def open_socket(name: str, spec: dict[str, Any]) -> Channel:
                headers = await self._login(spec["user"]) if "user" in spec else None
                channel = await ClientSocketChannel.open(
                    reply["url"],
                    spec.get("origin", reply.get("origin")),
                    self.step_timeout,
                    headers,
                )
                others.append(channel)
                return channel

            session = self._session(
                case,
                client,
                hello_path=reply.get("path"),
                endpoint=(reply["url"], reply.get("origin")),
                open_connection=open_socket,
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
        server = await ServerSocketChannel.start()
        try:
            open_cmd["url"] = server.url
            if _has_control(case.data["steps"], "renderer"):
                open_cmd["clock"] = (
                    True  # the adapter installs a controllable clock before the page loads
                )
            await self.adapter.request(open_cmd, self.adapter_timeout)
            session = self._session(
                case, server, act=self._act, snapshot=self._snapshot, audit=self._audit
            )
            if not await server.wait_connected(self.step_timeout):
                return Divergence(
                    -1,
                    "connect",
                    "",
                    "a WebSocket connection",
                    None,
                    f"renderer did not connect within {self.step_timeout:g} s",
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

    def _session(self, case: Case, channel: Any, **kwargs: Any) -> Session:
        session = Session(
            case,
            self.target,
            channel,
            self.schemas,
            self.step_timeout,
            control=self._control,
            **kwargs,
        )
        self.session = session
        return session

    async def _control(self, operation: dict[str, Any]) -> bool:
        """``control`` steps: ``{advance: S}`` -> ``{"cmd":"control","op":"advance","seconds":S}``.
        False when the adapter does not support it: ``unsupported: true``, or the answer to an
        unknown command of an adapter older than ``control`` (``error: "unknown command ..."``)."""
        assert self.adapter is not None
        ((op, value),) = operation.items()
        command = {"cmd": "control", "op": op, "seconds": value}
        if op == "job":  # a fixture job's step (conformance/fixtures/jobs-long.md)
            command = {"cmd": "control", "op": "job", "job": value}
        reply = await self.adapter.exchange(command, self.adapter_timeout)
        if reply.get("ok") is True:
            # A sans-IO SDK reports what its connections did while the clock moved (a silent
            # one closed with 4000, PHL-PING-005): delivered as if received meanwhile.
            main = self.session.links[MAIN].channel if self.session is not None else None
            if isinstance(main, SdkChannel):
                main.deliver_all(reply)
            return True
        error = str(reply.get("error", ""))
        if reply.get("unsupported") is True or error.lower().startswith("unknown command"):
            return False
        raise AdapterError(f"adapter refused 'control' {op}: {error}")

    async def _act(self, action: dict[str, Any]) -> None:
        assert self.adapter is not None
        await self.adapter.request({"cmd": "act", "action": action}, self.adapter_timeout)

    async def _login(self, user: str) -> dict[str, str]:
        """Server adapters: ``{"cmd":"login","user":KEY}`` -> the headers (a session cookie) that
        make an upgrade request one of that user. Unsupported: the case is N/A."""
        assert self.adapter is not None
        reply = await self.adapter.exchange({"cmd": "login", "user": user}, self.adapter_timeout)
        if reply.get("ok") is not True:
            error = str(reply.get("error", ""))
            if reply.get("unsupported") is True or error.lower().startswith("unknown command"):
                raise ControlUnsupported(
                    f"adapter cannot open a connection as user {user!r} (no login command)"
                )
            raise AdapterError(f"adapter refused 'login': {error}")
        return {str(k): str(v) for k, v in (reply.get("headers") or {}).items()}

    async def _audit(self) -> dict[str, Any]:
        """The renderer adapter's ``audit``: page URL, console, storage, cookies (PHL-SEC-006)."""
        assert self.adapter is not None
        reply = await self.adapter.exchange({"cmd": "audit"}, self.adapter_timeout)
        if reply.get("ok") is not True:
            error = str(reply.get("error", ""))
            if reply.get("unsupported") is True or error.lower().startswith("unknown command"):
                raise ControlUnsupported("adapter cannot audit the page (no audit command)")
            raise AdapterError(f"adapter refused 'audit': {error}")
        return {k: v for k, v in reply.items() if k != "ok"}

    async def _snapshot(self) -> Any:
        assert self.adapter is not None
        reply = await self.adapter.request({"cmd": "snapshot"}, self.adapter_timeout)
        return reply.get("tree")


def _has_control(steps: list[dict[str, Any]], role: str) -> bool:
    """A control step (at any depth) that applies to ``role``."""
    for step in steps:
        if "control" in step and role in step.get("roles", ()):
            return True
        nested = (
            step.get("any_order")
            or step.get("interleave")
            or (step.get("repeat") or {}).get("steps")
        )
        if isinstance(nested, list) and nested and isinstance(nested[0], list):
            nested = [s for group in nested for s in group]
        if isinstance(nested, list) and _has_control(nested, role):
            return True
    return False


async def run_all(
    target: str, adapter_command: str, cases: list[Case], schemas: ProtocolSchemas, **options: Any
) -> tuple[dict[str, Any], list[CaseResult]]:
    runner = Runner(target, adapter_command, schemas, **options)
    await runner.start()
    try:
        results = await runner.run(cases)
    finally:
        await runner.stop()
    return runner.implementation, results


def run_sync(*args: Any, **kwargs: Any) -> tuple[dict[str, Any], list[CaseResult]]:
    return asyncio.run(run_all(*args, **kwargs))
