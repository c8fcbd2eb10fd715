"""Compound steps: ``any_order``, ``interleave`` and ``repeat`` (design record, issue 3, §6).

Their items are ordinary steps. The items a role *expects* (``s2c`` when the runner plays the
client, ``c2s`` when it plays the server) are matched against what arrives; the other items
(stimuli, barriers, user actions...) run when their turn comes:

- ``any_order: [steps]``: the stimuli run first, in the listed order; then each message that
  arrives must match one of the expectations not yet matched (the first listed that matches);
- ``interleave: [[steps], [steps]]``: each list in order, the lists interleaved; a list whose
  next item is not an expectation runs it at once;
- ``repeat: {times: N | {min, max}, steps}``: the steps N times; with a range, after ``min``
  rounds another round starts while the next message matches the first step (which must then
  be an expectation), up to ``max``. To see that no further round comes, the runner looks at
  the next message: if the next step is a ``barrier`` its ping goes first, so a range never
  waits for a timeout; otherwise on a socket the look-ahead waits the step timeout.

Expectations inside a compound step are on the compound step's connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import registry
from .matching import Bindings, CaseError, Mismatch, match
from .registry import Doc, applies, step_kind
from .sync import send_barrier_ping

if TYPE_CHECKING:
    from .session import Session

Item = tuple[str, str, dict[str, Any]]  # (where inside the compound step, kind, step)


def items(session: Session, steps: list[dict[str, Any]], where: str) -> list[Item]:
    """The steps that apply to the session's role, on the compound step's connection."""
    out = []
    for index, step in enumerate(steps):
        if applies(step, session.role, session.case.data["roles"]):
            out.append((f"{where}/{index}", step_kind(step), {"on": session.link.name, **step}))
    return out


def expected_kind(session: Session) -> str:
    return "c2s" if session.plays_server else "s2c"


def is_expectation(session: Session, kind: str) -> bool:
    return kind == expected_kind(session)


def pattern_of(session: Session, step: dict[str, Any]) -> dict[str, Any]:
    """The message pattern, ``$effect`` left out (it judges the tree, not the message)."""
    pattern: dict[str, Any] = step[expected_kind(session)]
    if "$effect" in pattern:
        pattern = {k: v for k, v in pattern.items() if k != "$effect"}
        pattern.setdefault("type", "ui.patch")
    return pattern


def attempt(
    session: Session, step: dict[str, Any], message: dict[str, Any], bindings: Bindings
) -> Mismatch | None:
    """Does ``message`` satisfy the expectation ``step``? Commits to ``bindings`` when it does.
    A ``$effect`` expectation is met by the message after which the reduced tree matches."""
    if step.get("on", session.link.name) != session.link.name:
        raise CaseError(
            f"step {session.step}: expectations inside a compound step are on its connection"
        )
    full = step[expected_kind(session)]
    scratch = bindings.copy()
    mismatch = match(pattern_of(session, step), message, scratch)
    if mismatch is None and "$effect" in full and not session.plays_server:
        if message.get("type") not in ("ui.patch", "ui.snapshot") or session.tree.root is None:
            return Mismatch("/type", "ui.patch", message.get("type"), "expected a ui.patch")
        short = match(full["$effect"], session.tree.root, scratch)
        if short is not None:
            return Mismatch(
                short.pointer,
                short.expected,
                short.actual,
                f"the tree after it does not match: {short.reason}",
            )
    if mismatch is None:
        bindings.values = scratch.values
    return mismatch


def _closest(
    session: Session, waiting: list[Item], message: dict[str, Any]
) -> tuple[Item, Mismatch]:
    """The expectation to report: the first of the message's type, else the deepest mismatch."""
    tried = []
    for item in waiting:
        mismatch = attempt(session, item[2], message, session.bindings.copy())
        assert mismatch is not None
        tried.append((item, mismatch))
    same_type = [
        t for t in tried if pattern_of(session, t[0][2]).get("type") == message.get("type")
    ]
    return (same_type or sorted(tried, key=lambda t: -t[1].pointer.count("/")))[0]


async def _next_matching(session: Session, waiting: list[Item], name: str) -> Item:
    """Receive the next message and return the first waiting expectation it satisfies."""
    kind = expected_kind(session)
    message = await session.receive(kind, [pattern_of(session, step) for _, _, step in waiting])
    for item in waiting:
        if attempt(session, item[2], message, session.bindings) is None:
            return item
    (where, _, _), mismatch = _closest(session, waiting, message)
    session.within = where
    raise session.diverge(
        name,
        f"the message matches none of the {len(waiting)} expected here ({name}); "
        f"closest, {where}: {mismatch.reason}",
        pointer=mismatch.pointer,
        expected=mismatch.expected,
        actual=mismatch.actual,
        received=message,
    )


