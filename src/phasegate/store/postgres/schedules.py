"""Schedules in the PostgreSQL store (``PostgresStore``'s part of the contract;
store/schedules.py).

Claiming a slot is one ``INSERT … ON CONFLICT DO NOTHING`` on the primary key ``(schedule,
slot)``: of racing servers, PostgreSQL lets one insert through; the others wait for its
commit, then find the row and insert nothing (``RETURNING`` tells who won). The claim commits
with ``synchronous_commit = on`` (a durable write): a claimed slot is never claimed again
after a database crash.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg

from phasegate.store.postgres.connection import pg_errors
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

Conn = psycopg.Connection[tuple[Any, ...]]


class PostgresSchedules:
    """Mixed into ``PostgresStore``, after ``PostgresViews``: it uses their ``db`` and
    ``write`` (declared here for the type checker only, so nothing here shadows them)."""

    location: str

    if TYPE_CHECKING:

        @property
        def db(self) -> Conn: ...

        def write(self, durable: bool = True) -> AbstractContextManager[Conn]: ...

    def add_schedule(self, record: ScheduleRecord) -> bool:
        with self.write() as db:
            row = db.execute(
                b"INSERT INTO schedules (name, spec, created_at, created_by)"
                b" VALUES (%s,%s,%s,%s) ON CONFLICT (name) DO NOTHING RETURNING 1",
                (record.name, dump_spec(record.spec), record.created_at, record.created_by),
            ).fetchone()
            return row is not None

    @pg_errors
    def schedules(self) -> list[ScheduleRecord]:
        query = f"SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY name"
        return [schedule_from_row(row) for row in self.db.execute(query.encode()).fetchall()]

    @pg_errors
    def schedule_named(self, name: str) -> ScheduleRecord | None:
        query = f"SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE name = %s"
        row = self.db.execute(query.encode(), (name,)).fetchone()
        return None if row is None else schedule_from_row(row)

    def remove_schedule(self, name: str) -> bool:
        with self.write() as db:
            db.execute(b"DELETE FROM schedule_slots WHERE schedule = %s", (name,))
            row = db.execute(
                b"DELETE FROM schedules WHERE name = %s RETURNING 1", (name,)
            ).fetchone()
            return row is not None

    def claim_slot(self, name: str, slot: int, *, by: str, ts: float) -> bool:
        with self.write() as db:
            row = db.execute(
                b"INSERT INTO schedule_slots (schedule, slot, claimed_at, claimed_by, outcome)"
                b" SELECT %s, %s, %s, %s, %s WHERE EXISTS"
                b" (SELECT 1 FROM schedules WHERE name = %s)"
                b" ON CONFLICT (schedule, slot) DO NOTHING RETURNING 1",
                (name, int(slot), ts, by, CLAIMED, name),
            ).fetchone()
            return row is not None

    def record_slot(
        self, name: str, slot: int, *, outcome: str, run_id: str | None = None, note: str = ""
    ) -> None:
        # Asynchronous commit: the claim was durable; a database crash may lose only this
        # record, and the run it names carries its slot in its options anyway.
        with self.write(durable=False) as db:
            db.execute(
                b"UPDATE schedule_slots SET outcome = %s, run_id = %s, note = %s"
                b" WHERE schedule = %s AND slot = %s",
                (outcome, run_id, note, name, int(slot)),
            )

    @pg_errors
    def slots(self, name: str, *, limit: int = 50) -> list[SlotRecord]:
        query = (
            f"SELECT {SLOT_COLUMNS} FROM schedule_slots WHERE schedule = %s"
            " ORDER BY slot DESC LIMIT %s"
        )
        rows = self.db.execute(query.encode(), (name, limit)).fetchall()
        return [slot_from_row(row) for row in rows]
