"""Steps that end at a round trip: ``barrier`` (a ping whose pong says everything before it
has been handled) and ``burst`` (many events at once, then a ping to collect their answers)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import registry
from .matching import CaseError, concretize, match
from .registry import Doc

if TYPE_CHECKING:
    from .session import Session


async def send_barrier_ping(session: Session) -> str:
    session.barriers += 1
    token = f"barrier-{session.barriers}"
    ping: dict[str, Any] = {"type": "ping", "id": token}
    if session.plays_server:
        ping["seq"] = session.next_seq
        session.next_seq += 1
    await session.send(ping)
    return token


@registry.step(
    "barrier",
    body={"type": "object", "maxProperties": 0},
    docs=[
        Doc(
            "`barrier: {}`",
            "sends `ping {id}`; everything before the `pong` must have been matched",
            "same, the other way",
        )
    ],
)
async def barrier(session: Session, step: dict[str, Any]) -> None:
    # A repeat's look-ahead may have sent the ping already.
    token, session.present_barrier = (
        session.present_barrier or await send_barrier_ping(session),
        None,
    )
    while True:
        message = await session.receive("barrier", {"type": "pong", "id": token})
        if message.get("type") == "pong" and message.get("id") == token:
            return
        raise session.diverge(
            "barrier",
            "unexpected message before the barrier's pong",
            expected={"type": "pong", "id": token},
            actual=message,
        )


@registry.step(
    "burst",
    body={
        "type": "object",
        "required": ["event", "first_id", "count", "some"],
        "properties": {
            "event": {
                "$ref": "#/$defs/pattern",
                "description": "The event's fields besides type and id (node, name...).",
            },
            "first_id": {"type": "integer", "minimum": 0},
            "count": {
                "description": "An integer, or {of, times, plus?}: times × a (bound) number, rounded up, plus plus.",
                "oneOf": [
                    {"type": "integer", "minimum": 1, "maximum": 10000},
                    {
                        "type": "object",
                        "required": ["of", "times"],
                        "properties": {
                            "of": {},
                            "times": {"type": "number", "exclusiveMinimum": 0},
                            "plus": {"type": "integer", "minimum": 0},
                        },
                        "additionalProperties": False,
                    },
                ],
            },
            "some": {"$ref": "#/$defs/pattern"},
        },
        "additionalProperties": False,
    },
    roles=("server", "sdk"),
    description="Server/SDK role: count events sent back to back, ids from first_id on, then a ping. Every answer up to the pong must be valid; an answer naming an event names one of the burst, no event is answered twice, and at least one answer matches some.",
    docs=[
        Doc(
            "`burst: {event, first_id, count, some}`",
            "server, sdk: `count` events `{type: event, id, ...event}` back to back, ids from `first_id` on, then a ping; every answer up to its pong must be valid (seq, tree), no event is answered twice, an answer naming an event names one of the burst, and at least one answer matches `some`. `count` is an integer or `{of: VALUE, times: N, plus?: M}` (e.g. `{of: $ref:rate, times: 3}`: three times the announced rate)",
            "—",
        )
    ],
)
async def burst(session: Session, step: dict[str, Any]) -> None:
    spec = step["burst"]
    count = spec["count"]
    if isinstance(count, dict):
        base = concretize(count["of"], session.bindings)
        if not isinstance(base, (int, float)) or isinstance(base, bool):
            raise CaseError(f"step {session.step}: burst count of a non-number {base!r}")
        count = math.ceil(base * count["times"]) + int(count.get("plus", 0))
    fields = concretize(spec["event"], session.bindings)
    ids = [spec["first_id"] + i for i in range(count)]
    messages = [
        {
            "type": "event",
            "id": event_id,
            **{k: v for k, v in fields.items() if k not in ("type", "id")},
        }
        for event_id in ids
    ]
    # Validated before the first is sent, so the events leave back to back: a slow machine
    # must not spread the burst out in time (a live server's bucket refills meanwhile).
    for message in messages:
        errors = session.schemas.client_errors(message)
        if errors:
            raise CaseError(
                f"step {session.step}: burst event is not a valid client message: {errors[0]}"
            )
    for message in messages:
        await session.send(message)
    session.barriers += 1
    token = f"burst-{session.barriers}"
    await session.send({"type": "ping", "id": token})
    answered: set[Any] = set()
    found = False
    wanted = {"type": "pong", "id": token}
    while True:
        message = await session.receive("burst", wanted)
        if message.get("type") == "pong" and message.get("id") == token:
            break
        if "event" in message:
            if message["event"] not in ids:
                raise session.diverge(
                    "burst",
                    "an answer names an event the burst did not send",
                    pointer="/event",
                    expected=f"{ids[0]}..{ids[-1]}",
                    actual=message["event"],
                    received=message,
                )
            if message["event"] in answered:
                raise session.diverge(
                    "burst",
                    "an event of the burst is answered twice (PHL-EVT-004)",
                    pointer="/event",
                    actual=message["event"],
                    received=message,
                )
            answered.add(message["event"])
        if not found and match(spec["some"], message, session.bindings) is None:
            found = message.get("event", ids[0]) in ids
    if not found:
        raise session.diverge(
            "burst",
            f"none of the answers to {count} events matches",
            expected=spec["some"],
            actual=None,
        )
