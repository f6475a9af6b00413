"""The canary part of the state machine, property-tested: random canary phases (set_weight,
pause, analysis, promote steps, background analyses), a random failure, a random
`promote --full`, and random completion order. Pure: no processes, no clock, no database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from phasegate.engine.canary import analysis_key
from phasegate.engine.commands import Command, Pause, RunItem, SkipStep, StartPhase
from phasegate.engine.decide import decide
from phasegate.engine.traffic import BASELINE_KEY, PROMOTE_KEY
from phasegate.plan.loader import load_plan_text
from phasegate.plan.model import Plan
from phasegate.run.state import replay
from tests.engine.simulate import Simulation

ANALYSIS = {
    "interval": "1s",
    "count": 2,
    "metrics": [
        {
            "name": "errors",
            "metric": "echo 0",
            "provider": {"command": {}},
            "failure": "value > 0.01",
        }
    ],
}


def make_plan(data: dict[str, Any]) -> Plan:
    """Through the loader, as a plan file is: routers and providers are built there."""
    return load_plan_text(yaml.safe_dump(data), Path("plan.yaml")).plan


class CanarySimulation(Simulation):
    """The runner's part for canary commands, journalling what the real runner journals."""

    promote_at: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.completions = 0

    def _weights(self, canary: int) -> dict[str, int]:
        assert self.plan.traffic is not None
        return self.plan.traffic.weights(canary)

    def _traffic(self, weights: dict[str, int], by: str) -> None:
        self.emit(
            "traffic.changed", {"weights": weights, "applied": weights, "by": by, "reason": by}
        )

    def _dispatch(self, command: Command) -> None:
        match command:
            case StartPhase(phase=phase_id):
                super()._dispatch(command)
                phase = self.plan.phase(phase_id)
                if phase.analysis is not None:
                    key = analysis_key(phase.id)
                    self.emit("item.started", {"key": key, "kind": "analysis", "phase": phase.id})
            case SkipStep(key=key, phase=phase_id):
                kind = "step" if key in self.targets.steps else "analysis"
                self.emit(
                    "item.finished",
                    {"key": key, "kind": kind, "phase": phase_id, "status": "skipped"},
                )
            case RunItem(work="finish_analysis" | "promote_full" as work, key=key):
                if work == "promote_full":
                    self.emit("item.started", {"key": key, "kind": "traffic"})
                self.inflight[key] = work
            case _:
                super()._dispatch(command)

    def _complete(self, key: str) -> None:
        self.completions += 1
        if (
            self.completions == self.promote_at
            and self.state.mode == "forward"
            and self.state.status == "running"
            and self.state.promoted is None
        ):
            self.emit("run.promoted", {"by": "op", "full": True})
        kind = self.inflight[key]
        failed = key in self.failing
        if kind == "run_step" and not failed:
            step = self.targets.step(key).step
            if step.set_weight is not None:
                assert isinstance(step.set_weight, int)
                self._traffic(self._weights(step.set_weight), key)
            elif step.promote:
                self._traffic(self._weights(100), key)
        if kind == "run_undo" and key == BASELINE_KEY:
            assert self.plan.traffic is not None
            self.inflight.pop(key)
            self.executed.append(key)
            self._traffic(self.plan.traffic.baseline_weights(), key)
            self.emit("item.finished", {"key": key, "kind": "traffic", "status": "succeeded"})
            return
        if kind == "finish_analysis":
            self.inflight.pop(key)
            self.executed.append(key)
            status = "failed" if failed else "passed"
            phase = key.rsplit("/", 1)[0]
            self.emit(
                "item.finished",
                {"key": key, "kind": "analysis", "phase": phase, "status": status},
            )
            return
        if kind == "promote_full":
            self.inflight.pop(key)
            self.executed.append(key)
            self._traffic(self._weights(100), key)
            self.emit("item.finished", {"key": key, "kind": "traffic", "status": "succeeded"})
            return
        super()._complete(key)


STEP = st.one_of(
    st.integers(0, 100).map(lambda w: {"set_weight": w}),
    st.just({"pause": "5s"}),
    st.just({"analysis": "errors"}),
)


