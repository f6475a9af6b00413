"""Lanes as the store keeps them (``JournalStore`` "lanes"; lanes/ has the values and the
scheduler): one row per lane setting, one per change (the audit trail: who set what), and one
ticket per run that asked for a slot.

The grant is the one write that must be atomic across servers: ``lane_request`` enqueues the
run's ticket, drops stale tickets, asks ``lanes.scheduler.grants`` and marks the granted
tickets, all in one transaction that excludes every other grant (SQLite: ``BEGIN IMMEDIATE``,
its single writer; PostgreSQL: a transaction-scoped advisory lock, ``LANES_KEY``; memory: the
store's mutex). Whoever asks grants for everybody: a run granted by another process's
transaction finds its ticket granted on its next ask.

A ticket is *stale* (its slot reclaimed, or its place in the queue dropped) when its run has
ended (also removed in the transaction that journals the end), or no live process owns it:
released unfinished (a paused run gives its slot back and queues again when resumed) or its
owner is dead, judged as ``abandoned`` judges owners (SQLite, memory: a dead pid on this host;
PostgreSQL: no session holds the run's ownership lock).
"""

from __future__ import annotations

from typing import Any

from phasegate.errors import UsageError
from phasegate.lanes.model import DEFAULT_WEIGHT, Lane, LaneChange, Ticket, valid_lane_name

LANE_COLUMNS = "name, cap, weight, updated_at, updated_by"
CHANGE_COLUMNS = "lane, cap, weight, previous_cap, previous_weight, changed_by, changed_at"
TICKET_COLUMNS = "run_id, lane, enqueued_at, granted_at"


def lane_from_row(row: tuple[Any, ...]) -> Lane:
    return Lane(
        name=str(row[0]),
        cap=None if row[1] is None else int(row[1]),
        weight=float(row[2]),
        updated_at=None if row[3] is None else float(row[3]),
        updated_by=None if row[4] is None else str(row[4]),
    )


def change_from_row(row: tuple[Any, ...]) -> LaneChange:
    return LaneChange(
        lane=str(row[0]),
        cap=None if row[1] is None else int(row[1]),
        weight=float(row[2]),
        previous_cap=None if row[3] is None else int(row[3]),
        previous_weight=None if row[4] is None else float(row[4]),
        by=str(row[5]),
        at=float(row[6]),
    )


def ticket_from_row(row: tuple[Any, ...]) -> Ticket:
    return Ticket(
        run_id=str(row[0]),
        lane=str(row[1]),
        enqueued_at=float(row[2]),
        granted_at=None if row[3] is None else float(row[3]),
    )


def new_setting(
    previous: Lane | None, name: str, cap: int | None, weight: float | None, by: str, ts: float
) -> tuple[Lane, LaneChange]:
    """The lane after ``set_lane`` and the change to record: a weight not given keeps the
    lane's (1 for a new lane)."""
    if weight is None:
        weight = previous.weight if previous is not None else DEFAULT_WEIGHT
    lane = Lane(name, cap, weight, ts, by)
    change = LaneChange(
        lane=name,
        cap=cap,
        weight=weight,
        previous_cap=None if previous is None else previous.cap,
        previous_weight=None if previous is None else previous.weight,
        by=by,
        at=ts,
    )
    return lane, change


def check_setting(name: str, cap: int | None, weight: float | None) -> None:
    """What every back end refuses before writing (the CLI and the API check first, with
    their own messages; this keeps the store's rows sane whoever calls)."""
    if not valid_lane_name(name, pool=True):
        raise UsageError(
            f"{name!r} is not a lane name",
            hint="letters, digits, '_', '.', '-' (or '*' for all lanes together)",
        )
    if cap is not None and cap < 0:
        raise UsageError(f"lane {name}: a cap is 0 or more, not {cap}")
    if weight is not None and not weight > 0:
        raise UsageError(f"lane {name}: a weight is more than 0, not {weight}")
