from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phloem.protocol import inbound
from phloem.protocol.errors import RemoteProtocolError
from sdk_support import ecma_validator


def code_of(frame: str | bytes, limit: int = 65536) -> str | None:
    try:
        inbound.check_size(frame, limit)
        inbound.parse(frame)
    except RemoteProtocolError as exc:
        return exc.code
    return None


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "malformed_frame"),
        ("", "malformed_frame"),
        ("[1, 2]", "malformed_frame"),
        ('"hello"', "malformed_frame"),
        (b'{"type": "ping"}', "malformed_frame"),
        ("{}", "invalid_message"),
        ('{"type": 3}', "invalid_message"),
        ('{"type": "hello"}', "invalid_message"),
        ('{"type": "hello", "versions": []}', "invalid_message"),
        ('{"type": "hello", "versions": ["1"]}', "invalid_message"),
        ('{"type": "hello", "versions": ["1.0"], "path": "x"}', "invalid_message"),
        ('{"type": "hello", "versions": ["1.0"], "resume": {"token": "t"}}', "invalid_message"),
        ('{"type": "event", "id": "1", "node": "a", "name": "click"}', "invalid_message"),
        ('{"type": "event", "id": true, "node": "a", "name": "click"}', "invalid_message"),
        ('{"type": "event", "id": -1, "node": "a", "name": "click"}', "invalid_message"),
        ('{"type": "event", "id": 1, "node": "a b", "name": "click"}', "invalid_message"),
        ('{"type": "event", "id": 1, "node": "a\\n", "name": "click"}', "invalid_message"),
        ('{"type": "event", "id": 1, "node": "a", "name": "Click"}', "invalid_message"),
        ('{"type": "event", "id": 1, "node": "a"}', "invalid_message"),
        ('{"type": "ack"}', "invalid_message"),
        ('{"type": "ping", "id": [1]}', "invalid_message"),
        ('{"type": "resync", "rev": "x"}', "invalid_message"),
        ('{"type": "error", "code": "nope", "message": "m"}', "invalid_message"),
        ('{"type": "welcome"}', "unknown_message_type"),
        ('{"type": "job.progress"}', "unknown_message_type"),
    ],
)
def test_each_bad_frame_gets_its_error_code(frame: str | bytes, code: str) -> None:
    assert code_of(frame) == code


def test_frame_size_is_measured_in_utf8_bytes_before_parsing() -> None:
    # 300 three-byte characters: 300 code points but 900 bytes, and not even JSON.
    assert code_of("€" * 300, limit=899) == "frame_too_large"
    assert code_of("€" * 300, limit=900) == "malformed_frame"


def test_frame_too_large_names_the_limit() -> None:
    with pytest.raises(RemoteProtocolError) as info:
        inbound.check_size("x" * 2000, 1024)
    assert info.value.extra == {"limit": 1024}


def test_unknown_fields_are_ignored() -> None:
    msg = inbound.parse('{"type": "event", "id": 1, "node": "a", "name": "click", "later": {}}')
    assert msg["later"] == {}
    assert inbound.parse('{"type": "hello", "versions": ["1.0"], "x": 1}')["x"] == 1


def test_a_lone_surrogate_is_a_malformed_frame() -> None:
    assert code_of('{"type":"ping","id":"\ud800"}' + " " * 20000, limit=20010) == "malformed_frame"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-2, 2**54)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=4,
)
fields = {
    "id": st.integers(-1, 2**53 + 1)
    | st.sampled_from([1.0, 1.5, -1.0, 2.0**53])
    | st.booleans()
    | st.text(max_size=2)
    | json_values,
    "node": st.sampled_from(["inc", "a.b:c/d-e_f", "", "a b", "x" * 129, "ok\n"]) | json_values,
    "name": st.sampled_from(["click", "on_change2", "Click", "1x", "a" * 65]) | json_values,
    "seq": st.integers(-1, 5) | json_values,
    "event": st.integers(-1, 5) | json_values,
    "rev": st.integers(-1, 5) | json_values,
    "ack": st.integers(-1, 5) | json_values,
    "value": json_values,
    "code": st.sampled_from(["rate_limited", "internal_error", "nope"]) | json_values,
    "message": st.text(max_size=3) | st.just("m" * 1025) | json_values,
    "fatal": st.booleans() | json_values,
    "limit": st.integers(-1, 5) | st.sampled_from([2.0, 2.5]) | json_values,
    "supported": st.lists(st.sampled_from(["1.0", "2.13", "01.0", "x"]), max_size=2) | json_values,
}


@st.composite
def hot_messages(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "type": draw(st.sampled_from(["event", "ack", "ping", "pong", "resync", "error"]))
    }
    for name in draw(st.sets(st.sampled_from(sorted(fields)))):
        msg[name] = draw(fields[name])
    return msg


@given(hot_messages())
def test_hand_checks_agree_with_the_client_message_schema(msg: dict[str, Any]) -> None:
    try:
        inbound.parse(orjson.dumps(msg).decode())
        accepted = True
    except RemoteProtocolError as exc:
        assert exc.code == "invalid_message"
        accepted = False
    assert accepted == ecma_validator("messages/client-message").is_valid(msg), msg
