"""Coded errors are logged from the runtime's on_error hook: client faults at INFO, throttled
per code per session; server faults at ERROR, every one."""

import logging
import re

import pytest
from phloem_server.errors import ErrorLog
from session import Session, find

LOGGER = "phloem_server.protocol"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def error(code: str, message: str = "m") -> dict:
    return {"type": "error", "seq": 3, "code": code, "message": message}


def test_client_faults_log_one_info_line_per_code_per_session_per_second(caplog):
    clock = Clock()
    hook = ErrorLog(interval=1.0, clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(500):
            hook("s1", error("rate_limited", "too fast"))
            clock.now += 0.001
        hook("s1", error("unknown_node"))  # another code: its own throttle
        hook("s2", error("rate_limited"))  # another session: its own throttle
        clock.now += 1.0
        hook("s1", error("rate_limited", "too fast"))
    assert lines(caplog) == [
        (logging.INFO, "session s1: sent rate_limited: too fast"),
        (logging.INFO, "session s1: sent unknown_node: m"),
        (logging.INFO, "session s2: sent rate_limited: m"),
        (logging.INFO, "session s1: sent rate_limited: too fast (499 more suppressed)"),
    ]


def test_forget_reports_what_is_still_suppressed_and_drops_the_session(caplog):
    clock = Clock()
    hook = ErrorLog(clock=clock)
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for _ in range(5):
            hook("s1", error("malformed_frame"))
        hook.forget("s1")
        hook.forget("s1")  # nothing left
        hook("s1", error("malformed_frame"))  # a fresh start, logged at once
    assert lines(caplog) == [
        (logging.INFO, "session s1: sent malformed_frame: m"),
        (logging.INFO, "session s1: 4 more malformed_frame suppressed"),
        (logging.INFO, "session s1: sent malformed_frame: m"),
    ]


def test_server_faults_are_errors_and_never_throttled(caplog):
    hook = ErrorLog(clock=Clock())
    with caplog.at_level(logging.INFO, logger=LOGGER):
        for code in ("handler_error", "handler_error", "internal_error"):
            hook("s1", error(code))
        hook(None, error("internal_error"))
    assert lines(caplog) == [
        (logging.ERROR, "session s1: sent handler_error: m"),
        (logging.ERROR, "session s1: sent handler_error: m"),
        (logging.ERROR, "session s1: sent internal_error: m"),
        (logging.ERROR, "session -: sent internal_error: m"),
    ]


@pytest.mark.usefixtures("served")
async def test_a_rate_limited_flood_over_the_consumer_logs_a_line_or_two(caplog):
    session, _, snapshot = await Session.open()
    button = find(snapshot["root"], "Button")["id"]
    with caplog.at_level(logging.INFO, logger=LOGGER):
        answers = [await session.click(button) for _ in range(160)]
        await session.close()  # the consumer's disconnect sums up what was suppressed
    limited = [a for a in answers if a["type"] == "error"]
    assert limited and {a["code"] for a in limited} == {"rate_limited"}
    logged = [text for level, text in lines(caplog) if level == logging.INFO]
    # The flood takes well under a second, but a slow machine may cross one boundary.
    assert 1 <= len([t for t in logged if "sent rate_limited" in t]) <= 3
    counted = sum(
        ("sent rate_limited" in t) + (int(m[1]) if (m := re.search(r"(\d+) more", t)) else 0)
        for t in logged
        if "rate_limited" in t
    )
    assert counted == len(limited)  # every refusal is accounted for, in a few lines
