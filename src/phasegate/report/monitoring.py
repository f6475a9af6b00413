"""Post-rollout monitoring as every view shows it (status, report, API, dashboard): where the
schedule is, what failed, what is next. Read from ``RunState.monitoring``, never re-derived
from the plan (docs/monitoring.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from phasegate.run.records import MonitoringRecord


class MonitoringView(MonitoringRecord):
    """The run's monitoring as every view shows it (:func:`monitoring_view`)."""

    state: str  # monitoring | paused | interrupted | rolled back | completed | …
    done: int
    remaining: int
    next_due_utc: str | None
    started_at_utc: str | None
    ends_at_utc: str | None


def _utc(epoch: Any) -> str | None:
    if not isinstance(epoch, int | float):
        return None
    return datetime.fromtimestamp(float(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def monitoring_view(monitoring: MonitoringRecord | None, status: str) -> MonitoringView | None:
    """The run's monitoring with what a reader asks: checks done of how many, the next due
    time (None once it is over), failures, and a one-word state: ``monitoring`` (going on),
    ``paused``, ``rolled back`` (its failure rolled the run back), ``interrupted``,
    ``completed``."""
    if monitoring is None:
        return None
    acted = [a for a in monitoring.get("actions", []) if a.get("action") == "rollback"]
    if status == "monitoring":
        state = "monitoring"
    elif status in ("paused", "interrupted"):
        state = status
    elif acted:
        state = "rolled back"
    elif status == "succeeded":
        state = "completed"
    else:
        state = status  # rolled back by an operator, or rolling back
    going = state in ("monitoring", "paused", "interrupted")
    next_due = monitoring.get("next_due") if going else None
    return {
        **monitoring,
        "state": state,
        "done": monitoring.get("evaluations", 0),
        "remaining": max(int(monitoring.get("slots", 0)) - int(monitoring.get("slot", 0)), 0),
        "next_due": next_due,
        "next_due_utc": _utc(next_due),
        "started_at_utc": _utc(monitoring.get("started_at")),
        "ends_at_utc": _utc(monitoring.get("ends_at")),
    }


def summary_line(view: MonitoringView) -> str:
    """``12 of 35 checks, 1 failed, next 2026-12-06T20:15:00Z`` (status and reports)."""
    parts = [f"{view['done']} of {view['slots']} checks"]
    if view.get("failures"):
        parts.append(f"{view['failures']} failed")
    if view.get("missed"):
        parts.append(f"{view['missed']} missed")
    if view.get("next_due_utc"):
        parts.append(f"next {view['next_due_utc']}")
    parts.append(f"ends {view['ends_at_utc']}")
    return ", ".join(parts)
