"""Change windows in the engine's decisions (issue 13 §1), with a fake clock: no process, no
sleep. A phase never starts in a closed window; deny wins; a waiting run proceeds when the
window opens; a break-glass approval lets exactly the held phase start, journalled with who
and why; a rollback ignores windows unless the plan says ``rollback: respect``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phasegate.engine.windowing import window_key
from phasegate.plan.model import Plan
from phasegate.plan.windows import RISKS, Windows
from phasegate.windows import is_open, next_open
from tests.engine.simulate import Simulation
from tests.windows.test_properties import instants, spec

NY = "America/New_York"


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def make_plan(windows: dict[str, Any] | None, phases: list[dict[str, Any]]) -> Plan:
    from phasegate.checks.command import CommandCheck

    built = [
        {
            "id": p["id"],
            "needs": p.get("needs", []),
            **({"risk": p["risk"]} if p.get("risk") else {}),
            "steps": [{"id": "s", "run": "true", "undo": "true"}],
            "gates": [CommandCheck.model_validate({"command": "true", "id": "g"})],
        }
        for p in phases
    ]
    extra = {"windows": windows} if windows is not None else {}
    return Plan.model_validate({"version": 1, "name": "w", "phases": built, **extra})


# Seed 003's window: Mon-Thu 09:00-16:00, weekends low-risk only, no stand-up 09:30-09:45.
SEED = {
    "timezone": NY,
    "allow": [
        {"days": ["mon", "tue", "wed", "thu"], "hours": "09:00-16:00"},
        {"days": ["sat", "sun"], "risk": ["none", "low"]},
    ],
    "deny": [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "hours": "09:30-09:45", "reason": "stand-up"}
    ],
}


def _types(sim: Simulation) -> list[str]:
    return [etype for etype, _ in sim.events]


def _event(sim: Simulation, etype: str, n: int = 0) -> dict[str, Any]:
    return [data for t, data in sim.events if t == etype][n]


def test_admission_in_a_closed_window_waits_with_the_rule_and_next_opening() -> None:
    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    sim = Simulation(plan, now=_at("2026-12-07T09:35:00-05:00"))  # Monday, in the stand-up
    state = sim.run()
    assert state.status == "waiting"
    assert _types(sim) == ["run.created", "run.started", "run.waiting"]
    wait = _event(sim, "run.waiting")
    # Deny wins: the allow rule matches 09:35 on a Monday, the stand-up denies it.
    assert wait["rule"] == "deny[0]" and wait["reason"] == "stand-up"
    assert wait["why"] == "deny[0] (stand-up) denies"
    assert wait["phase"] == "deploy" and wait["risk"] == "medium" and wait["admission"] is True
    assert wait["next_open"] == _at("2026-12-07T09:45:00-05:00")
    assert state.wait is not None and state.wait["next_open"] == wait["next_open"]
    assert state.phases["deploy"].status == "pending"


def test_a_waiting_run_proceeds_by_itself_when_the_window_opens() -> None:
    plan = make_plan(SEED, [{"id": "deploy", "risk": "medium"}])
    sim = Simulation(plan, now=_at("2026-12-07T09:35:00-05:00"))
    sim.run()
    seen = len(sim.events)
    sim.now = _at("2026-12-07T09:44:59-05:00")  # a second early: still waiting, nothing new
    assert sim.run().status == "waiting"
    assert len(sim.events) == seen
    sim.now = _at("2026-12-07T09:45:00-05:00")
    state = sim.run()
    assert state.status == "succeeded"
    assert _types(sim)[seen : seen + 2] == ["run.wait_ended", "phase.started"]
    assert _event(sim, "run.wait_ended") == {"how": "opened", "by": None}
    assert state.wait is None
    assert [(w["phase"], w["rule"], w["how"]) for w in state.waits] == [
        ("deploy", "deny[0]", "opened")
    ]


def test_the_next_phase_waits_when_the_window_closed_meanwhile() -> None:
    plan = make_plan(SEED, [{"id": "a", "risk": "low"}, {"id": "b", "needs": ["a"]}])
    sim = Simulation(plan, now=_at("2026-12-07T15:59:00-05:00"))  # Monday, a minute left

    def late(keys: list[str]) -> int:
        sim.now = _at("2026-12-07T16:10:00-05:00")  # a's work ends after the window closed
        return 0

    state = sim.run(late)
    assert state.phases["a"].status == "succeeded"
    assert state.status == "waiting"
    wait = _event(sim, "run.waiting")
    assert wait["phase"] == "b" and wait["risk"] == "high" and wait["admission"] is False
    assert wait["rule"] is None and wait["why"] == "no allow rule matches a high-risk change"
    assert wait["next_open"] == _at("2026-12-08T09:00:00-05:00")  # Tuesday 09:00


def test_break_glass_lets_exactly_the_waiting_phase_start() -> None:
    plan = make_plan(SEED, [{"id": "a", "risk": "high"}, {"id": "b", "needs": ["a"]}])
    sim = Simulation(plan, now=_at("2026-12-05T12:00:00-05:00"))  # Saturday: low risk only
    sim.run()
    assert sim.state.wait is not None and sim.state.wait["phase"] == "a"
    sim.emit(
        "approval.granted",
        {"key": window_key("a"), "by": "alice", "comment": "INC-1234 hotfix", "required": 1},
    )
    state = sim.run()
    assert _event(sim, "run.wait_ended") == {"how": "break_glass", "by": "alice"}
    assert state.phases["a"].status == "succeeded"  # started in the closed window
    # Exactly that phase: b is held again, by the same closed weekend.
    assert state.status == "waiting" and state.wait is not None and state.wait["phase"] == "b"
    assert state.phases["b"].status == "pending"
    decision = state.decisions[0]
    assert (decision["key"], decision["by"], decision["comment"]) == (
        "window:a",
        "alice",
        "INC-1234 hotfix",
    )
    assert [(w["phase"], w["how"], w.get("by")) for w in state.waits] == [
        ("a", "break_glass", "alice")
    ]


def test_an_open_phase_starts_beside_a_held_one_and_the_run_waits_only_after() -> None:
    plan = make_plan(SEED, [{"id": "docs", "risk": "low"}, {"id": "db", "risk": "high"}])
    sim = Simulation(plan, now=_at("2026-12-05T12:00:00-05:00"))  # Saturday
    state = sim.run()
    assert state.phases["docs"].status == "succeeded"
    assert state.phases["db"].status == "pending"
    assert state.status == "waiting" and state.wait is not None
    assert state.wait["phase"] == "db"
    assert state.wait["next_open"] == _at("2026-12-07T09:00:00-05:00")  # Monday 09:00
    assert _types(sim).index("run.waiting") > _types(sim).index("phase.finished")


def test_rollback_in_a_closed_window_runs_at_once_by_default() -> None:
    plan = make_plan(SEED, [{"id": "a", "risk": "low"}, {"id": "b", "needs": ["a"], "risk": "low"}])
    sim = Simulation(plan, failing={"b/gate:g"}, now=_at("2026-12-07T15:59:00-05:00"))

    def close(keys: list[str]) -> int:
        if "b/gate:g" in keys:  # the window has closed when b's gate fails
            sim.now = _at("2026-12-07T20:00:00-05:00")
        return 0

    state = sim.run(close)
    assert state.status == "rolled_back"
    assert "run.waiting" not in _types(sim)
    assert [k for k in sim.executed if k.startswith("undo:")] == ["undo:b/s", "undo:a/s"]


def test_rollback_respect_waits_for_the_window_then_unwinds() -> None:
    windows = {**SEED, "rollback": "respect"}
    plan = make_plan(
        windows, [{"id": "a", "risk": "low"}, {"id": "b", "needs": ["a"], "risk": "medium"}]
    )
    sim = Simulation(plan, failing={"b/gate:g"}, now=_at("2026-12-07T15:59:00-05:00"))

    def close(keys: list[str]) -> int:
        if "b/gate:g" in keys:
            sim.now = _at("2026-12-07T20:00:00-05:00")
        return 0

    state = sim.run(close)
    assert state.status == "waiting" and state.mode == "rollback"
    wait = _event(sim, "run.waiting")
    assert wait["phase"] is None and wait["risk"] == "medium"  # the highest risk it undoes
    assert wait["next_open"] == _at("2026-12-08T09:00:00-05:00")
    assert not [k for k in sim.executed if k.startswith("undo:")]
    sim.now = wait["next_open"]
    state = sim.run()
    assert state.status == "rolled_back"
    assert _event(sim, "run.wait_ended") == {"how": "opened", "by": None}


def test_rollback_respect_break_glass_unwinds_now() -> None:
    plan = make_plan({**SEED, "rollback": "respect"}, [{"id": "a", "risk": "low"}])
    sim = Simulation(plan, failing={"a/gate:g"}, now=_at("2026-12-07T15:59:00-05:00"))

    def close(keys: list[str]) -> int:
        if "a/gate:g" in keys:
            sim.now = _at("2026-12-07T20:00:00-05:00")
        return 0

    assert sim.run(close).status == "waiting"
    sim.emit("approval.granted", {"key": window_key(None), "by": "bob", "comment": "outage"})
    state = sim.run()
    assert state.status == "rolled_back"
    assert _event(sim, "run.wait_ended") == {"how": "break_glass", "by": "bob"}


def test_an_abort_while_waiting_rolls_back_without_waiting() -> None:
    plan = make_plan(SEED, [{"id": "a", "risk": "low"}, {"id": "b", "needs": ["a"]}])
    sim = Simulation(plan, now=_at("2026-12-05T12:00:00-05:00"))  # Saturday: b is held
    sim.run()
    sim.emit("run.abort_requested", {"by": "carol", "reason": "not today"})
    state = sim.run()
    assert _event(sim, "run.wait_ended") == {"how": "failure", "by": None}
    assert state.status == "rolled_back"
    assert [k for k in sim.executed if k.startswith("undo:")] == ["undo:a/s"]


def test_a_resumed_waiting_run_asks_its_window_again() -> None:
    plan = make_plan(SEED, [{"id": "a"}])
    sim = Simulation(plan, now=_at("2026-12-05T12:00:00-05:00"))
    sim.run()
    sim.emit("run.resumed", {"after": "waiting"})  # its process died; resume
    assert sim.state.status == "running" and sim.state.wait is None
    state = sim.run()
    assert state.status == "waiting"
    assert [t for t in _types(sim) if t.startswith("run.")].count("run.waiting") == 2
    assert [w["how"] for w in state.waits] == ["resumed"]


def test_a_plan_without_windows_never_waits_and_needs_no_clock() -> None:
    state = Simulation(make_plan(None, [{"id": "a"}, {"id": "b", "needs": ["a"]}])).run()
    assert state.status == "succeeded"


def test_a_plan_with_windows_is_never_decided_without_the_time() -> None:
    with pytest.raises(AssertionError, match="needs the time"):
        Simulation(make_plan(SEED, [{"id": "a"}])).run()


@st.composite
def plans(draw: st.DrawFn) -> tuple[Plan, list[str | None]]:
    windows = draw(spec)
    risks = draw(st.lists(st.one_of(st.none(), st.sampled_from(RISKS)), min_size=3, max_size=3))
    phases = [
        {"id": "a", "risk": risks[0]},
        {"id": "b", "risk": risks[1]},
        {"id": "c", "needs": ["a", "b"], "risk": risks[2]},
    ]
    return make_plan(windows, phases), risks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans(), instants(), st.lists(st.integers(0, 6 * 3600), min_size=1, max_size=12))
def test_a_phase_never_starts_in_a_closed_window(
    drawn: tuple[Plan, list[str | None]], start: datetime, steps: list[int]
) -> None:
    """Random rules, risks and step durations: every phase starts at an instant its window is
    open for its risk; every wait names the first instant the rules allow; the run ends
    succeeded unless no opening is within the horizon."""
    plan, _ = drawn
    windows = plan.windows
    assert isinstance(windows, Windows)
    sim = Simulation(plan, now=start.timestamp())
    durations = iter(steps * 10)

    def work(keys: list[str]) -> int:
        assert sim.now is not None
        sim.now += next(durations, 60)
        return 0

    for _ in range(20):
        state = sim.run(work)
        if state.status != "waiting":
            break
        assert state.wait is not None
        at = datetime.fromtimestamp(float(sim.now or 0), UTC)
        risk = state.wait["risk"]
        assert not is_open(windows, at, risk).open
        opens = next_open(windows, at, risk)
        assert state.wait["next_open"] == (opens.timestamp() if opens else None)
        if opens is None:
            break  # never within the horizon: the run keeps waiting, it does not fail
        sim.now = opens.timestamp()
    started = {
        str(data["phase"]): when
        for (etype, data), when in zip(sim.events, sim.times, strict=True)
        if etype == "phase.started"
    }
    for phase_id, when in started.items():
        assert when is not None
        risk = plan.phase(phase_id).risk
        assert is_open(windows, datetime.fromtimestamp(when, UTC), risk).open, phase_id
    if state.status != "waiting":
        assert state.status == "succeeded"
        assert set(started) == {"a", "b", "c"}


def test_a_rejection_or_a_promotion_reaches_a_waiting_run() -> None:
    """Operator inputs a live engine takes while it waits are valid transitions: a no-go in
    advance ends the wait and rolls back; a promotion is recorded and the run keeps waiting."""
    plan = make_plan(SEED, [{"id": "a", "risk": "low"}, {"id": "b", "needs": ["a"]}])
    sim = Simulation(plan, now=_at("2026-12-05T12:00:00-05:00"))  # Saturday: b is held
    sim.run()
    sim.emit("run.promoted", {"by": "dave", "full": True})
    assert sim.run().status == "waiting"
    sim.emit("approval.rejected", {"key": "b/gate:g", "by": "erin", "comment": "no", "phase": "b"})
    state = sim.run()
    assert _event(sim, "run.wait_ended") == {"how": "failure", "by": None}
    assert state.status == "rolled_back" and state.failure is not None
    assert state.failure["reason"] == "rejected"
