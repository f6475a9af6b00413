"""The monitoring schedule's arithmetic and its fold, as pure functions (no clock, no
process): where each check falls, which slot is next after a gap, and the run's status and
lock through monitoring. Property-tested with hypothesis."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasegate.engine.commands import CheckMonitor, Finish, StartRollback
from phasegate.engine.decide import decide
from phasegate.errors import InvalidTransition
from phasegate.plan.loader import load_plan_text
from phasegate.run import events as ev
from phasegate.run.postmonitor import from_json, next_slot, offsets, total
from phasegate.run.state import RunState, apply

segments = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=600),  # every (tenths of a second)
        st.integers(min_value=1, max_value=40),  # checks in the segment
        st.integers(min_value=0, max_value=9),  # tenths left over after the last check
    ),
    min_size=1,
    max_size=5,
).map(lambda raw: [(e / 10, (e * n + min(r, e - 1)) / 10) for e, n, r in raw])


@given(segments)
def test_offsets_fall_every_interval_within_each_segment_in_order(
    schedule: list[tuple[float, float]],
) -> None:
    due = offsets(schedule)
    assert due == sorted(set(due))  # strictly increasing
    assert len(due) == sum(math.floor(length / every + 1e-9) for every, length in schedule)
    assert due[-1] <= total(schedule) + 1e-6
    start, position = 0.0, 0
    for every, length in schedule:
        count = math.floor(length / every + 1e-9)
        for n in range(1, count + 1):
            assert due[position] == pytest.approx(start + every * n)
            position += 1
        start += length


def test_the_seed_001_schedule_is_35_checks_over_24_hours() -> None:
    due = offsets([(300, 3600), (3600, 23 * 3600)])
    assert len(due) == 12 + 23 and due[:2] == [300, 600] and due[11] == 3600
    assert due[12] == 7200 and due[-1] == 24 * 3600


@settings(max_examples=300)
@given(
    segments,
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.data(),
)
def test_next_slot_continues_after_the_last_and_never_bursts_through_missed_slots(
    schedule: list[tuple[float, float]], start: float, data: st.DataObject
) -> None:
    due = offsets(schedule)
    last = data.draw(st.integers(min_value=0, max_value=len(due)))
    now = start + data.draw(st.floats(min_value=-10, max_value=total(schedule) + 10))
    found = next_slot(due, start, last, now)
    if last == len(due):
        assert found is None  # the schedule is over
        return
    assert found is not None
    slot, missed, at = found
    assert slot > last and missed == slot - last - 1
    assert at == start + due[slot - 1]
    if missed:
        # Only slots already due are passed over, and the one chosen is the latest due.
        assert at <= now
    if at <= now and slot < len(due):
        assert start + due[slot] > now


@given(segments)
def test_an_engine_on_time_evaluates_every_slot_once(schedule: list[tuple[float, float]]) -> None:
    due = offsets(schedule)
    last, evaluated = 0, []
    while (found := next_slot(due, 0.0, last, due[last] if last < len(due) else 0.0)) is not None:
        slot, missed, _ = found
        assert missed == 0
        evaluated.append(slot)
        last = slot
    assert evaluated == list(range(1, len(due) + 1))


PLAN = """
version: 1
name: watched
phases:
  - id: deploy
    steps:
      - {id: push, run: "true", undo: "true"}
monitor:
  checks:
    - {id: health, command: "true"}
  schedule:
    - {every: 10s, for: 30s}
  lock: LOCK
