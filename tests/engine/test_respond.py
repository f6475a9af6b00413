"""Operator inputs as inputs of a pure function: ``respond(state, input)`` over generated
states and inputs, without a process, a clock or a database (engine/respond.py)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.engine.commands import (
    CutShort,
    Pause,
    RecordEvent,
    Refuse,
    ReleaseHolds,
    RunItem,
    Say,
    StartPhase,
    StopCommands,
)
from phasegate.engine.decide import decide
from phasegate.engine.respond import ABORT_GRACE, APPROVABLE, respond
from phasegate.run.events import ApprovalGranted, ApprovalRejected, RunAbortRequested, RunPromoted
from phasegate.run.inputs import (
    Abort,
    Approve,
    MalformedRequest,
    OperatorInput,
    Promote,
    Reject,
    Rejection,
    Resume,
    from_request,
    to_request,
)
from phasegate.run.record import JsonDict
from phasegate.run.state import TERMINAL, Item, RunState, apply
from tests.engine.simulate import Simulation
from tests.engine.test_state_machine import make_plan

RUN_STATUSES = [
    "pending",
    "running",
    "paused",
    "interrupted",
    "waiting",
    "monitoring",
    "queued",
    "rolling_back",
    *TERMINAL,
]
ITEM_STATUSES = [
    "pending",
    "running",
    "awaiting_approval",
    "retrying",
    "succeeded",
    "passed",
    "failed",
    "skipped",
    "error",
    "unknown",
    "interrupted",
]
KEYS = ["a/step:0", "a/gate:ok", "b/gate:manual", "b/step:1"]
WHO = st.sampled_from(["ana", "bo", "operator"])


@st.composite
def states(draw: st.DrawFn) -> RunState:
    status = draw(st.sampled_from(RUN_STATUSES))
    mode = (
        "rollback" if status == "rolling_back" else draw(st.sampled_from(["forward", "rollback"]))
    )
    state = RunState(run_id="r", status=status, mode=mode, seq=3)
    for key in draw(st.lists(st.sampled_from(KEYS), unique=True)):
        kind = "gate" if "/gate:" in key else "step"
        state.items[key] = Item(
            key=key, kind=kind, phase=key[0], name=key, status=draw(st.sampled_from(ITEM_STATUSES))
        )
    if draw(st.booleans()):
        state.promoted = {"by": "ana", "at": 1.0}
    return state


rejections = st.builds(
    Rejection, key=st.sampled_from(KEYS), by=WHO, comment=st.none() | st.just("no-go")
)
inputs: st.SearchStrategy[OperatorInput] = st.one_of(
    st.builds(
        Approve,
        key=st.sampled_from(KEYS),
        by=WHO,
        required=st.integers(1, 3),
        request=st.none() | st.integers(1, 99),
    ),
    st.builds(Reject, decisions=st.lists(rejections, min_size=1, max_size=3).map(tuple)),
    st.builds(
        Abort,
        by=WHO,
        reason=st.none() | st.just("bad canary"),
        force=st.booleans(),
        grace=st.none() | st.floats(0, 60),
        request=st.none() | st.integers(1, 99),
    ),
    st.builds(Promote, by=WHO, full=st.booleans()),
    st.builds(Resume, by=WHO),
)
in_flight = st.lists(st.sampled_from(KEYS), unique=True)


@settings(max_examples=150, deadline=None)
@given(states(), inputs, in_flight)
def test_every_journalled_answer_applies_to_the_state_it_was_given_for(
    state: RunState, operator_input: OperatorInput, tasks: list[str]
) -> None:
    """The runner journals what respond says: it must never be an event the state machine
    refuses (that would stop the engine with an InvalidTransition)."""
    responses = respond(state, operator_input, tasks, tasks)
    folded = copy.deepcopy(state)
    for response in responses:
        if isinstance(response, RecordEvent):
            apply(folded, response.event, 10.0)  # raises InvalidTransition if it does not fit


@settings(max_examples=150, deadline=None)
@given(states(), inputs, in_flight)
def test_a_finished_run_refuses_every_input_and_nothing_changes(
    state: RunState, operator_input: OperatorInput, tasks: list[str]
) -> None:
    responses = respond(state, operator_input, tasks, tasks)
    if state.status in TERMINAL:
        assert len(responses) == 1 and isinstance(responses[0], Refuse)
        assert "finished" in responses[0].why
    if any(isinstance(r, Refuse) for r in responses) and not isinstance(operator_input, Reject):
        # one refusal says why; nothing else happens beside it (a reject refuses per item)
        assert len(responses) == 1


@settings(max_examples=150, deadline=None)
@given(
    states(),
    st.builds(Abort, by=WHO, force=st.booleans(), grace=st.none() | st.floats(0, 60)),
    in_flight,
)
def test_an_abort_journals_durably_then_stops_the_commands_and_never_starts_anything(
    state: RunState, abort: Abort, commands: list[str]
) -> None:
    responses = respond(state, abort, commands, commands)
    kinds = [type(r) for r in responses]
    assert set(kinds) <= {RecordEvent, StopCommands, Say, Refuse}
    applies = (
        not state.terminal
        and state.mode == "forward"
        and state.status in ("running", "paused", "interrupted", "pending", "waiting", "monitoring")
    )
    if not applies:
        assert kinds == [Refuse]
        return
    assert kinds == [RecordEvent, StopCommands, Say]  # the durable record comes first
    record, stop = responses[0], responses[1]
    assert isinstance(record, RecordEvent) and isinstance(stop, StopCommands)
    assert record.durable and isinstance(record.event, RunAbortRequested)
    assert record.event.ending == tuple(sorted(commands))
    expected = 0.0 if abort.force else abort.grace if abort.grace is not None else ABORT_GRACE
    assert stop.grace == record.event.grace == expected
    assert stop.reason == "abort"


@settings(max_examples=150, deadline=None)
@given(states(), st.builds(Approve, key=st.sampled_from(KEYS), by=WHO))
def test_an_approval_of_an_item_that_has_ended_is_refused(
    state: RunState, approve: Approve
) -> None:
    responses = respond(state, approve)
    item = state.items.get(approve.key)
    if state.terminal or (item is not None and item.status not in APPROVABLE):
        assert [type(r) for r in responses] == [Refuse]
        return
    (only,) = responses
    assert isinstance(only, RecordEvent) and isinstance(only.event, ApprovalGranted)
    assert (only.event.key, only.event.by) == (approve.key, approve.by)


@settings(max_examples=150, deadline=None)
@given(states(), st.lists(rejections, min_size=1, max_size=4).map(tuple), in_flight)
def test_a_reject_fails_each_waiting_item_durably_and_leaves_the_others(
    state: RunState, decisions: tuple[Rejection, ...], tasks: list[str]
) -> None:
    responses = respond(state, Reject(decisions), tasks)
    recorded = [r for r in responses if isinstance(r, RecordEvent)]
    assert all(r.durable and isinstance(r.event, ApprovalRejected) for r in recorded)
    keys = [r.event.key for r in recorded if isinstance(r.event, ApprovalRejected)]
    for key in keys:
        item = state.items.get(key)
        assert key not in tasks
        assert item is None or item.status in ("pending", "awaiting_approval")
    if state.mode != "forward" or state.status not in (
        "running",
        "paused",
        "interrupted",
        "waiting",
    ):
        assert not recorded


@settings(max_examples=100, deadline=None)
@given(states(), st.booleans())
def test_a_full_promote_is_journalled_once_and_cuts_the_holds_short(
    state: RunState, full: bool
) -> None:
    responses = respond(state, Promote(by="ana", full=full))
    kinds = [type(r) for r in responses]
    if state.terminal or state.mode != "forward" or state.status == "monitoring":
        assert kinds == [Refuse]
    elif not full:
        assert kinds == [ReleaseHolds]
    elif state.status not in ("running", "paused", "interrupted", "waiting"):
        assert kinds == [Refuse]
    else:
        promoted = [r for r in responses if isinstance(r, RecordEvent)]
        assert len(promoted) == (1 if state.promoted is None else 0)
        assert all(isinstance(r.event, RunPromoted) and r.durable for r in promoted)
        assert CutShort in kinds


def _paused_at_manual_gate() -> Simulation:
    """A run whose first phase's gate waits for a human (as a manual check journals it)."""
    # The gate is a check like any other to the state machine; it waits as a manual one does.
    plan = make_plan([{"id": "a", "gates": 1}, {"id": "b", "needs": ["a"]}])
    sim = Simulation(plan)
    gate = next(iter(sim.targets.gates))
    for _ in range(50):
        if gate in sim.inflight:
            break
        commands = decide(plan, sim.state, sim.inflight.keys())
        for command in commands:
            sim._dispatch(command)
        if not commands:
            sim._complete(sorted(sim.inflight)[0])
    sim.inflight.pop(gate)
    sim.emit("item.started", {"key": gate, "kind": "gate", "phase": "a"})
    sim.emit(
        "item.finished", {"key": gate, "kind": "gate", "phase": "a", "status": "awaiting_approval"}
    )
    assert [type(c) for c in decide(plan, sim.state, ())] == [Pause]
    sim.emit("run.paused", {"reason": "approval", "items": [gate]})
    return sim


