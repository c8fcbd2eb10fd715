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
from .harnesses import HARNESSES
from .matching import CaseError
from .schemas import ProtocolSchemas
from .session import ControlUnsupported, Divergence, Session

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
        protocol: str = PROTOCOL_VERSION,
    ) -> None:
        self.target = target
        self.protocol = protocol  # the version the implementation claims: later cases are N/A
        self.adapter_command = adapter_command
        self.schemas = schemas
        self.step_timeout = STEP_TIMEOUT * timeout_factor
        self.adapter_timeout = ADAPTER_TIMEOUT * timeout_factor
        self.timeout_factor = timeout_factor
        self.verbose = verbose
        self.adapter: Adapter | None = None
        self.session: Session | None = None  # the case being run, for its transcript
        self.implementation: dict[str, Any] = {}
        self.supports: frozenset[str] = frozenset()  # optional commands the adapter declared
        if target not in HARNESSES:
            raise ValueError(f"no harness for target {target!r} (one of {sorted(HARNESSES)})")

    async def start(self) -> None:
        self.adapter = Adapter(
            self.adapter_command, verbose=self.verbose, timeout_factor=self.timeout_factor
        )
        hello = await self.adapter.start()
        problem = _hello_problem(hello, self.target)
        if problem is not None:
            await self.adapter.stop()
            raise AdapterError(problem)
        self.implementation = hello
        self.supports = frozenset(hello.get("supports", ()))

    async def stop(self) -> None:
        if self.adapter is not None:
            await self.adapter.stop()

    async def run(self, cases: list[Case]) -> list[CaseResult]:
        results = []
        for case in cases:
            results.append(await self.run_case(case))
        return results

    async def run_case(self, case: Case) -> CaseResult:
        why_not = applicability(case, self.target, self.protocol)
        if why_not is not None:
            return CaseResult(case, "N/A", why_not)
        needed = [f for f in [case.data.get("fixture"), *case.data.get("fixtures", [])] if f]
        missing = [f for f in needed if f not in self.implementation.get("fixtures", [])]
        if HARNESSES[self.target].needs_fixtures and missing:
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
        return await HARNESSES[self.target](self).run(case)


def _hello_problem(hello: dict[str, Any], target: str) -> str | None:
    """What is wrong with an adapter's hello reply for ``target``, or None."""
    if hello.get("role") != target:
        return f"adapter role is {hello.get('role')!r}, not {target!r}"
    supports = hello.get("supports", [])
    if not isinstance(supports, list) or not all(isinstance(c, str) for c in supports):
        return f"adapter hello: supports is a list of command names, not {supports!r}"
    return None  # names this runner does not know (a newer adapter's) are ignored


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
