"""Lanes over the API (docs/lanes.md): ``GET /api/v1/portfolio`` (any role: per lane cap,
running, queued, utilization, oldest wait, starving; and the queued runs), ``GET
/api/v1/lanes/history`` (any role) and ``PUT /api/v1/lanes/{name}`` (operator or admin: a cap
and weight, recorded with the caller's name). The same figures as ``phasegate lane list``, the
dashboard's portfolio page and the ``phasegate_lane_*`` metrics (lanes/portfolio.py)."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from phasegate.lanes import AGING, LaneChange, portfolio, valid_lane_name
from phasegate.lanes.portfolio import STARVING_AFTER
from phasegate.server.api.deps import store
from phasegate.server.auth import Identity, require
from phasegate.server.errors import ERROR_RESPONSES, ApiError
from phasegate.store.contract import JournalStore
from phasegate.store.lanes import MAX_CAP

router = APIRouter(prefix="/api/v1", tags=["lanes"], responses=ERROR_RESPONSES)

viewer_role = Depends(require("viewer"))
operator_role = Depends(require("operator"))
the_store = Depends(store)


class LaneView(BaseModel):
    lane: str
    cap: int | None = Field(description="runs of the lane executing at once; null: no cap")
    weight: float
    running: int
    queued: int
    utilization: float | None = Field(description="running / cap; null without a cap")
    oldest_wait: float | None = Field(description="seconds the oldest queued run has waited")
    starving: bool = Field(description="runs queued, the oldest for starving_after or more")


class QueuedRun(BaseModel):
    run_id: str
    phase: str = Field("", description="the phase whose `lane:` it waits for; '': the run's")
    lane: str
    enqueued_at: float
    waited: float


class Portfolio(BaseModel):
    at: float
    aging: float = Field(description="seconds of waiting worth one slot of share")
    starving_after: float
    lanes: list[LaneView]
    queued: list[QueuedRun] = Field(description="runs waiting for a slot, oldest first")


class LaneSetting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max: int = Field(ge=0, le=MAX_CAP, description="the cap: runs of the lane executing at once")
    weight: float | None = Field(None, gt=0, description="share of the pool; null: keep")


class LaneChangeView(BaseModel):
    lane: str
    cap: int | None
    weight: float
    previous_cap: int | None
    previous_weight: float | None
    by: str
    at: float


def _change(change: LaneChange) -> LaneChangeView:
    return LaneChangeView(
        lane=change.lane,
        cap=change.cap,
        weight=change.weight,
        previous_cap=change.previous_cap,
        previous_weight=change.previous_weight,
        by=change.by,
        at=change.at,
    )


@router.get("/portfolio", response_model=Portfolio)
def get_portfolio(
    identity: Identity = viewer_role,
    journal: JournalStore = the_store,
) -> Portfolio:
    """Every lane with a setting or a run: cap, weight, running, queued, utilization, oldest
    wait, starving (``*``, the pool, first); and the queued runs. Any role."""
    now = time.time()
    tickets = journal.lane_tickets()
    figures = portfolio(journal.lanes(), tickets, now)
    return Portfolio(
        at=now,
        aging=AGING,
        starving_after=STARVING_AFTER,
        lanes=[LaneView.model_validate(f.as_json()) for f in figures],
        queued=[
            QueuedRun(
                run_id=t.run_id,
                phase=t.phase,
                lane=t.lane,
                enqueued_at=t.enqueued_at,
                waited=now - t.enqueued_at,
            )
            for t in tickets
            if not t.granted
        ],
    )


@router.get("/lanes/history", response_model=list[LaneChangeView])
def lane_history(
    lane: str | None = Query(None, description="one lane's changes"),
    limit: int = Query(50, ge=1, le=1000),
    identity: Identity = viewer_role,
    journal: JournalStore = the_store,
) -> list[LaneChangeView]:
    """Changes of caps and weights, newest first, with who made them. Any role."""
    return [_change(c) for c in journal.lane_changes(lane=lane, limit=limit)]


@router.put("/lanes/{name}", response_model=LaneChangeView)
def set_lane(
    name: str,
    body: LaneSetting,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
) -> LaneChangeView:
    """Set a lane's cap (and weight) for every server and worker on the store, now: runs
    holding a slot keep it, new grants hold the new cap. ``*`` is the pool. Recorded with the
    caller's name. Operator or admin."""
    if not valid_lane_name(name, pool=True):
        raise ApiError(
            422,
            "invalid_request",
            f"{name!r} is not a lane name",
            hint="letters, digits, '_', '.', '-' (as a plan's `lane:`), or '*' for the pool",
        )
    change = journal.set_lane(
        name, cap=body.max, weight=body.weight, by=identity.actor, ts=time.time()
    )
    return _change(change)
