"""Find the plan object an item key names (``phase/step``, ``phase/gate:id``, ``undo:…``)."""

from __future__ import annotations

from dataclasses import dataclass

from phasegate.checks.base import CheckSpec
from phasegate.engine.decide import gate_key, rollback_decision_key, step_key
from phasegate.plan.model import (
    Action,
    PauseChoice,
    Phase,
    Plan,
    Step,
    gate_ids,
    phase_gates,
    step_ids,
)


@dataclass(frozen=True)
class StepTarget:
    phase: Phase
    step: Step


@dataclass(frozen=True)
class GateTarget:
    phase: Phase
    check: CheckSpec
    step: Step | None = None  # the step a pre-gate precedes: skipped when its `when` is


class Targets:
    def __init__(self, plan: Plan) -> None:
        self.steps: dict[str, StepTarget] = {}
        self.gates: dict[str, GateTarget] = {}
        self.undos: dict[str, tuple[Action, str, str]] = {}
        # a phase's rollback decision: key -> (the choice, phase id)
        self.rollback_decisions: dict[str, tuple[PauseChoice, str]] = {}
        for phase in plan.phases:
            for sid, step in zip(step_ids(phase), phase.steps, strict=True):
                key = step_key(phase.id, sid)
                self.steps[key] = StepTarget(phase, step)
                if step.undo is not None:
                    self.undos[f"undo:{key}"] = (
                        step.undo,
                        phase.id,
                        step.undo.name or sid,
                    )
            steps = dict(zip(step_ids(phase), phase.steps, strict=True))
            for gid, check, before in phase_gates(phase):
                guarded = steps[before] if before is not None else None
                self.gates[gate_key(phase.id, gid)] = GateTarget(phase, check, guarded)
            if phase.rollback_decision is not None:
                self.rollback_decisions[rollback_decision_key(phase.id)] = (
                    phase.rollback_decision,
                    phase.id,
                )
            for index, action in enumerate(phase.rollback):
                self.undos[f"rollback:{phase.id}/{index + 1}"] = (
                    action,
                    phase.id,
                    action.name or f"rollback {index + 1}",
                )
        self.verifies = {
            f"verify:{vid}": check
            for vid, check in zip(
                gate_ids(plan.verify_rollback, "verify"), plan.verify_rollback, strict=True
            )
        }

    def step(self, key: str) -> StepTarget:
        return self.steps[key]

    def gate(self, key: str) -> GateTarget:
        return self.gates[key]

    def undo(self, key: str) -> tuple[Action, str, str]:
        return self.undos[key]

    def verify(self, key: str) -> CheckSpec:
        return self.verifies[key]

    def all_keys(self) -> set[str]:
        return {*self.steps, *self.gates, *self.undos, *self.rollback_decisions, *self.verifies}
