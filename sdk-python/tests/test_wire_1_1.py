"""What protocol 1.1 adds, as the SDK knows it: the generated module (phloem.protocol._wire_1_1)
says what schemas/1.1 says, and the SDK's hand checks and builders agree with every example and
type of it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NotRequired, get_args, get_origin, get_type_hints

import jsonschema_rs
import orjson
import phloem as ph
import phloem.jobs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from jobs_support import assert_valid
from phloem.jobs.job import JobRecord
from phloem.jobs.model import KINDS, MAX_LINE, MAX_TEXT, JobError, JobOptions, Kind
from phloem.protocol import _wire_1_1 as wire
from phloem.protocol import inbound
from phloem.protocol.errors import ERROR_CODES, RemoteProtocolError
from phloem.runtime import Limits
from phloem.runtime.jobwire import job_log, job_progress, job_state

V11 = Path(__file__).resolve().parents[2] / "schemas" / "1.1"
# Every folder of client → server examples: what inbound.parse judges.
CLIENT_EXAMPLES = sorted(
    (path.parent.name, path)
    for folder in ("client-message", "job.cancel")
    for path in (V11 / "examples" / folder).glob("*.json")
)


def _schema(rel: str) -> dict[str, Any]:
    return dict(json.loads((V11 / rel).read_text(encoding="utf-8")))


def test_job_states_and_terminal_states_are_the_schemas() -> None:
    states = _schema("defs/job-state.schema.json")
    assert tuple(states["enum"]) == phloem.jobs.STATES
    assert frozenset(states["x-phloem"]["terminal"]) == phloem.jobs.TERMINAL
    assert "queued" not in phloem.jobs.TERMINAL and "running" not in phloem.jobs.TERMINAL


def test_update_kinds_are_running_progress_log_and_the_terminal_states() -> None:
    assert (
        frozenset(get_args(Kind)) == KINDS == {"running", "progress", "log"} | phloem.jobs.TERMINAL
    )


def test_text_bounds_the_reporter_cuts_to_are_the_schemas() -> None:
    progress = _schema("defs/job-progress.schema.json")["properties"]
    assert progress["stage"]["maxLength"] == progress["message"]["maxLength"] == MAX_TEXT
    assert (
        _schema("messages/job.log.schema.json")["properties"]["lines"]["items"]["maxLength"]
        == MAX_LINE
    )


def test_every_error_code_1_1_adds_is_one_the_runtime_raises_and_sends() -> None:
    assert wire.ADDED_ERROR_CODES == ("unknown_job",)
    assert set(wire.ADDED_ERROR_CODES) <= ERROR_CODES


def test_the_client_types_are_1_0_s_and_job_cancel() -> None:
    assert wire.ADDED_CLIENT_TYPES == ("job.cancel",)
    assert {"job.cancel"} == inbound.CLIENT_TYPES - inbound.CLIENT_TYPES_WITHOUT_JOBS


def test_reads_every_client_example() -> None:
    assert len(CLIENT_EXAMPLES) >= 5
    assert any(p.name.startswith("invalid-") for _, p in CLIENT_EXAMPLES)


@pytest.mark.parametrize(("folder", "path"), CLIENT_EXAMPLES, ids=lambda v: getattr(v, "name", v))
def test_the_hand_checks_agree_with_the_client_example(folder: str, path: Path) -> None:
    frame = path.read_text(encoding="utf-8")
    if path.name.startswith("valid-"):
        assert inbound.parse(frame) == json.loads(frame)
        return
    with pytest.raises(RemoteProtocolError) as refused:
        inbound.parse(frame)
    # A server-only type from a client is unknown (PHL-MSG-001), a bad field invalid.
    assert refused.value.code in ("invalid_message", "unknown_message_type")


def test_a_session_without_jobs_knows_no_job_cancel() -> None:
    frame = (V11 / "examples" / "job.cancel" / "valid-basic.json").read_text(encoding="utf-8")
    with pytest.raises(RemoteProtocolError) as refused:
        inbound.parse(frame, inbound.CLIENT_TYPES_WITHOUT_JOBS)
    assert refused.value.code == "unknown_message_type"  # PHL-JOB-002


@pytest.mark.parametrize("job_id", ["j1", "A_b-9", "x" * 64])
def test_a_job_id_the_schema_accepts_is_accepted(job_id: str) -> None:
    assert inbound.parse(json.dumps({"type": "job.cancel", "id": 1, "job": job_id}))


@pytest.mark.parametrize("job_id", ["", "a b", "x" * 65, "é", "j1\n"])
def test_a_job_id_the_schema_refuses_is_invalid(job_id: str) -> None:
    with pytest.raises(RemoteProtocolError, match="job id"):
        inbound.parse(json.dumps({"type": "job.cancel", "id": 1, "job": job_id}))


@cache
def _client_message() -> jsonschema_rs.Validator:
    """1.1's client-message schema, judged with ECMA-262 patterns as JSON Schema says (Python's
    ``re`` lets ``$`` match before a final newline; jsonschema_rs does not, nor does the SDK)."""
    by_id = {}
    for path in V11.parent.glob("1.[01]/*/*.schema.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        by_id[schema["$id"]] = schema
    root = by_id["https://phloem.dev/schemas/1.1/messages/client-message.schema.json"]
    return jsonschema_rs.validator_for(root, retriever=by_id.__getitem__)


_values = st.none() | st.booleans() | st.text(max_size=3) | st.lists(st.integers(0, 2), max_size=1)
_cancel_fields = {
    "id": st.integers(-1, 2**53 + 1) | st.sampled_from([1.0, 1.5, 2.0**53]) | _values,
    "job": st.sampled_from(["j1", "A-b_9", "", "a b", "x" * 64, "x" * 65, "j1\n", "é"]) | _values,
    "ack": st.integers(-1, 3) | st.sampled_from([2.0, 2.5]) | _values,
}


@st.composite
def _cancels(draw: st.DrawFn) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "job.cancel"}
    for name in draw(st.sets(st.sampled_from(sorted(_cancel_fields)))):
        msg[name] = draw(_cancel_fields[name])
    return msg


@given(_cancels())
def test_the_job_cancel_check_agrees_with_the_schema_on_any_fields(msg: dict[str, Any]) -> None:
    try:
        inbound.parse(orjson.dumps(msg).decode())
        accepted = True
    except RemoteProtocolError as exc:
        assert exc.code == "invalid_message"
        accepted = False
    assert accepted == _client_message().is_valid(msg), msg


def test_the_announced_job_limits_are_the_schemas() -> None:
    with_jobs = Limits().announce(jobs=True)
    assert_valid("defs/job-limits", with_jobs)
    assert set(wire.JOB_LIMITS) == set(_schema("defs/job-limits.schema.json")["properties"])
    assert set(wire.JOB_LIMITS) <= set(with_jobs)
    assert not set(wire.JOB_LIMITS) & set(Limits().announce(jobs=False))


def _record(**fields: Any) -> JobRecord:
    return JobRecord("j1", "fit", "owner", None, JobOptions(), **fields)


BUILT = {
    "queued": job_state(_record()),
    "full": job_state(
        _record(state="running", fraction=0.5, done=1, total=2, stage="k", message="m", eta=3.0),
        full=True,
    ),
    "failed": job_state(_record(state="failed", error=JobError("E: x", "E"), attempt=2)),
    # An error from anywhere (a worker that died, a row another process wrote) is cut to the
    # schema's bounds where the message is built.
    "failed-long": job_state(
        _record(state="failed", error=JobError("E: " + "x" * 5000, "E" * 300))
    ),
    "stopping": job_state(_record(state="running", cancel_requested=True)),
    "progress": job_progress(_record(fraction=0.25, stage="k = 3")),
    "log": job_log(_record(log_count=2), ["a", "b"], tail=True),
}
TYPED = {
    "job.state": wire.JobStateMessage,
    "job.progress": wire.JobProgressMessage,
    "job.log": wire.JobLog,
}


def _keys(typed: type) -> tuple[set[str], set[str]]:
    """(required, all) keys of a TypedDict; read from its hints, as the generated module
    postpones annotations (``__required_keys__`` cannot see ``NotRequired`` in a string)."""
    hints = get_type_hints(typed, include_extras=True)
    return {k for k, t in hints.items() if get_origin(t) is not NotRequired}, set(hints)


def test_the_generated_types_say_which_fields_are_required() -> None:
    required, every = _keys(wire.JobStateMessage)
    assert required == set(_schema("messages/job.state.schema.json")["required"])
    assert every == set(_schema("messages/job.state.schema.json")["properties"])
    required, every = _keys(wire.JobProgressMessage)  # with the fields of job-progress
    assert required == {"type", "seq", "job"} and {"fraction", "eta"} <= every


@pytest.mark.parametrize("name", BUILT)
def test_what_the_runtime_builds_is_the_generated_type(name: str) -> None:
    msg = {**BUILT[name], "seq": 1}  # the session numbers it
    required, every = _keys(TYPED[msg["type"]])
    assert required <= set(msg) <= every
    assert_valid("messages/server-message", msg)


def test_a_job_name_longer_than_the_schema_allows_is_refused_at_registration() -> None:
    app = ph.App("jobs")
    app.job(name="n" * wire.JOB_NAME_MAX_LENGTH)(lambda params, progress: None)
    with pytest.raises(ValueError, match="a job name is 1 to 128 characters"):
        app.job(name="n" * (wire.JOB_NAME_MAX_LENGTH + 1))(lambda params, progress: None)
