"""The run page's runway panel (docs/budgets.md, docs/dashboard.md): the duration budget
against work so far and the projection, and each resource budget (``budget.resources``)
against what the finished steps reported and what the rest will use, as
``GET /api/v1/runs/{id}/estimate`` answers them, each with its state (ok, warning,
critical, paused).

Live: the page's event stream carries the panel as its own event (``runway``, hub key
``RUNWAY_KEY + run id``). It is projected again when the run's journal moves and, while the
run works, every ``RUNWAY_EVERY`` seconds (work time grows between events). The plan's
history is fitted once per history version (estimate/fitcache.py), so a projection reads the
run's journal and draws a Monte Carlo; not every second, nor in the run body: the hub's
budget slows it further on a loaded server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from phasegate.durations import format_duration
from phasegate.errors import PhasegateError
from phasegate.estimate.resources import amount_words as _amount
from phasegate.server.api.estimates import run_estimate
from phasegate.server.api.models import RunEstimate, RunResourceRunway
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
    """What the panel shows: ``duration`` (None without a duration budget) and
    ``resources`` (one per resource budget, plan order), each ``GET …/estimate``'s runway
    (state, projection, 90 % interval: ``run_estimate``, one computation for both) with its
    texts; None when there is neither (or no such run, an unreadable plan)."""
    try:
        record = store.get_run(run_id)
        found = run_estimate(store, record, limit=HISTORY, samples=SAMPLES)
    except (PhasegateError, ApiError):
        return None
    if found.runway is None and not found.resources:
        return None
    return {
        "live": record.status in EXECUTING,
        "every": RUNWAY_EVERY,
        "at": time.time(),
        "duration": None if found.runway is None else _duration_panel(found),
        "resources": [_resource_panel(r) for r in found.resources],
    }


def _duration_panel(found: RunEstimate) -> dict[str, Any]:
    r = found.runway
    assert r is not None
    limit = r.budget
    return {
        **r.model_dump(),
        "budget_text": format_duration(limit),
        "used_text": format_duration(r.used),
        "p50_text": format_duration(r.projected_p50),
        "p90_text": format_duration(r.projected_p90),
        "interval_text": f"{format_duration(r.low)}–{format_duration(r.high)}",
        "remaining_text": _signed(r.remaining, format_duration),
        "passed_text": [format_duration(t) for t in r.passed],
        "thresholds_text": [format_duration(t) for t in r.thresholds],
        "used_pct": _pct(r.used, limit),
        "p90_pct": _pct(r.projected_p90, limit),
        "left_text": format_duration(found.remaining.p50),
    }


def _resource_panel(r: RunResourceRunway) -> dict[str, Any]:
    unit = r.unit

    def amount(value: float) -> str:
        return _amount(value, unit)

    return {
        **r.model_dump(),
        "budget_text": amount(r.budget),
        "used_text": amount(r.used),
        "p50_text": amount(r.projected_p50),
        "p90_text": amount(r.projected_p90),
        "interval_text": f"{_amount(r.low, None)}–{amount(r.high)}",
        "remaining_text": _signed(r.remaining, amount),
        "thresholds_text": [amount(t) for t in r.thresholds],
        "passed_text": [amount(t) for t in r.passed],
        "used_pct": _pct(r.used, r.budget),
        "p90_pct": _pct(r.projected_p90, r.budget),
    }


def _signed(value: float, show: Callable[[float], str]) -> str:
    return show(value) if value >= 0 else "-" + show(-value)


def _pct(value: float, limit: float) -> float:
    return min(100.0, max(0.0, 100.0 * value / limit)) if limit else 0.0