async def _any_order(session: Session, steps: list[dict[str, Any]]) -> None:
    prefix = session.within
    link = session.link
    waiting = []
    for where, kind, step in items(session, steps, prefix + "/any_order"):
        if is_expectation(session, kind):
            waiting.append((where, kind, step))
        else:
            session.within = where
            await session.run_step(kind, step)
            session.link = link
    while waiting:
        session.within = prefix + "/any_order"
        waiting.remove(await _next_matching(session, waiting, "any_order"))
    session.within = prefix


async def _interleave(session: Session, lists: list[list[dict[str, Any]]]) -> None:
    prefix = session.within
    queues = [items(session, steps, f"{prefix}/interleave/{i}") for i, steps in enumerate(lists)]
    link = session.link
    while True:
        for queue in queues:  # a list whose turn it is to act acts at once
            while queue and not is_expectation(session, queue[0][1]):
                where, kind, step = queue.pop(0)
                session.within = where
                await session.run_step(kind, step)
                session.link = link
        heads = [queue[0] for queue in queues if queue]
        if not heads:
            break
        session.within = prefix + "/interleave"
        done = await _next_matching(session, heads, "interleave")
        next(queue for queue in queues if queue and queue[0] is done).pop(0)
    session.within = prefix


async def _repeat(session: Session, spec: dict[str, Any]) -> None:
    prefix = session.within
    times = spec["times"]
    low, high = (
        (times, times) if isinstance(times, int) else (int(times.get("min", 0)), int(times["max"]))
    )
    top_level = prefix == ""
    for round_ in range(high):
        body = items(session, spec["steps"], prefix + "/repeat/steps")
        if not body:
            break
        if round_ >= low and not await _another_round(session, body[0], top_level):
            break
        for where, kind, step in body:
            session.within = f"{where} (round {round_ + 1})"
            await session.run_step(kind, step)
    session.within = prefix


async def _another_round(session: Session, first: Item, top_level: bool) -> bool:
    where, kind, step = first
    if not is_expectation(session, kind):
        raise CaseError(
            f"step {session.step}: a repeat with a range begins with an expectation ({where})"
        )
    if (
        top_level
        and session.channel.live
        and not session.link.pending
        and session.present_barrier is None
        and session.upcoming
        and session.upcoming[0][1] == "barrier"
    ):
        # The barrier's pong ends the look-ahead: no waiting for a timeout to see no more rounds.
        session.present_barrier = await send_barrier_ping(session)
    message = await session.peek(kind, [pattern_of(session, step)])
    return message is not None and attempt(session, step, message, session.bindings.copy()) is None


@registry.step(
    "any_order",
    body={"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
    description="The listed expectations in any order (stimuli among them run first, in order).",
    nested=lambda body: [body],
    docs=[
        Doc(
            "`any_order: [STEPS]`",
            "the expected messages in any order: each that arrives must match one not yet matched (the first listed that does); stimuli among the steps are sent first, in order",
            "same, the other way",
        )
    ],
)
async def any_order(session: Session, step: dict[str, Any]) -> None:
    await _any_order(session, step["any_order"])


@registry.step(
    "interleave",
    body={
        "type": "array",
        "minItems": 2,
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
    },
    description="Each list in order, the lists interleaved.",
    nested=lambda body: list(body),
    docs=[
        Doc(
            "`interleave: [[STEPS], [STEPS]]`",
            "each list in order, the lists interleaved; a list whose next step is not an expectation runs it at once",
            "same",
        )
    ],
)
async def interleave(session: Session, step: dict[str, Any]) -> None:
    await _interleave(session, step["interleave"])


@registry.step(
    "repeat",
    body={
        "type": "object",
        "required": ["times", "steps"],
        "additionalProperties": False,
        "properties": {
            "times": {
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                    {
                        "type": "object",
                        "required": ["max"],
                        "additionalProperties": False,
                        "properties": {
                            "min": {"type": "integer", "minimum": 0},
                            "max": {"type": "integer", "minimum": 1, "maximum": 10000},
                        },
                    },
                ]
            },
            "steps": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/step"}},
        },
    },
    description="The steps `times` times, or between min and max times (a range: further rounds while the next message matches the first step, an expectation).",
    nested=lambda body: [body["steps"]],
    docs=[
        Doc(
            "`repeat: {times: N \\| {min?, max}, steps}`",
            "the steps N times; with a range, after `min` rounds another round while the next message matches the first step (then an expectation), up to `max`. When the next step is a `barrier` its ping goes out before the runner looks, so the range ends without a timeout",
            "same",
        )
    ],
)
async def repeat(session: Session, step: dict[str, Any]) -> None:
    await _repeat(session, step["repeat"])