@st.composite
def canary_cases(draw: st.DrawFn) -> tuple[dict[str, Any], set[str], int | None, list[int]]:
    phases: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 2))):
        steps = draw(st.lists(STEP, min_size=1, max_size=5))
        if draw(st.booleans()):
            steps.append({"promote": True})
        phases.append(
            {
                "id": f"p{index}",
                "needs": [f"p{index - 1}"] if index else [],
                **({"analysis": "errors"} if draw(st.booleans()) else {}),
                "steps": [{"id": f"s{i}", **s} for i, s in enumerate(steps)],
            }
        )
    plan = {
        "version": 1,
        "name": "c",
        "traffic": {"router": {"command": "true"}},
        "analyses": {"errors": ANALYSIS},
        "phases": phases,
    }
    keys = [f"{p['id']}/{s['id']}" for p in phases for s in p["steps"]]
    keys += [analysis_key(p["id"]) for p in phases if "analysis" in p]
    failing = set(draw(st.lists(st.sampled_from(keys), max_size=1)))
    promote_at = draw(st.one_of(st.none(), st.integers(1, 12)))
    choices = draw(st.lists(st.integers(0, 5), min_size=20, max_size=20))
    return plan, failing, promote_at, choices


# Found by hypothesis: a set_weight in flight when `promote --full` arrives still completes.
IN_FLIGHT_AT_PROMOTE = (
    {
        "version": 1,
        "name": "c",
        "traffic": {"router": {"command": "true"}},
        "analyses": {"errors": ANALYSIS},
        "phases": [
            {
                "id": "p0",
                "analysis": "errors",
                "steps": [{"id": "s0", "pause": "5s"}, {"id": "s1", "promote": True}],
            },
            {"id": "p1", "needs": ["p0"], "steps": [{"id": "s0", "set_weight": 0}]},
        ],
    },
    set(),
    4,
    [0] * 20,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(canary_cases())
@example(IN_FLIGHT_AT_PROMOTE)
def test_canary_runs_end_on_the_baseline_or_promoted_and_replay(
    case: tuple[dict[str, Any], set[str], int | None, list[int]],
) -> None:
    spec, failing, promote_at, choices = case
    plan = make_plan(spec)  # outside the strategy: loading is not a pure draw
    assert plan.traffic is not None
    picks = iter(choices * 1000)
    sim = CanarySimulation(plan, failing=failing)
    sim.promote_at = promote_at
    state = sim.run(choose=lambda keys: next(picks))
    weights = state.traffic.get("weights")
    events = [e for e, _ in sim.events]
    if state.status == "rolled_back":
        # Traffic went back first: before any other rollback action, and it stays there.
        assert weights in (None, plan.traffic.baseline_weights())
        order = [entry["key"] for entry in (state.rollback or {}).get("order", [])]
        if BASELINE_KEY in order:
            assert order[0] == BASELINE_KEY
    else:
        assert state.status == "succeeded", (state.status, state.failure)
    if state.promoted is not None and state.status == "succeeded":
        promoted = events.index("run.promoted")
        before = sim.events[:promoted]
        started = {d["key"] for e, d in before if e == "item.started"}
        finished = {d["key"] for e, d in before if e == "item.finished"}
        in_flight = started - finished
        # After the promote, no canary step started: each was skipped or already running...
        for etype, data in sim.events[promoted:]:
            if etype == "item.started" and data["key"] in sim.targets.steps:
                assert sim.targets.step(str(data["key"])).step.action == "promote"
            if etype == "traffic.changed":  # ...and only a promote (or one in flight) moved it
                by = str(data["by"])
                assert (
                    by in in_flight
                    or by == PROMOTE_KEY
                    or (sim.targets.step(by).step.action == "promote")
                )
        has_promote = any(s.promote for p in plan.phases for s in p.steps)
        assert (PROMOTE_KEY in state.items) == (not has_promote)
        if not has_promote and not in_flight:
            assert weights == plan.traffic.weights(100)
    replayed = replay("sim", [(e, d, float(i + 1)) for i, (e, d) in enumerate(sim.events)])
    assert replayed.status == state.status
    assert replayed.traffic == state.traffic
    assert replayed.promoted == state.promoted


def test_a_pause_waiting_for_approval_is_skipped_by_promote() -> None:
    plan = make_plan(
        {
            "version": 1,
            "name": "c",
            "traffic": {"router": {"command": "true"}},
            "phases": [
                {"id": "p", "steps": [{"set_weight": 10}, {"id": "hold", "pause": "approve"}]}
            ],
        }
    )
    sim = CanarySimulation(plan)
    sim.emit("phase.started", {"phase": "p"})
    sim.emit("item.started", {"key": "p/set-weight-10", "kind": "step", "phase": "p"})
    sim.emit("item.finished", {"key": "p/set-weight-10", "kind": "step", "status": "succeeded"})
    sim.emit("item.started", {"key": "p/hold", "kind": "step", "phase": "p"})
    sim.emit("item.finished", {"key": "p/hold", "kind": "step", "status": "awaiting_approval"})
    assert [type(c) for c in decide(plan, sim.state, ())] == [Pause]
    sim.emit("run.promoted", {"by": "op", "full": True})
    commands = decide(plan, sim.state, ())
    assert commands == [RunItem("promote_full", PROMOTE_KEY)]