def _answer(sim: Simulation, operator_input: OperatorInput) -> list[Any]:
    responses = respond(sim.state, operator_input)
    for r in responses:
        if isinstance(r, RecordEvent):
            sim.emit(r.event.type, r.event.to_json())
    return responses


def test_a_reject_at_a_waiting_gate_rolls_the_run_back() -> None:
    sim = _paused_at_manual_gate()
    gate = next(iter(sim.targets.gates))
    _answer(sim, Reject((Rejection(key=gate, by="ana", comment="no-go"),)))
    sim.emit("run.resumed", {})
    commands = decide(sim.plan, sim.state, ())
    assert commands and not any(isinstance(c, StartPhase | RunItem) for c in commands)
    assert sim.state.failure is not None and sim.state.failure["item"] == gate
    assert sim.run().status == "rolled_back"
    assert any(e == "rollback.started" for e, _ in sim.events)
    later = [k for k, t in sim.targets.steps.items() if t.phase.id == "b"]
    assert later and not set(later) & set(sim.executed)  # nothing of the next phase ran


def test_an_approval_of_the_waiting_gate_lets_the_run_go_on_and_a_second_is_refused() -> None:
    sim = _paused_at_manual_gate()
    gate = next(iter(sim.targets.gates))
    _answer(sim, Approve(key=gate, by="ana"))
    sim.emit("run.resumed", {})
    assert sim.state.items[gate].status == "pending"  # asked again: the check reads the approval
    final = sim.run()
    assert final.status == "succeeded"
    again = respond(final, Approve(key=gate, by="bo"))
    assert [type(r) for r in again] == [Refuse]


