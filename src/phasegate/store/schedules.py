"""Schedules as the store keeps them: a schedule's definition, and one row per slot a server
claimed for it (store/contract.py, ``JournalStore`` "schedules").

A *slot* is an instant a schedule's rule names (whole seconds since the epoch). Claiming it is
how several servers on one store agree that exactly one of them handles it: the first
``claim_slot`` of ``(schedule, slot)`` wins, every later one, in any process, loses. The row
then records what the winner did (``record_slot``): the run it started, or why none.

The definition is kept as one JSON document (``ScheduleRecord.spec``), so adding an option
to schedules needs no migration; the store never interprets it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phasegate.run.record import JsonDict

# What a claimed slot became (``SlotRecord.outcome``).
CLAIMED = "claimed"  # claimed; the claimer has not recorded anything yet (or died meanwhile)
FIRED = "fired"  # a run was started for it (``run_id``)
MISSED = "missed"  # due while no server ran; not fired (``missed: skip``)
SKIPPED = "skipped"  # due, but the plan's lock was held (its previous run still going)
ERROR = "error"  # due, but no run could start (the plan no longer loads…): ``note`` says why
OUTCOMES = (CLAIMED, FIRED, MISSED, SKIPPED, ERROR)


@dataclass(frozen=True)
class ScheduleRecord:
    name: str
    spec: JsonDict  # plan, rule, timezone, vars, missed (schedules/spec.py)
    created_at: float
    created_by: str


@dataclass(frozen=True)
class SlotRecord:
    schedule: str
    slot: int  # the slot's instant, epoch seconds
    claimed_at: float
    claimed_by: str  # host:pid of the server that claimed it
    outcome: str
    run_id: str | None = None
    note: str = ""


def dump_spec(spec: Mapping[str, object]) -> str:
    return json.dumps(spec, sort_keys=True, ensure_ascii=False)


def schedule_from_row(row: tuple[Any, ...]) -> ScheduleRecord:
    """``(name, spec, created_at, created_by)``."""
    return ScheduleRecord(str(row[0]), json.loads(row[1]), float(row[2]), str(row[3]))


def slot_from_row(row: tuple[Any, ...]) -> SlotRecord:
    """``SLOT_COLUMNS``."""
    return SlotRecord(
        schedule=str(row[0]),
        slot=int(row[1]),
        claimed_at=float(row[2]),
        claimed_by=str(row[3]),
        outcome=str(row[4]),
        run_id=None if row[5] is None else str(row[5]),
        note=str(row[6] or ""),
    )


SCHEDULE_COLUMNS = "name, spec, created_at, created_by"
SLOT_COLUMNS = "schedule, slot, claimed_at, claimed_by, outcome, run_id, note"
