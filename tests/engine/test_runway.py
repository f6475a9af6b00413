"""Budget runway decisions, pure (engine/runway.py), the plan's budget: shape, and decide's
hold while a budget awaits its approval."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from phasegate.engine.commands import Pause, RunItem, StartPhase
from phasegate.engine.decide import decide
from phasegate.engine.runway import (
    Crossing,
    HoldForApproval,
    Overrun,
    Projection,
    held,
    hold_key,
    judge,
)
from phasegate.plan.budget import Budget
from phasegate.plan.model import Plan
from phasegate.run import events as ev
from phasegate.run.state import RunState, apply


def budget(**fields: Any) -> Budget:
    return Budget.model_validate(fields)


SEED = {"duration": "2h", "runway": ["5m", "15m"], "pause_above": "125%"}


def proj(used: float, p50: float, p90: float | None = None, limit: float = 7200) -> Projection:
    return Projection("duration", limit, used, p50, p90 if p90 is not None else p50)


def test_the_seed_budget_reads_as_written() -> None:
    b = budget(**SEED)
    assert b.duration == 7200 and b.runway == [900, 300] and b.pause_above == 1.25
    assert b.basis == "p50" and b.watched
    assert budget(duration="1h").watched is False  # only the overrun is said
    tokens = budget(resources={"tokens": {"limit": 15000, "runway": [1000, 3000]}})
    assert tokens.resources["tokens"].runway == [3000, 1000]
    assert tokens.resources["tokens"].output is None and tokens.watched


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"runway": ["5m"]}, "give `duration` too"),
        ({"pause_above": "125%"}, "give `duration` too"),
        ({"duration": "1h", "pause_above": "lots"}, "not a percentage"),
        ({"duration": "1h", "runway": ["2h"]}, "must be less than the duration budget"),
        ({"duration": "1h", "runway": ["5m", "5m"]}, "distinct"),
        ({"duration": "1h", "runway": [0]}, "more than 0"),
        ({"resources": {"tokens": {"limit": 10, "runway": [20]}}}, "less than the limit"),
        ({"resources": {"tokens": {"limit": 10, "bogus": 1}}}, "bogus"),
    ],
)
def test_a_wrong_budget_says_what_to_do(fields: dict[str, Any], said: str) -> None:
    with pytest.raises(ValidationError, match=said.replace("`", ".")):
        budget(**fields)


def test_thresholds_pass_in_order_warning_then_critical_each_once() -> None:
    b = budget(**SEED)
    # 2h budget, projected 1h50m: 10 min of runway, under 15 min only.
    first = judge(b, proj(600, 6600), crossed=(), held=False, overrun_said=False)
    assert [(type(v), getattr(v, "threshold", None)) for v in first] == [(Crossing, 900)]
    assert isinstance(first[0], Crossing) and first[0].severity == "warning"
    assert first[0].runway == 600
    assert judge(b, proj(700, 6600), crossed=(900,), held=False, overrun_said=False) == []
    # 4 min left: the last threshold, critical.
    then = judge(b, proj(900, 6960), crossed=(900,), held=False, overrun_said=False)
    assert [(v.threshold, v.severity) for v in then if isinstance(v, Crossing)] == [
        (300, "critical")
    ]
    # Both passed at once: said in order, warning first.
    both = judge(b, proj(0, 7000), crossed=(), held=False, overrun_said=False)
    assert [v.severity for v in both if isinstance(v, Crossing)] == ["warning", "critical"]


def test_the_pause_bound_holds_once_and_the_basis_decides() -> None:
    b = budget(**SEED)
    over = judge(b, proj(3600, 9100), crossed=(900, 300), held=False, overrun_said=False)
    [hold] = [v for v in over if isinstance(v, HoldForApproval)]
    assert "126% of the 2h00m duration budget" in hold.message()
    assert "over the pause bound of 125% (2h30m)" in hold.message()
    # Approved (or still held): never again for the same bound.
    assert judge(b, proj(3600, 9500), crossed=(900, 300), held=True, overrun_said=False) == []
    # At exactly the bound: not over it.
    assert judge(b, proj(0, 9000), crossed=(900, 300), held=False, overrun_said=False) == []
    cautious = budget(**SEED, basis="p90")
    found = judge(cautious, proj(0, 8000, 9100), crossed=(900, 300), held=False, overrun_said=False)
    assert [type(v) for v in found] == [HoldForApproval]
    assert judge(b, proj(0, 8000, 9100), crossed=(900, 300), held=False, overrun_said=False) == []


def test_an_overrun_is_said_once_and_does_not_hold_by_itself() -> None:
    b = budget(duration="1h")
    [overrun] = judge(b, proj(3700, 3700, limit=3600), crossed=(), held=False, overrun_said=False)
    assert isinstance(overrun, Overrun)
    assert overrun.message() == "run exceeded its duration budget of 1h00m"
    assert judge(b, proj(3800, 3800, limit=3600), crossed=(), held=False, overrun_said=True) == []


def test_resources_speak_in_their_unit() -> None:
    b = budget(resources={"tokens": {"limit": 15000, "runway": [3000, 1000], "pause_above": 1.2}})
    p = Projection("tokens", 15000, 9000, 18500, 21000, "tokens")
    found = judge(b, p, crossed=(), held=False, overrun_said=False)
    assert [type(v) for v in found] == [Crossing, Crossing, HoldForApproval]
    assert "-3,500 tokens left" in found[0].message()
    assert "over the pause bound of 120% (18,000 tokens)" in found[2].message()


@given(
    st.lists(st.floats(0, 10_000), min_size=1, max_size=30),
    st.lists(st.integers(1, 7000), min_size=1, max_size=5, unique=True),
)
def test_property_each_threshold_said_at_most_once_largest_first(
    totals: list[float], thresholds: list[int]
) -> None:
    """Whatever the projections do (up, down), a run says each threshold once, and never a
    smaller one before a larger one it has not said: a projection that leaves less runway
    than a small threshold leaves less than every larger one too."""
    b = budget(duration=7200, runway=thresholds, pause_above="125%")
    crossed: list[float] = []
    holds = 0
    for total in totals:
        for verdict in judge(
            b, proj(0, total), crossed=crossed, held=holds > 0, overrun_said=False
        ):
            if isinstance(verdict, Crossing):
                # every larger threshold was said before this one (earlier, or just now)
                assert all(t in crossed for t in b.runway if t > verdict.threshold)
                assert verdict.threshold not in crossed
                crossed.append(verdict.threshold)
            elif isinstance(verdict, HoldForApproval):
                holds += 1
    assert crossed == sorted(crossed, reverse=True)
    assert holds <= 1


# -- the fold and decide -----------------------------------------------------------------------
PLAN = Plan.model_validate(
    {
        "version": 1,
        "name": "p",
        "budget": SEED,
        "phases": [
            {"id": "a", "steps": [{"id": "s", "run": "true"}]},
            {"id": "b", "needs": ["a"], "steps": [{"id": "t", "run": "true"}]},
        ],
    }
)


def started() -> RunState:
    state = RunState(run_id="r")
    apply(state, ev.RunCreated(phases=("a", "b"), needs={"b": ("a",)}), 1.0)
    apply(state, ev.RunStarted(), 1.0)
    return state


def runway_event(threshold: float) -> ev.BudgetRunway:
    return ev.BudgetRunway(
        budget="duration", threshold=threshold, limit=7200, used=1, projected=7000, runway=200
    )


def test_the_fold_keeps_each_threshold_once() -> None:
    state = started()
    apply(state, runway_event(900), 2.0)
    assert state.budgets["duration"]["crossed"] == [900]
    with pytest.raises(Exception, match="passed already"):
        apply(state, runway_event(900), 3.0)
    apply(state, ev.Warning(message="over", budget="duration"), 4.0)
    assert state.budgets["duration"]["overrun"] == 4.0


def hold(state: RunState, status: str) -> None:
    apply(
        state,
        ev.ItemFinished(
            key=hold_key("duration"), kind="gate", phase=None, name="budget", status=status
        ),
        5.0,
    )


def test_decide_starts_nothing_while_a_budget_is_held_then_pauses_then_goes_on() -> None:
    state = started()
    assert decide(PLAN, state, ()) == [StartPhase("a")]
    apply(state, ev.PhaseStarted(phase="a"), 2.0)
    hold(state, "awaiting_approval")
    assert held(PLAN.budget, state) == ["budget:duration"]
    assert decide(PLAN, state, ("a/s",)) == []  # what runs finishes first
    assert decide(PLAN, state, ()) == [Pause("approval", ("budget:duration",))]
    apply(state, ev.RunPaused(reason="approval", items=("budget:duration",)), 6.0)
    apply(state, ev.ApprovalGranted(key="budget:duration", by="pm"), 7.0)
    apply(state, ev.RunResumed(), 8.0)
    assert held(PLAN.budget, state) == []
    assert decide(PLAN, state, ()) == [RunItem("run_step", "a/s", "a")]


def test_a_rejected_budget_hold_rolls_the_run_back() -> None:
    state = started()
    apply(state, ev.PhaseStarted(phase="a"), 2.0)
    hold(state, "awaiting_approval")
    apply(state, ev.RunPaused(reason="approval", items=("budget:duration",)), 6.0)
    apply(state, ev.ApprovalRejected(key="budget:duration", by="pm", comment="too long"), 7.0)
    assert state.failure is not None and state.failure["action"] == "rollback"
    assert state.failure["item"] == "budget:duration"
    assert held(PLAN.budget, state) == []
