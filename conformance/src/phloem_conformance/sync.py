"""Steps that end at a round trip: ``barrier`` (a ping whose pong says everything before it
has been handled) and ``burst`` (many events at once, then a ping to collect their answers)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .matching import CaseError, concretize, match

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
