"""The canary parts of the report document: analyses and traffic.

Analyses: per analysis item (an ``analysis`` step, or a phase's background analysis) the
verdict with its reason and score, and per metric how many measurements ended in each status
and the latest values. Counts and values come from ``analysis.measured`` events (so a running
or interrupted analysis shows what it saw so far); the verdict, reason and score from the
item's finishing record, which says how the analysis itself judged them.

Traffic: every weight change, folded from the ``traffic.changed`` events themselves rather than
from the state's short history, because the events also say how long the router took and,
for the change that put the canary at 0 after a failure, the detection-to-rollback latency.
"""

from __future__ import annotations

from collections.abc import Iterable

from phasegate.engine.canary import analysis_key
from phasegate.report.document import (
    AnalysisView,
    DetectionView,
    MetricRow,
    TrafficChangeView,
    TrafficView,
)
from phasegate.run.events import TrafficChanged
from phasegate.run.outline import AnalysisOutline, PlanOutline
from phasegate.run.record import JsonDict, JsonValue, Number
from phasegate.run.records import MetricTally, RollbackRecord
from phasegate.run.state import Item, RunState
from phasegate.traffic.base import canary_weight


def traffic_change(at: float, change: TrafficChanged) -> TrafficChangeView:
    """One ``traffic.changed`` event as a history entry (what the state keeps, and more)."""
    return {
        "at": at,
        "weights": dict(change.confirmed or {}),
        "asked": change.weights,
        "by": change.by,
        "reason": change.reason,
        "duration": change.duration,
        "detected_at": change.detected_at,
        "detection_latency": change.detection_latency,
        "detected_by": change.detected_by,
    }


def traffic(
    state: RunState, changes: list[TrafficChangeView], plan: PlanOutline | None
) -> TrafficView | None:
    """Weights now and every change; None for a run that never had a router."""
    spec = plan.traffic if plan is not None else None
    if spec is None and not changes:
        return None
    weights = state.traffic.get("weights")
    if spec is not None:
        backends = list(spec.backends)
    else:
        backends = list((changes[0]["weights"] if changes else weights) or {})
    router = spec.router if spec is not None else None
    history: list[TrafficChangeView] = [
        {**c, "canary_weight": canary_weight(c["weights"], backends)} for c in changes
    ]
    return {
        "backends": backends,
        "router": router,
        "weights": weights,
        "canary_weight": canary_weight(weights, backends) if weights else None,
        "promoted": state.promoted,
        "history": history,
    }


def detection(rollback: RollbackRecord, changes: list[TrafficChangeView]) -> DetectionView:
    """The rollback's detection-to-rollback latency: from the first evaluation that crossed
    the failure condition (or the abort) to the router confirming the canary's weight 0."""
    measured = [c for c in changes if c["detection_latency"] is not None]
    last = measured[-1] if measured else None
    if last is None:
        latency = rollback.get("detection_latency")
        return {
            "detection_latency": latency,
            "detected_at": None,
            "detected_by": None,
            "baseline_at": None,
        }
    return {
        "detection_latency": rollback.get("detection_latency", last["detection_latency"]),
        "detected_at": last["detected_at"],
        "detected_by": last["detected_by"],
        "baseline_at": last["at"],
    }


def analyses(state: RunState, plan: PlanOutline | None) -> list[AnalysisView]:
    """Every analysis item, in plan order (not-run ones included when the plan is known)."""
    return [
        _analysis(state, key, phase, name, definition)
        for key, phase, name, definition in _analysis_items(state, plan)
    ]


def _analysis_items(
    state: RunState, plan: PlanOutline | None
) -> Iterable[tuple[str, str | None, str, AnalysisOutline | None]]:
    """(key, phase, name, the analysis as the plan defines it) of each analysis item."""
    seen: set[str] = set()
    if plan is not None:
        for phase in plan.phases:
            # The phase's background analysis first: it starts with the phase.
            ordered = sorted(phase.items, key=lambda item: item.kind != "analysis")
            for spec in ordered:
                if spec.analysis is not None:
                    seen.add(spec.key)
                    yield spec.key, phase.id, spec.name, spec.analysis
    # Without the plan (or for keys it no longer has): whatever the journal measured.
    keys = [k for k, i in state.items.items() if i.kind == "analysis"]
    keys += [k for k in state.analysis if k not in keys]
    for key in keys:
        if key not in seen:
            item = state.items.get(key)
            name = item.name if item is not None else key
            yield key, item.phase if item is not None else None, name, None


def _analysis(
    state: RunState,
    key: str,
    phase: str | None,
    name: str,
    definition: AnalysisOutline | None,
) -> AnalysisView:
    item = state.items.get(key)
    info = state.analysis.get(key)
    observed = _observed(item)
    verdict = _text(observed, "verdict")
    if verdict is None:
        verdict = (info.get("verdict") if info is not None else None) or (
            "running" if item is not None and item.status == "running" else None
        )
    return {
        "key": key,
        "phase": phase,
        "name": name,
        "background": key == analysis_key(phase) if phase is not None else False,
        "analysis": (definition.name or "inline") if definition is not None else None,
        "status": item.status if item is not None else "not_run",
        "message": item.data.get("message") if item is not None else None,
        "verdict": verdict,
        "reason": _text(observed, "reason"),
        "score": _number(observed, "score"),
        "metric": _text(observed, "metric"),
        "detected_at": _number(observed, "detected_at"),
        "inconclusive": bool(item is not None and item.data.get("inconclusive")),
        "approved_by": list(state.approvals.get(key, [])),
        "started_at": item.started_at if item is not None else None,
        "finished_at": item.finished_at if item is not None else None,
        "metrics": _metrics(
            info["metrics"] if info is not None else {}, _judged(observed), definition
        ),
    }


def _observed(item: Item | None) -> JsonDict:
    """The verdict record the analysis item finished with ({} while it runs)."""
    observed = item.data.get("observed") if item is not None else None
    return observed if isinstance(observed, dict) and "verdict" in observed else {}


def _text(record: JsonValue, key: str) -> str | None:
    """A text of a verdict record (or of a metric's judgement in it); None: absent."""
    value = record.get(key) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def _number(record: JsonDict, key: str) -> Number | None:
    value = record.get(key)
    return value if isinstance(value, int | float) else None


def _judged(observed: JsonDict) -> JsonDict:
    """The verdict's judgement of each metric (phase, reason, message), by name."""
    metrics = observed.get("metrics")
    return metrics if isinstance(metrics, dict) else {}


def _metrics(
    measured: dict[str, MetricTally],
    judged: JsonDict,
    definition: AnalysisOutline | None,
) -> list[MetricRow]:
    defined = {m.name: m for m in definition.metrics} if definition is not None else {}
    names = list(defined)
    names += [n for n in (*measured, *judged) if n not in names]
    rows = []
    for name in names:
        tally = measured.get(name)
        counts = dict(tally["counts"]) if tally is not None else {}
        summary = judged.get(name)
        row: MetricRow = {
            "name": name,
            "phase": _text(summary, "phase"),
            "reason": _text(summary, "reason"),
            "message": _text(summary, "message"),
            "measurements": sum(counts.values()),
            "counts": counts,
            "last": list(tally["last"]) if tally is not None else [],
        }
        metric = defined.get(name)
        if metric is not None:
            row["success"] = metric.success
            row["failure"] = metric.failure
            row["warning"] = metric.warning
            row["count"] = metric.count
            row["failure_limit"] = metric.failure_limit
        rows.append(row)
    return rows
