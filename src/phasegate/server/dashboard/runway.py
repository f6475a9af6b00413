"""The run page's runway panel (docs/budgets.md, docs/dashboard.md): the duration budget
against work so far and the projection, as ``GET /api/v1/runs/{id}/estimate`` answers it.

Live: the page's event stream carries the panel as its own event (``runway``, hub key
``RUNWAY_KEY + run id``). It is projected again when the run's journal moves and, while the
run works, every ``RUNWAY_EVERY`` seconds (work time grows between events). Not every second,
nor in the run body: a projection reads the plan's history and draws a Monte Carlo, too dear
for every change a watcher is sent; the hub's budget slows it further on a loaded server.
"""

from __future__ import annotations

import time
from typing import Any

from phasegate.durations import format_duration
from phasegate.errors import PhasegateError
from phasegate.server.api.models import RunRunway
from phasegate.server.api.runs import run_projection
from phasegate.server.errors import ApiError
from phasegate.store.contract import JournalStore

HISTORY = 1_000  # the newest finished runs of the plan the panel learns from
RUNWAY_KEY = "runway:"  # the hub's key of a run's runway panel: RUNWAY_KEY + run id
RUNWAY_EVERY = 2  # seconds between projections of a working run's panel
EXECUTING = ("running", "rolling_back")
SAMPLES = 2_000  # Monte Carlo draws per projection (the API's 10,000 give the same to ~1 %)


def runway_marker(store: JournalStore, run_id: str) -> tuple[Any, ...]:
    """What moves when the panel must be projected again: the journal, and the clock in
    ``RUNWAY_EVERY`` steps while the run works (a paused or finished run's work time stands)."""
    head = store.run_head(run_id)
    live = head is not None and head.status in EXECUTING
    bucket = int(time.time() / RUNWAY_EVERY) if live else 0
    return (None if head is None else (head.last_seq, head.status), bucket)


def runway_panel(store: JournalStore, run_id: str) -> dict[str, Any] | None:
    """What the panel shows, or None (no duration budget, no such run, an unreadable plan)."""
    try:
        record = store.get_run(run_id)
        _, _, _, left, found = run_projection(store, record, limit=HISTORY, samples=SAMPLES)
    except (PhasegateError, ApiError):
        return None
    if found is None:
        return None
    r = RunRunway.model_validate(found.as_dict())
    limit = r.budget
    return {
        "live": record.status in EXECUTING,
        "every": RUNWAY_EVERY,
        "at": time.time(),
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
        "left_text": format_duration(left.estimate.p50),
    }