def test_an_abort_mid_run_starts_no_step_and_the_run_rolls_back() -> None:
    sim = _paused_at_manual_gate()
    sim.emit("run.resumed", {})
    responses = _answer(sim, Abort(by="ana", reason="stop"))
    assert [type(r) for r in responses] == [RecordEvent, StopCommands, Say]
    commands = decide(sim.plan, sim.state, ())
    assert not any(isinstance(c, StartPhase) for c in commands)
    assert not any(isinstance(c, RunItem) and c.work == "run_step" for c in commands)
    assert sim.state.failure is not None  # an abort fails the run: decide rolls it back
    assert sim.run().status == "rolled_back"


@given(inputs)
def test_each_input_reads_back_from_its_stored_request(operator_input: OperatorInput) -> None:
    kind, data, request = _stored(operator_input)
    assert from_request(kind, data, request) == operator_input


@given(
    st.sampled_from(["approve", "reject", "abort", "promote", "resume", "nonsense"]),
    st.dictionaries(
        st.sampled_from(["key", "by", "required", "grace", "decisions", "full", "comment"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=3) | st.lists(st.integers()),
    ),
)
def test_a_malformed_request_is_refused_by_name_never_with_another_error(
    kind: str, data: dict[str, Any]
) -> None:
    try:
        from_request(kind, data)
    except MalformedRequest as exc:
        assert str(exc)


def _stored(operator_input: OperatorInput) -> tuple[str, JsonDict, int | None]:
    """The request as the CLI and the server store it (run/inputs.py ``to_request``): the
    abort's request id is the store's, not part of its data."""
    kind, data = to_request(operator_input)
    assert "request" not in data
    with_id = isinstance(operator_input, Abort | Approve)
    return kind, data, operator_input.request if with_id else None


@settings(max_examples=150, deadline=None)
@given(states(), st.sampled_from(KEYS), WHO, st.integers(1, 99))
def test_an_approval_delivered_again_is_answered_once(
    state: RunState, key: str, who: str, request: int
) -> None:
    """The owner journals an approval durably, then consumes its request; killed between
    the two, its successor reads the request again. The journal (folded again from its
    events, as ``load_state`` does) knows the request was answered: nothing is recorded twice."""
    given_once = Approve(key=key, by=who, request=request)
    first = [r for r in respond(state, given_once) if isinstance(r, RecordEvent)]
    for number, answer in enumerate(first, start=state.seq + 1):
        apply(state, answer.event, ts=float(number))
    before = copy.deepcopy(state)
    again = respond(state, Approve(key=key, by=who, request=request))
    if first:
        assert again == []
        assert state == before
        assert [d["by"] for d in state.decisions].count(who) == 1
    # Another request (another delivery of the same person's approval) is still answered.
    other = respond(state, Approve(key=key, by=who, request=request + 100))
    assert not first or all(isinstance(r, RecordEvent | Refuse) for r in other)
