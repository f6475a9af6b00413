"""Schedules as the server fires them (``GET /api/v1/schedules``, ``GET
/api/v1/schedules/{name}``), for viewers and up: the same rows `phasegate schedule list` and
`schedule history` print (schedules/view.py). Adding and removing schedules stays on the
command line, where the plan file is read and checked."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from phasegate.masking import MASK
from phasegate.schedules.view import ScheduleRow, schedule_history, schedule_row
from phasegate.server.api.deps import store
from phasegate.server.auth import Identity, require
from phasegate.server.errors import ERROR_RESPONSES, ApiError
from phasegate.store.contract import JournalStore

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"], responses=ERROR_RESPONSES)

viewer = Depends(require("viewer"))
the_store = Depends(store)


class Slot(BaseModel):
    slot: int
    at: str
    outcome: str
    run_id: str | None
    status: str | None
    claimed_by: str
    note: str


class RuleOut(BaseModel):
    kind: Literal["cron", "every", "calendar"]
    text: str = Field(description="as written")


class Schedule(BaseModel):
    name: str
    plan: str | None
    rule: RuleOut | None
    described: str
    timezone: str | None
    vars: dict[str, str]
    missed: str | None
    created_at: float
    created_by: str
    next: str | None
    last: Slot | None
    streak: int | None


class ScheduleHistory(Schedule):
    slots: list[Slot]


def _named(journal: JournalStore, name: str) -> Any:
    record = journal.schedule_named(name)
    if record is None:
        raise ApiError(
            404, "not_found", f"no schedule {name!r}", hint="GET /api/v1/schedules lists them"
        )
    return record


def _masked(row: ScheduleRow) -> ScheduleRow:
    # A schedule's vars were refused at `add` when secret; a value that looks like one is
    # still not shown to a viewer.
    names = ("TOKEN", "PASSWORD", "PASSWD", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY")
    row["vars"] = {
        k: MASK if any(n in k.upper() for n in names) else v for k, v in row["vars"].items()
    }
    return row


@router.get("", response_model=list[Schedule])
def schedules(_: Identity = viewer, journal: JournalStore = the_store) -> list[Schedule]:
    """Every schedule: its rule, next slot (in its timezone), last slot and streak."""
    now = time.time()
    return [
        Schedule.model_validate(_masked(schedule_row(journal, record, now)))
        for record in journal.schedules()
    ]


@router.get("/{name}", response_model=ScheduleHistory)
def schedule(
    name: str,
    limit: int = Query(50, ge=1, le=1000, description="slots, newest first"),
    _: Identity = viewer,
    journal: JournalStore = the_store,
) -> ScheduleHistory:
    """One schedule and its slots, newest first: each fired slot with its run and status."""
    record = _named(journal, name)
    row = _masked(schedule_row(journal, record, time.time()))
    return ScheduleHistory.model_validate({**row, **schedule_history(journal, record, limit)})
