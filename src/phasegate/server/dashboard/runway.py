"""The run page's runway panel (docs/budgets.md, docs/dashboard.md): the duration budget
against work so far and the projection, as ``GET /api/v1/runs/{id}/estimate`` answers it.

Computed when the page loads, not in the live body: a projection reads the plan's history and
draws a Monte Carlo, too dear for every change a watcher is sent. A reload shows the latest.
"""

from __future__ import annotations

from typing import Any

from phasegate.durations import format_duration
from phasegate.errors import PhasegateError
from phasegate.server.api.runs import run_estimate
from phasegate.server.errors import ApiError
from phasegate.store.contract import JournalStore

HISTORY = 1_000  # the newest finished runs of the plan the panel learns from


def runway_panel(store: JournalStore, run_id: str) -> dict[str, Any] | None:
    """What the panel shows, or None (no duration budget, no such run, an unreadable plan)."""
    try:
        found = run_estimate(store, store.get_run(run_id), limit=HISTORY)
    except (PhasegateError, ApiError):
        return None
    if found.runway is None:
        return None
    r = found.runway
    limit = r.budget
    return {
        **r.model_dump(),
        "budget_text": format_duration(limit),
        "used_text": format_duration(r.used),
        "p50_text": format_duration(r.projected_p50),
        "p90_text": format_duration(r.projected_p90),
        "remaining_text": (
            format_duration(r.remaining)
            if r.remaining >= 0
            else "-" + format_duration(-r.remaining)
        ),
        "passed_text": [format_duration(t) for t in r.passed],
        "thresholds_text": [format_duration(t) for t in r.thresholds],
        "used_pct": min(100.0, 100.0 * r.used / limit) if limit else 0.0,
        "p90_pct": min(100.0, 100.0 * r.projected_p90 / limit) if limit else 0.0,
        "left_text": format_duration(found.remaining.p50),
    }
