"""A run's estimate and budget runways as the views show them: ``GET /api/v1/runs/{id}/estimate``
answers ``run_estimate`` and the dashboard's runway panel (server/dashboard/runway.py) renders
the same ``RunEstimate``, so both say the same states and intervals (docs/budgets.md).

The plan's history is read and fitted once per history version (estimate/fitcache.py): a
change of the live run's journal only re-projects what is left of it; and the run's journal
is folded once, then only the events appended since (server/livefold.py).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

from phasegate.engine import runway
from phasegate.engine.runway import ResourceRunway
from phasegate.errors import PhasegateError
from phasegate.estimate import Estimate, Remaining
from phasegate.estimate.fitcache import FittedHistory, fitted_history
from phasegate.estimate.montecarlo import DEFAULT_SAMPLES
from phasegate.estimate.remaining import remaining_of
from phasegate.plan.loader import load_plan_text
from phasegate.plan.model import Plan
from phasegate.server.api.models import Interval, RunEstimate, RunResourceRunway, RunRunway
from phasegate.server.errors import ApiError
from phasegate.server.livefold import folded
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord

HISTORY = 10_000  # the newest finished runs of the plan the API learns from


def interval(estimate: Estimate) -> Interval:
    return Interval(
        p50=estimate.p50,
        low=estimate.low,
        high=estimate.high,
        runs=estimate.runs,
        source=estimate.source,
    )


@dataclass(frozen=True)
class Projection:
    """A run's plan (as it stored it), its plan's history fitted, what is left of the run, its
    duration budget's runway (None: no duration budget) and its resource budgets' runways,
    from its journal as folded (server/livefold.py)."""

    plan: Plan
    learned: FittedHistory
    left: Remaining
    runway: runway.Runway | None
    resources: list[ResourceRunway]


@functools.lru_cache(maxsize=32)
def _stored_plan(text: str, path: str) -> Plan:
    """A run's stored plan, loaded once per text (views only read it)."""
    return load_plan_text(text, Path(path)).plan


def run_projection(
    journal: JournalStore,
    record: RunRecord,
    *,
    limit: int = HISTORY,
    samples: int = DEFAULT_SAMPLES,
) -> Projection:
    try:
        # The plan as the run stored it: loaded when the run started, so it loads again.
        plan = _stored_plan(record.plan_text, record.plan_path or "plan.yaml")
    except PhasegateError as exc:
        raise ApiError(
            409, "conflict", f"run {record.id}'s stored plan cannot be read: {exc.message}"
        ) from None
    # The run is not its own history: a finished one is left out; an unfinished one is not
    # among the finished runs anyway, so the live runs of a plan share one fitted history.
    exclude = record.id if record.finished_at is not None else None
    learned = fitted_history(
        journal, record.plan_name, plan, record.plan_text, limit=limit, exclude=exclude
    )
    # The run's journal folded once, then only what was appended since the last projection.
    with folded(journal, record) as fold:
        left = remaining_of(learned.fitted.models, fold.timeline, time.time(), samples=samples)
        passed, hold = fold.marks.of(runway.DURATION)
        resources = (
            runway.resource_runways(plan, learned.history, fold.state, fold.marks)
            if plan.budget.resources
            else []
        )
    found = runway.runway_of(plan.budget, left.elapsed, left.estimate.p50, left.p90, passed, hold)
    return Projection(plan, learned, left, found, resources)


def duration_runway(found: runway.Runway, left: Remaining) -> RunRunway:
    """The duration budget's runway with its state and the projected total's 90 % interval
    (work so far plus the remaining time's interval)."""
    return RunRunway.model_validate(
        {
            **found.as_dict(),
            "state": runway.runway_state(found),
            "low": round(found.used + left.estimate.low, 3),
            "high": round(found.used + left.estimate.high, 3),
        }
    )


def resource_runway(found: runway.ResourceRunway) -> RunResourceRunway:
    """A resource budget's runway with its state and the projected total's 90 % interval."""
    low, high = found.interval
    return RunResourceRunway.model_validate(
        {
            **found.as_dict(),
            "state": runway.runway_state(found.runway),
            "low": round(low, 3),
            "high": round(high, 3),
        }
    )


def run_estimate(
    journal: JournalStore,
    record: RunRecord,
    *,
    limit: int = HISTORY,
    samples: int = DEFAULT_SAMPLES,
) -> RunEstimate:
    """``GET …/estimate``'s answer; the dashboard's runway panel renders it (with fewer
    ``samples``: it is projected again every few seconds)."""
    p = run_projection(journal, record, limit=limit, samples=samples)
    resources = p.resources
    left, fitted = p.left, p.learned.fitted
    return RunEstimate(
        run_id=record.id,
        plan=record.plan_name,
        status=record.status,
        remaining=interval(left.estimate),
        total=interval(p.learned.total()),
        elapsed=left.elapsed,
        waited=left.waited,
        phases=left.phases,  # type: ignore[arg-type]
        overdue=left.overdue,
        admitted=len(fitted.admission.admitted),
        runway=duration_runway(p.runway, left) if p.runway is not None else None,
        resources=[resource_runway(r) for r in resources],
    )
