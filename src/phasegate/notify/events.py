"""Journal events -> notification events: the one table of what is worth telling people.

A notification event has a name that routes match (``rollback.*``), a severity (``info``,
``warning``, ``critical``; some depend on the outcome) and a one-line summary. The mapping is
pure: it reads the (already masked) journal event and the run state it produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from phasegate.engine.state import RunState
from phasegate.notify.base import Severity
from phasegate.words import plural


@dataclass(frozen=True)
class Notice:
    event: str
    severity: Severity
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _item_name(state: RunState, key: str) -> str:
    """``deploy/gate:health (curl …)``: the key finds it in the report, the name explains."""
    item = state.items.get(key)
    name = item.name if item is not None else ""
    return f"{key} ({name})" if name and name != key else key


def _seconds(value: Any) -> str:
    return f"{float(value):.1f}s" if isinstance(value, int | float) else "?"


def notices(etype: str, data: dict[str, Any], state: RunState) -> list[Notice]:
    """What ``etype`` (just folded into ``state``) means for notifications: usually nothing."""
    if etype == "run.started":
        who = data.get("user")
        by = f" by {who}" if who else ""
        return [Notice("run.started", "info", f"run {state.run_id} started{by}")]
    if etype == "run.finished":
        return [_finished(str(data.get("status")), state)]
    if etype == "item.finished" and data.get("status") in ("failed", "error"):
        return _item_failed(data, state)
    if etype == "run.paused":
        reason = str(data.get("reason"))
        severity: Severity = "warning" if reason == "approval" else "critical"
        message = str(data.get("message") or reason)
        return [
            Notice(
                "paused.approval",
                severity,
                f"run paused ({reason}): {message}",
                {"reason": reason, "items": data.get("items", [])},
            )
        ]
    if etype == "rollback.started":
        budget = data.get("budget")
        within = f" (budget {_seconds(budget)})" if budget is not None else ""
        reason = data.get("reason") or "requested"
        return [
            Notice(
                "rollback.started",
                "critical",
                f"rolling back {plural(len(data.get('order', [])), 'action')}{within}: {reason}",
                {"reason": reason, "budget": budget, "by": data.get("by")},
            )
        ]
    if etype == "rollback.finished":
        return [_rollback_finished(data, state)]
    if etype == "warning" and data.get("budget"):
        return [
            Notice(
                "budget.warning",
                "warning",
                str(data.get("message", "over budget")),
                {"budget": data.get("budget")},
            )
        ]
    if etype == "trigger.tripped":
        action = str(data.get("action", "rollback"))
        name = data.get("trigger")
        return [
            Notice(
                "trigger.tripped",
                "warning" if action == "alert" else "critical",
                f"trigger {name} tripped ({action}): {data.get('message', '')}".rstrip(": "),
                {"trigger": name, "action": action},
            )
        ]
    return []


def _finished(status: str, state: RunState) -> Notice:
    if status == "succeeded":
        return Notice("run.succeeded", "info", f"run {state.run_id} succeeded", {"status": status})
    failure = state.failure or {}
    why = f": {failure['message']}" if failure.get("message") else ""
    severity: Severity = "warning" if status == "rolled_back" else "critical"
    return Notice(
        "run.failed",
        severity,
        f"run {state.run_id} ended {status}{why}",
        {"status": status, "failure": failure.get("item")},
    )


def _item_failed(data: dict[str, Any], state: RunState) -> list[Notice]:
    kind = data.get("kind")
    key = str(data.get("key"))
    name = _item_name(state, key)
    message = str(data.get("message") or data.get("status"))
    details = {"item": key, "phase": data.get("phase"), "message": message}
    if state.mode == "rollback":
        return []  # rollback.finished (critical when it failed) tells that story
    if kind == "gate":
        return [Notice("gate.failed", "critical", f"gate {name} failed: {message}", details)]
    if kind == "analysis":
        return [
            Notice("analysis.failed", "critical", f"analysis {name} failed: {message}", details)
        ]
    if kind == "step":
        severity: Severity = "warning" if data.get("tolerated") else "critical"
        return [Notice("step.failed", severity, f"step {name} failed: {message}", details)]
    return []


def _rollback_finished(data: dict[str, Any], state: RunState) -> Notice:
    status = str(data.get("status"))
    budget = data.get("budget")
    words = f"rollback {status} in {_seconds(data.get('duration'))}"
    if budget is not None:
        words += f" (budget {_seconds(budget)}{', OVERRUN' if data.get('overrun') else ''})"
    rollback = state.rollback or {}
    latency = rollback.get("detection_latency")
    if latency is not None:
        words += f"; detection to traffic shift {_seconds(latency)}"
    return Notice(
        "rollback.finished",
        "warning" if status == "rolled_back" else "critical",
        words,
        {
            "status": status,
            "duration": data.get("duration"),
            "budget": budget,
            "overrun": bool(data.get("overrun")),
            "detection_latency": latency,
            "failures": rollback.get("failures", []),
        },
    )
