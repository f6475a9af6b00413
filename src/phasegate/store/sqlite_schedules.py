"""Schedules in the SQLite journal (``SqliteStore``'s part of the contract;
store/schedules.py). Every write is one ``BEGIN IMMEDIATE`` transaction, so a slot's
claim is decided by SQLite's single writer: the primary key ``(schedule, slot)`` lets one
insert through, the others find the row and insert nothing."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from phasegate.store.schedules import (
    CLAIMED,
    SCHEDULE_COLUMNS,
    SLOT_COLUMNS,
    ScheduleRecord,
    SlotRecord,
    dump_spec,
    schedule_from_row,
    slot_from_row,
)
from phasegate.store.sqlite_views import reads


class SqliteSchedules:
    """Mixed into ``SqliteStore``: it uses its connection and ``write`` (declared here for the
    type checker only, so nothing here shadows them)."""

    db: sqlite3.Connection
    path: Path

    if TYPE_CHECKING:

        def write(self, durable: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...

    _has_schedules = False

    def _schedules_exist(self) -> bool:
        """A journal opened read-only before migration 2 has no schedule tables: it has no
        schedules (migrations.ADDITIVE). Once seen, the tables stay."""
        if not self._has_schedules:
            found = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schedule_slots'"
            ).fetchone()
            self._has_schedules = found is not None
        return self._has_schedules

    def add_schedule(self, record: ScheduleRecord) -> bool:
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO schedules (name, spec, created_at, created_by) VALUES (?,?,?,?)"
                " ON CONFLICT (name) DO NOTHING",
                (record.name, dump_spec(record.spec), record.created_at, record.created_by),
            )
            return cursor.rowcount == 1

    @reads
    def schedules(self) -> list[ScheduleRecord]:
        if not self._schedules_exist():
            return []
        rows = self.db.execute(f"SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY name")
        return [schedule_from_row(row) for row in rows.fetchall()]

    @reads
    def schedule_named(self, name: str) -> ScheduleRecord | None:
        if not self._schedules_exist():
            return None
        row = self.db.execute(
            f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else schedule_from_row(row)

    def remove_schedule(self, name: str) -> bool:
        with self.write() as db:
            db.execute("DELETE FROM schedule_slots WHERE schedule = ?", (name,))
            return db.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount == 1

    def claim_slot(self, name: str, slot: int, *, by: str, ts: float) -> bool:
        with self.write() as db:
            cursor = db.execute(
                "INSERT INTO schedule_slots (schedule, slot, claimed_at, claimed_by, outcome)"
                " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM schedules WHERE name = ?)"
                " ON CONFLICT (schedule, slot) DO NOTHING",
                (name, int(slot), ts, by, CLAIMED, name),
            )
            return cursor.rowcount == 1

    def record_slot(
        self, name: str, slot: int, *, outcome: str, run_id: str | None = None, note: str = ""
    ) -> None:
        # Not fsynced (synchronous=NORMAL): the claim was; power loss may lose only this
        # record, and the run it names carries its slot in its options anyway.
        with self.write(durable=False) as db:
            db.execute(
                "UPDATE schedule_slots SET outcome = ?, run_id = ?, note = ?"
                " WHERE schedule = ? AND slot = ?",
                (outcome, run_id, note, name, int(slot)),
            )

    @reads
    def slots(self, name: str, *, limit: int = 50) -> list[SlotRecord]:
        if not self._schedules_exist():
            return []
        rows = self.db.execute(
            f"SELECT {SLOT_COLUMNS} FROM schedule_slots WHERE schedule = ?"
            " ORDER BY slot DESC LIMIT ?",
            (name, limit),
        )
        return [slot_from_row(row) for row in rows.fetchall()]
