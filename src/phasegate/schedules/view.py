"""A schedule as people read it (``schedule list|history``, ``GET /api/v1/schedules``, the
dashboard's schedules page): its rule in words, the next slot, the last slot and what it
became, the streak of passes, and its slots newest first with their runs' statuses. One
definition, so the CLI, the API and the dashboard never disagree."""

from __future__ import annotations

from typing import TypedDict

from phasegate.errors import PhasegateError, RunNotFound
from phasegate.run.state import TERMINAL
from phasegate.schedules.rules import RuleSpec, ScheduleSpec, local, rule_from_spec, stored_spec
from phasegate.schedules.streak import streak
from phasegate.store.contract import JournalStore
from phasegate.store.schedules import ScheduleRecord, SlotRecord


class SlotRow(TypedDict):
    """A claimed slot: when, what it became, its run and the run's status."""

    slot: int  # epoch seconds
    at: str  # the slot in the schedule's timezone
    outcome: str
    run_id: str | None
    status: str | None  # the run's status (``gone``: removed); None: not asked or no run
    claimed_by: str
    note: str


class ScheduleRow(TypedDict):
    """A schedule as ``schedule list``, the API and the dashboard show it."""

    name: str
    plan: str | None
    rule: RuleSpec | None
    described: str
    timezone: str | None
    vars: dict[str, str]
    missed: str | None
    created_at: float
    created_by: str
    next: str | None
    last: SlotRow | None
    streak: int | None


class ScheduleHistory(TypedDict):
    name: str
    streak: int | None
    slots: list[SlotRow]


def schedule_row(store: JournalStore, record: ScheduleRecord, now: float) -> ScheduleRow:
    """One schedule: rule, next slot (in its timezone), last slot, streak. A rule that no
    longer parses is shown as ``invalid: why`` with no next slot, never an error."""
    spec = stored_spec(record.spec)
    try:
        rule = rule_from_spec(spec)
        following: str | None = local(rule.next_after(now), rule.timezone)
        described = rule.describe()
    except PhasegateError as exc:
        following, described = None, f"invalid: {exc.message}"
    last = store.slots(record.name, limit=1)
    return {
        "name": record.name,
        "plan": spec.get("plan"),
        "rule": spec.get("rule"),
        "described": described,
        "timezone": spec.get("timezone"),
        "vars": spec.get("vars") or {},
        "missed": spec.get("missed"),
        "created_at": record.created_at,
        "created_by": record.created_by,
        "next": following,
        "last": slot_row(last[0], spec) if last else None,
        "streak": streak(store, record.name, TERMINAL),
    }


def slot_row(slot: SlotRecord, spec: ScheduleSpec, status: str | None = None) -> SlotRow:
    return {
        "slot": slot.slot,
        "at": local(slot.slot, str(spec.get("timezone") or "UTC")),
        "outcome": slot.outcome,
        "run_id": slot.run_id,
        "status": status,
        "claimed_by": slot.claimed_by,
        "note": slot.note,
    }


def schedule_history(store: JournalStore, record: ScheduleRecord, limit: int) -> ScheduleHistory:
    """The schedule's slots, newest first (each fired slot with its run's status, ``gone``
    when the run was removed), and its streak."""
    slots = []
    for found in store.slots(record.name, limit=limit):
        status = None
        if found.run_id is not None:
            try:
                status = store.get_run(found.run_id).status
            except RunNotFound:
                status = "gone"
        slots.append(slot_row(found, stored_spec(record.spec), status))
    return {"name": record.name, "streak": streak(store, record.name, TERMINAL), "slots": slots}
