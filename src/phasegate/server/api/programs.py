"""``/api/v1/programs``: a program run's next actionable child (``phasegate next RUN``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from phasegate.engine.programview import NextAnswer, next_for_run
from phasegate.errors import UsageError
from phasegate.server.api.deps import store
from phasegate.server.auth import Identity, require
from phasegate.server.errors import ERROR_RESPONSES
from phasegate.server.passthrough import ApiJson
from phasegate.store.contract import JournalStore

router = APIRouter(prefix="/api/v1/programs", tags=["programs"], responses=ERROR_RESPONSES)

viewer = Depends(require("viewer"))
the_store = Depends(store)


@router.get("/{run_id}/next", response_model=ApiJson)
def next_child(
    run_id: str,
    all_: bool = Query(False, alias="all", description="every actionable child"),
    blocked: bool = Query(False, description="also each blocked child with its blockers"),
    at: Annotated[
        datetime | None,
        Query(description="judge the change windows at this ISO 8601 instant (default: now)"),
    ] = None,
    _: Identity = viewer,
    journal: JournalStore = the_store,
) -> NextAnswer:
    """The program run's next actionable child: the first, in dependency order, whose needs
    succeeded and whose readiness passes now (evaluated for this request)."""
    if at is not None and at.tzinfo is None:
        raise UsageError(
            f"at={at.isoformat()} has no UTC offset", hint="e.g. at=2026-12-07T14:00:00Z"
        )
    data = next_for_run(journal, run_id, {}, at)
    if not all_:
        data["actionable"] = data["actionable"][:1]
    if not blocked:
        data.pop("blocked")
    return data
