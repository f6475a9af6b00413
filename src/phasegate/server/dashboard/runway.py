"""The run page's runway panel (docs/budgets.md, docs/dashboard.md): the duration budget
against work so far and the projection, and each resource budget (``budget.resources``)
against what the finished steps reported and what the rest will use, as
``GET /api/v1/runs/{id}/estimate`` answers them, each with its state (ok, warning,
critical, paused).

Live: the page's event stream carries the panel as its own event (``runway``, hub key
``RUNWAY_KEY + run id``). It is projected again when the run's journal moves and, while the
run works, every ``RUNWAY_EVERY`` seconds (work time grows between events). Not every second,
nor in the run body: a projection reads the plan's history and draws a Monte Carlo, too dear
for every change a watcher is sent; the hub's budget slows it further on a loaded server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from phasegate.durations import format_duration
from phasegate.engine import runway
from phasegate.errors import PhasegateError
from phasegate.estimate.remaining import Remaining
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
    """What the panel shows: ``duration`` (None without a duration budget) and
    ``resources`` (one per resource budget, plan order); None when there is neither (or no
    such run, an unreadable plan)."""
    try:
        record = store.get_run(run_id)
        plan, history, _, left, found = run_projection(
            store, record, limit=HISTORY, samples=SAMPLES
        )
        resources = runway.resource_runways(
            plan, history, store.load_state(record.id), store.events(record.id)
        )
    except (PhasegateError, ApiError):
        return None
    if found is None and not resources:
        return None
    return {
        "live": record.status in EXECUTING,
        "every": RUNWAY_EVERY,
        "at": time.time(),
        "duration": None if found is None else _duration_panel(found, left),
        "resources": [_resource_panel(r) for r in resources],
    }


def _duration_panel(found: runway.Runway, left: Remaining) -> dict[str, Any]:
    r = RunRunway.model_validate(found.as_dict())
    limit = r.budget
    # The remaining time's 90 % interval, on top of the work so far.
    low, high = r.used + left.estimate.low, r.used + left.estimate.high
    return {
        **r.model_dump(),
        "state": runway.runway_state(found),
        "low": round(low, 3),
        "high": round(high, 3),
        "budget_text": format_duration(limit),
        "used_text": format_duration(r.used),
        "p50_text": format_duration(r.projected_p50),
        "p90_text": format_duration(r.projected_p90),
        "interval_text": f"{format_duration(low)}–{format_duration(high)}",
        "remaining_text": _signed(r.remaining, format_duration),
        "passed_text": [format_duration(t) for t in r.passed],
        "thresholds_text": [format_duration(t) for t in r.thresholds],
        "used_pct": _pct(r.used, limit),
        "p90_pct": _pct(r.projected_p90, limit),
        "left_text": format_duration(left.estimate.p50),
    }


def _resource_panel(found: runway.ResourceRunway) -> dict[str, Any]:
    r = found.runway
    low, high = found.interval
    unit = found.unit

    def amount(value: float) -> str:
        return _amount(value, unit)

    return {
        "name": found.name,
        "unit": unit,
        "state": runway.runway_state(r),
        "budget": r.limit,
        "used": round(r.used, 3),
        "projected_p50": round(r.p50, 3),
        "projected_p90": round(r.p90, 3),
        "low": round(low, 3),
        "high": round(high, 3),
        "remaining": round(r.remaining, 3),
        "basis": r.basis,
        "passed": list(r.passed),
        "hold": r.hold,
        "over": r.used > r.limit,
        "unprojected": list(found.unprojected),
        "budget_text": amount(r.limit),
        "used_text": amount(r.used),
        "p50_text": amount(r.p50),
        "p90_text": amount(r.p90),
        "interval_text": f"{_amount(low, None)}–{amount(high)}",
        "remaining_text": _signed(r.remaining, amount),
        "thresholds_text": [amount(t) for t in r.thresholds],
        "passed_text": [amount(t) for t in r.passed],
        "pause_above": r.pause_above,
        "used_pct": _pct(r.used, r.limit),
        "p90_pct": _pct(r.p90, r.limit),
    }


def _amount(value: float, unit: str | None) -> str:
    """``12,500 tokens``, ``0.25 USD``: as the engine's runway messages write amounts."""
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}" if unit else text


def _signed(value: float, show: Callable[[float], str]) -> str:
    return show(value) if value >= 0 else "-" + show(-value)


def _pct(value: float, limit: float) -> float:
    return min(100.0, max(0.0, 100.0 * value / limit)) if limit else 0.0
