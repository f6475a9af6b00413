"""Journal events -> notification events: the one table of what is worth telling people.

A notification event has a name that routes match (``rollback.*``), a severity (``info``,
``warning``, ``critical``; some depend on the outcome) and a one-line summary. The mapping is
pure: it reads the (already masked) typed journal event and the run state it produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from phasegate.notify.base import Severity
from phasegate.run.events import (
    BudgetRunway,
    Event,
    ItemFinished,
    MonitoringChecked,
    MonitoringStarted,
    RollbackFinished,
    RollbackStarted,
    RunFinished,
    RunPaused,
    RunStarted,
    RunWaiting,
    TriggerTripped,
    Warning,
)
from phasegate.run.record import JsonValue
from phasegate.run.state import RunState
from phasegate.words import plural


@dataclass(frozen=True)
class Notice:
    event: str
    severity: Severity
    summary: str
    details: Mapping[str, JsonValue] = field(default_factory=dict)


def _item_name(state: RunState, key: str) -> str:
    """``deploy/gate:health (curl …)``: the key finds it in the report, the name explains."""
    item = state.items.get(key)
    name = item.name if item is not None else ""
    return f"{key} ({name})" if name and name != key else key


def _when(epoch: Any) -> str:
    if not isinstance(epoch, int | float):
        return "not within 400 days"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds(value: Any) -> str:
    return f"{float(value):.1f}s" if isinstance(value, int | float) else "?"


def notices(event: Event, state: RunState) -> list[Notice]:
    """What ``event`` (just folded into ``state``) means for notifications: usually nothing."""
    match event:
        case RunStarted(user=who):
            by = f" by {who}" if who else ""
            return [Notice("run.started", "info", f"run {state.run_id} started{by}")]
        case RunFinished(status=status):
            return [_finished(status, state)]
        case ItemFinished(status="failed" | "error"):
            return _item_failed(event, state)
        case RunPaused(reason=reason, items=items, message=message):
            severity: Severity = "warning" if reason == "approval" else "critical"
            return [
                Notice(
                    "paused.approval",
                    severity,
                    f"run paused ({reason}): {message or reason}",
                    {"reason": reason, "items": list(items)},
                )
            ]
        case RunWaiting(phase=phase, why=why, next_open=opens, rule=rule):
            held = f"phase {phase}" if phase is not None else "the rollback"
            when = _when(opens)
            return [
                Notice(
                    "run.waiting",
                    "info",
                    f"run {state.run_id} waits: {held} is outside its change window ({why}); "
                    f"opens {when}",
                    {"phase": phase, "rule": rule, "next_open": opens},
                )
            ]
        case RollbackStarted(budget=budget, order=order, by=by):
            within = f" (budget {_seconds(budget)})" if budget is not None else ""
            reason = event.reason or "requested"
            return [
                Notice(
                    "rollback.started",
                    "critical",
                    f"rolling back {plural(len(order), 'action')}{within}: {reason}",
                    {"reason": reason, "budget": budget, "by": by},
                )
            ]
        case RollbackFinished():
            return [_rollback_finished(event, state)]
        case BudgetRunway():
            return [_runway(event, state)]
        case Warning(budget=str(budget), message=message) if budget:
            return [Notice("budget.warning", "warning", message, {"budget": budget})]
        case MonitoringStarted(slots=slots, ends_at=ends_at, on_failure=action):
            return [
                Notice(
                    "run.monitoring",
                    "info",
                    f"run {state.run_id}: rollout succeeded; monitoring until {_when(ends_at)} "
                    f"({plural(slots, 'check')}, on failure: {action})",
                    {"slots": slots, "ends_at": ends_at, "on_failure": action},
                )
            ]
        case MonitoringChecked(action=str(action), slot=slot, message=message):
            return [
                Notice(
                    "monitor.failed",
                    "warning" if action == "alert" else "critical",
                    f"run {state.run_id}: monitor check {slot} failed ({action}): {message}",
                    {"slot": slot, "action": action, "message": message},
                )
            ]
        case TriggerTripped(action=action, trigger=name, message=message):
            return [
                Notice(
                    "trigger.tripped",
                    "warning" if action == "alert" else "critical",
                    f"trigger {name} tripped ({action}): {message}".rstrip(": "),
                    {"trigger": name, "action": action},
                )
            ]
    return []


def _amount(event: BudgetRunway, value: Any) -> str:
    if not isinstance(value, int | float):
        return "?"
    if event.budget == "duration":
        return f"{float(value):.1f}s"
    return f"{value:g} {event.unit}" if event.unit else f"{value:g}"


def _runway(event: BudgetRunway, state: RunState) -> Notice:
    """T-15 / T-5: what is left of a budget once the projected work is spent."""
    severity: Severity = "critical" if event.severity == "critical" else "warning"
    summary = (
        f"run {state.run_id}: {event.budget} budget runway {_amount(event, event.runway)} "
        f"(threshold {_amount(event, event.threshold)}): projected "
        f"{_amount(event, event.projected)} of {_amount(event, event.limit)}, "
        f"{_amount(event, event.used)} so far"
    )
    return Notice(
        "budget.runway",
        severity,
        summary,
        {
            "budget": event.budget,
            "threshold": event.threshold,
            "runway": event.runway,
            "limit": event.limit,
            "used": event.used,
            "projected": event.projected,
            "projected_p50": event.projected_p50,
            "projected_p90": event.projected_p90,
            "basis": event.basis,
            "unit": event.unit,
        },
    )


def _finished(status: str, state: RunState) -> Notice:
    if status == "succeeded":
        return Notice("run.succeeded", "info", f"run {state.run_id} succeeded", {"status": status})
    failure = state.failure
    why = f": {failure['message']}" if failure is not None and failure["message"] else ""
    severity: Severity = "warning" if status == "rolled_back" else "critical"
    return Notice(
        "run.failed",
        severity,
        f"run {state.run_id} ended {status}{why}",
        {"status": status, "failure": failure["item"] if failure is not None else None},
    )


def _item_failed(event: ItemFinished, state: RunState) -> list[Notice]:
    kind, key = event.kind, event.key
    name = _item_name(state, key)
    message = event.message or event.status
    details = {"item": key, "phase": event.phase, "message": message}
    if state.mode == "rollback":
        return []  # rollback.finished (critical when it failed) tells that story
    if kind == "gate":
        return [Notice("gate.failed", "critical", f"gate {name} failed: {message}", details)]
    if kind == "analysis":
        return [
            Notice("analysis.failed", "critical", f"analysis {name} failed: {message}", details)
        ]
    if kind == "step":
        severity: Severity = "warning" if event.tolerated else "critical"
        return [Notice("step.failed", severity, f"step {name} failed: {message}", details)]
    return []


def _rollback_finished(event: RollbackFinished, state: RunState) -> Notice:
    status, budget = event.status, event.budget
    words = f"rollback {status} in {_seconds(event.duration)}"
    if budget is not None:
        words += f" (budget {_seconds(budget)}{', OVERRUN' if event.overrun else ''})"
    rollback = state.rollback
    latency = rollback.get("detection_latency") if rollback is not None else None
    if latency is not None:
        words += f"; detection to traffic shift {_seconds(latency)}"
    return Notice(
        "rollback.finished",
        "warning" if status == "rolled_back" else "critical",
        words,
        {
            "status": status,
            "duration": event.duration,
            "budget": budget,
            "overrun": event.overrun,
            "detection_latency": latency,
            "failures": [
                {"item": f["item"], "message": f["message"]}
                for f in (rollback["failures"] if rollback is not None else [])
            ],
        },
    )
