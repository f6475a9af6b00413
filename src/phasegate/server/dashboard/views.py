"""What the dashboard's templates show, computed from the run document (the same document as
``phasegate status --json`` and the report), so the pages never disagree with the CLI."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from phasegate.durations import format_duration
from phasegate.engine.state import ITEM_DONE

LOG_TAIL_BYTES = 4096
# A phase of thousands of steps is shown as a window: what needs attention, the latest
# finished, the next ones; the rest is counted. Every watcher receives the page on every
# change, so its size must not grow with the plan.
WINDOW = 40
WINDOW_DONE = 12
WINDOW_NEXT = 8
ATTENTION = ("running", "retrying", "failed", "error", "awaiting_approval", "unknown")
LOG_TAIL_LINES = 40
ACTIVE = ("running", "rolling_back", "pending", "paused", "interrupted")


def run_view(doc: dict[str, Any]) -> dict[str, Any]:
    run = doc["run"]
    phases = doc.get("phases", [])
    items = [item for phase in phases for item in phase.get("items", [])]
    done = [i for i in items if i.get("status") in ITEM_DONE]
    rollback = doc.get("rollback")
    shown = [{**phase, "items": window(phase.get("items", []))} for phase in phases]
    return {
        "run": run,
        "phases": shown,
        "waves": waves(shown),
        "progress": progress(len(done), len(items)),
        "failure": doc.get("failure"),
        "pause": doc.get("pause"),
        "rollback": rollback,
        "rollback_bar": budget_bar(rollback),
        "triggers": doc.get("triggers") or {},
        "analyses": doc.get("analyses") or [],
        "traffic": doc.get("traffic"),
        "weights_chart": weights_chart(doc.get("traffic")),
        "warnings": doc.get("warnings") or [],
        "approvals": doc.get("approvals") or {},
        "log": log_tail(items),
        "active": run.get("status") in ACTIVE,
        "awaiting": [i["key"] for i in items if i.get("status") == "awaiting_approval"],
    }


def window(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most about WINDOW items: every one needing attention, the last finished, the next
    pending; each run of hidden items becomes ``{"gap": count}``."""
    if len(items) <= WINDOW:
        return items
    keep = {i for i, item in enumerate(items) if item.get("status") in ATTENTION}
    finished = [i for i, item in enumerate(items) if item.get("status") in ITEM_DONE]
    waiting = [i for i, item in enumerate(items) if item.get("status") not in ITEM_DONE]
    keep.update(finished[-WINDOW_DONE:])
    keep.update(waiting[:WINDOW_NEXT])
    out: list[dict[str, Any]] = []
    hidden = 0
    for index, item in enumerate(items):
        if index in keep:
            if hidden:
                out.append({"gap": hidden})
                hidden = 0
            out.append(item)
        else:
            hidden += 1
    if hidden:
        out.append({"gap": hidden})
    return out


def progress(done: int, total: int) -> dict[str, int]:
    percent = round(100 * done / total) if total else 100
    return {"done": done, "total": total, "percent": percent}


def waves(phases: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Phases in columns: each phase one column right of the latest phase it needs."""
    column: dict[str, int] = {}
    for phase in phases:  # the run document lists phases in plan order; needs come first
        needs = [column[n] for n in phase.get("needs", []) if n in column]
        column[phase["id"]] = (max(needs) + 1) if needs else 0
    out: list[list[dict[str, Any]]] = [[] for _ in range(max(column.values(), default=-1) + 1)]
    for phase in phases:
        out[column[phase["id"]]].append(phase)
    return out


def budget_bar(rollback: dict[str, Any] | None) -> dict[str, Any] | None:
    """Rollback duration against its budget, as a bar: the budget is 100 %."""
    if not rollback:
        return None
    duration = rollback.get("duration")
    if duration is None and rollback.get("started_at"):
        duration = time.time() - float(rollback["started_at"])
    budget = rollback.get("budget")
    if duration is None:
        return None
    percent = min(100.0, 100.0 * duration / budget) if budget else None
    return {
        "duration": format_duration(duration),
        "budget": format_duration(budget) if budget else None,
        "percent": round(percent, 1) if percent is not None else None,
        "over": budget is not None and duration > float(budget),
        "detection": rollback.get("detection_latency"),
    }


def weights_chart(traffic: dict[str, Any] | None) -> dict[str, Any] | None:
    """The canary's weight over time as SVG polyline points (numbers only: nothing from a
    user reaches the markup unescaped)."""
    if not traffic:
        return None
    history = traffic.get("history") or []
    if not history:
        return None
    backends = list((traffic.get("weights") or history[-1].get("weights") or {}).keys())
    stable = backends[0] if backends else None

    def canary(weights: dict[str, int]) -> int:
        return sum(int(v) for k, v in weights.items() if k != stable)

    times = [float(h["at"]) for h in history]
    start, end = times[0], max(times[-1], time.time() if len(times) == 1 else times[-1])
    span = max(end - start, 1.0)
    width, height = 600.0, 120.0
    points: list[str] = []
    previous: float | None = None
    for entry, at in zip(history, times, strict=True):
        x = (at - start) / span * width
        y = height - canary(entry.get("weights") or {}) / 100.0 * height
        if previous is not None:
            points.append(f"{x:.1f},{previous:.1f}")  # a step chart: hold, then change
        points.append(f"{x:.1f},{y:.1f}")
        previous = y
    if previous is not None:
        points.append(f"{width:.1f},{previous:.1f}")
    last = history[-1].get("weights") or {}
    return {
        "points": " ".join(points),
        "width": int(width),
        "height": int(height),
        "current": canary(last),
        "changes": len(history),
    }


def log_tail(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The last lines of the log of the item running now, else of the last one that ran."""
    with_logs = [i for i in items if i.get("log")]
    if not with_logs:
        return None
    running = [i for i in with_logs if i.get("status") == "running"]
    item = running[-1] if running else max(with_logs, key=lambda i: i.get("started_at") or 0)
    path = Path(str(item["log"]))
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            handle.seek(max(0, size - LOG_TAIL_BYTES))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = text.splitlines()[-LOG_TAIL_LINES:]
    return {"key": item["key"], "name": item.get("name"), "lines": lines}
