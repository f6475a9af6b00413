"""The outline of a plan that ``run.created`` records for the run's readers (run/outline.py).

Built here, from the plan the engine is about to run, with the same functions the engine and
the report used to derive names and order (``phase_items``, a step's label, a check's
``describe()``), so a view reading the outline shows what it showed when it re-loaded the plan.
"""

from __future__ import annotations

from phasegate.checks.base import CheckSpec
from phasegate.engine.decide import phase_items
from phasegate.plan.analysis import Analysis
from phasegate.plan.model import Phase, Plan, phase_gates
from phasegate.run.outline import (
    AnalysisOutline,
    ChoiceOutline,
    ItemOutline,
    MetricOutline,
    PhaseOutline,
    PlanOutline,
    TrafficOutline,
)


def outline(plan: Plan) -> PlanOutline:
    traffic = None
    if plan.traffic is not None:
        router = plan.traffic.router
        traffic = TrafficOutline(
            backends=tuple(plan.traffic.backends),
            router=router.describe() if router is not None else None,
        )
    return PlanOutline(
        phases=tuple(_phase(plan, phase) for phase in plan.phases),
        traffic=traffic,
        budget_duration=plan.budget.duration,
        budget_rollback=plan.budget.rollback,
    )


def _phase(plan: Plan, phase: Phase) -> PhaseOutline:
    gates = [check for _, check, _ in phase_gates(phase)]
    return PhaseOutline(
        id=phase.id,
        name=phase.name,
        risk=phase.risk,
        needs=tuple(phase.needs),
        items=tuple(
            _item(plan, phase, gates, key, kind, index) for key, kind, index in phase_items(phase)
        ),
    )


def _item(
    plan: Plan, phase: Phase, gates: list[CheckSpec], key: str, kind: str, index: int
) -> ItemOutline:
    if kind == "gate":
        gate = gates[index]
        approvals = int(getattr(gate, "approvers", 1)) if gate.kind == "manual" else None
        return ItemOutline(
            key=key, kind=kind, name=gate.describe(), check=gate.kind, approvals=approvals
        )
    if kind == "step":
        step = phase.steps[index]
        pause = step.pause
        approve = pause is not None and pause.until == "approve"
        choice = None
        if pause is not None and pause.choose is not None:
            choice = ChoiceOutline(var=pause.choose.var, options=tuple(pause.choose.options))
        return ItemOutline(
            key=key,
            kind=kind,
            name=step.label,
            approvals=pause.approvers if pause is not None and approve else None,
            choice=choice,
            analysis=_analysis(plan, step.analysis) if step.analysis is not None else None,
        )
    if kind == "analysis" and phase.analysis is not None:
        # The phase's background analysis: an inconclusive one waits for one human.
        return ItemOutline(
            key=key,
            kind=kind,
            name=f"analysis {phase.id}",
            approvals=1,
            analysis=_analysis(plan, phase.analysis),
        )
    # A fleet phase's one item (engine/fleet.py): its name and hosts come from its own events.
    return ItemOutline(key=key, kind=kind, name=f"analysis {phase.id}", approvals=1)


def _analysis(plan: Plan, ref: str | Analysis) -> AnalysisOutline:
    definition = plan.analysis(ref)
    metrics = []
    for metric in definition.metrics:
        settings = definition.effective(metric)
        metrics.append(
            MetricOutline(
                name=metric.name,
                success=metric.success,
                failure=metric.failure,
                warning=metric.warning,
                count=settings.count,
                failure_limit=settings.failure_limit,
            )
        )
    return AnalysisOutline(name=ref if isinstance(ref, str) else None, metrics=tuple(metrics))