"""


def _plan(lock: str = "keep") -> Any:
    return load_plan_text(PLAN.replace("LOCK", lock), Path("watched.yaml")).plan


def _succeeded_forward(plan: Any) -> RunState:
    state = RunState(run_id="r")
    for event in (
        ev.RunCreated(phases=("deploy",)),
        ev.RunStarted(),
        ev.PhaseStarted(phase="deploy"),
        ev.ItemStarted(key="deploy/push", kind="step", phase="deploy", name="push"),
        ev.ItemFinished(key="deploy/push", kind="step", phase="deploy", status="succeeded"),
        ev.PhaseFinished(phase="deploy", status="succeeded"),
    ):
        apply(state, event, 1.0)
    return state


def _started(lock: str = "keep") -> ev.MonitoringStarted:
    return ev.MonitoringStarted(
        at=1000.0,
        schedule=({"every": 10.0, "for": 30.0},),
        checks=("health",),
        slots=3,
        ends_at=1030.0,
        next_due=1010.0,
        lock=lock,
    )


def _checked(slot: int, status: str = "passed", action: str | None = None) -> ev.MonitoringChecked:
    return ev.MonitoringChecked(
        slot=slot,
        at=1000.0 + 10 * slot,
        status=status,
        results=(ev.MonitorResult(check="health", status=status),),
        consecutive=1 if status == "failed" else 0,
        action=action,
        next_due=1000.0 + 10 * (slot + 1) if slot < 3 else None,
    )


def test_decide_starts_monitoring_instead_of_finishing_then_checks_each_due_slot() -> None:
    plan = _plan()
    state = _succeeded_forward(plan)
    assert [type(c).__name__ for c in decide(plan, state, (), 0.0)] == ["StartMonitoring"]
    apply(state, _started(), 2.0)
    assert state.status == "monitoring" and state.holds_lock
    assert decide(plan, state, (), 1009.9) == []  # not due yet
    assert decide(plan, state, (), 1010.0) == [CheckMonitor(1, 0, 1010.0)]
    assert decide(plan, state, ("monitor:check",), 1010.0) == []  # one evaluation at a time
    apply(state, _checked(1), 3.0)
    # Down from 1011 to 1031: the last slot is evaluated once, the one before is missed.
    assert decide(plan, state, (), 1031.0) == [CheckMonitor(3, 1, 1030.0)]
    apply(state, _checked(3), 4.0)
    assert decide(plan, state, (), 1031.0) == [Finish("succeeded")]
    apply(state, ev.RunFinished(status="succeeded"), 5.0)
    assert state.monitoring is not None and state.monitoring["evaluations"] == 2
    assert state.monitoring["missed"] == 0  # the events above carried none


def test_a_failure_with_rollback_fails_the_run_and_decide_rolls_everything_back() -> None:
    plan = _plan()
    state = _succeeded_forward(plan)
    apply(state, _started(), 2.0)
    apply(state, _checked(1, "failed", "rollback"), 3.0)
    assert state.failure is not None and state.failure["reason"] == "monitor"
    assert state.failure["item"] == "monitor:health"
    commands = decide(plan, state, (), 1011.0)
    assert len(commands) == 1 and isinstance(commands[0], StartRollback)
    assert [e["key"] for e in commands[0].order] == ["undo:deploy/push"]


def test_an_alert_warns_and_monitoring_goes_on() -> None:
    plan = _plan()
    state = _succeeded_forward(plan)
    apply(state, _started(), 2.0)
    apply(state, _checked(1, "failed", "alert"), 3.0)
    assert state.failure is None and state.status == "monitoring"
    assert [w["item"] for w in state.warnings] == ["monitor"]
    assert decide(plan, state, (), 1020.0) == [CheckMonitor(2, 0, 1020.0)]


def test_a_paused_or_interrupted_monitoring_run_resumes_to_monitoring_where_it_was() -> None:
    plan = _plan()
    state = _succeeded_forward(plan)
    apply(state, _started(), 2.0)
    apply(state, _checked(1, "failed", "pause"), 3.0)
    apply(state, ev.RunPaused(reason="monitor", message="health failed"), 3.0)
    apply(state, ev.RunResumed(after="paused"), 4.0)
    assert state.status == "monitoring" and state.monitoring is not None
    assert state.monitoring["slot"] == 1
    apply(state, ev.RunInterrupted(signal=2, name="SIGINT"), 5.0)
    apply(state, ev.RunResumed(after="interrupted"), 6.0)
    assert state.status == "monitoring"
    assert decide(plan, state, (), 1020.0) == [CheckMonitor(2, 0, 1020.0)]


@pytest.mark.parametrize("lock", ["keep", "release"])
def test_the_lock_is_held_while_monitoring_only_with_keep_and_a_failure_takes_it_back(
    lock: str,
) -> None:
    plan = _plan(lock)
    state = _succeeded_forward(plan)
    assert state.holds_lock
    apply(state, _started(lock), 2.0)
    assert state.holds_lock is (lock == "keep")
    apply(state, _checked(1, "failed", "rollback"), 3.0)
    assert state.holds_lock  # the monitor's rollback holds the lock (taken back first)
    apply(state, ev.RollbackStarted(order=(), reason="monitor"), 4.0)
    assert state.holds_lock
    apply(state, ev.RollbackFinished(status="rolled_back"), 5.0)
    apply(state, ev.RunFinished(status="rolled_back"), 5.0)
    assert not state.holds_lock


def test_monitoring_events_are_refused_out_of_place() -> None:
    plan = _plan()
    state = _succeeded_forward(plan)
    with pytest.raises(InvalidTransition, match="expected monitoring"):
        apply(state, _checked(1), 2.0)
    apply(state, _started(), 2.0)
    with pytest.raises(InvalidTransition, match="expected running"):
        apply(state, _started(), 3.0)


def test_the_schedule_round_trips_through_the_event() -> None:
    started = _started()
    again = ev.from_stored(started.type, started.to_json())
    assert again == started
    assert from_json(started.schedule) == [(10.0, 30.0)]


def test_monitoring_notifications_say_when_it_starts_and_when_a_failure_acts() -> None:
    from phasegate.notify.events import notices

    plan = _plan()
    state = _succeeded_forward(plan)
    started = _started()
    apply(state, started, 2.0)
    [begun] = notices(started, state)
    assert (begun.event, begun.severity, begun.details["slots"]) == ("run.monitoring", "info", 3)
    assert notices(_checked(1), state) == []  # a passing check says nothing
    assert notices(_checked(1, "failed"), state) == []  # below fail_after: no action, no notice
    for action, severity in (("alert", "warning"), ("pause", "critical"), ("rollback", "critical")):
        [notice] = notices(_checked(2, "failed", action), state)
        assert (notice.event, notice.severity, notice.details["action"]) == (
            "monitor.failed",
            severity,
            action,
        )
