"""A schedule as people read it (``schedule list|history``, ``GET /api/v1/schedules``, the
dashboard's schedules page): its rule in words, the next slot, the last slot and what it
became, the streak of passes, and its slots newest first with their runs' statuses. One
definition, so the CLI, the API and the dashboard never disagree."""

from __future__ import annotations

from typing import Any

from phasegate.errors import PhasegateError, RunNotFound
from phasegate.run.state import TERMINAL
from phasegate.schedules.rules import local, rule_from_spec
from phasegate.schedules.streak import streak
from phasegate.store.contract import JournalStore
from phasegate.store.schedules import ScheduleRecord, SlotRecord


def schedule_row(store: JournalStore, record: ScheduleRecord, now: float) -> dict[str, Any]:
    """One schedule: rule, next slot (in its timezone), last slot, streak. A rule that no
    longer parses is shown as ``invalid: why`` with no next slot, never an error."""
    spec = record.spec
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


def slot_row(slot: SlotRecord, spec: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    return {
        "slot": slot.slot,
        "at": local(slot.slot, str(spec.get("timezone") or "UTC")),
        "outcome": slot.outcome,
        "run_id": slot.run_id,
        "status": status,
        "claimed_by": slot.claimed_by,
        "note": slot.note,
    }


def schedule_history(store: JournalStore, record: ScheduleRecord, limit: int) -> dict[str, Any]:
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
        slots.append(slot_row(found, record.spec, status))
    return {"name": record.name, "streak": streak(store, record.name, TERMINAL), "slots": slots}
