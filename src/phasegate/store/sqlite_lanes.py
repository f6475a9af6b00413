"""Lanes in the SQLite journal (``SqliteStore``'s part of the contract; store/lanes.py).

A grant is one ``BEGIN IMMEDIATE`` transaction: SQLite's single writer is the lock that makes
"read the tickets, decide, mark the granted ones" atomic between every process on the file,
so two servers on one state directory never exceed a cap."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from phasegate.lanes.model import Lane, LaneChange, Ticket
from phasegate.store.lanes import (
    CHANGE_COLUMNS,
    INSERT_TICKET,
    LANE_COLUMNS,
    PLACE,
    SELECT_TICKET,
    TICKET_COLUMNS,
    Held,
    change_from_row,
    check_priority,
    check_setting,
    grant_time,
    insert_args,
    lane_from_row,
    new_setting,
    place_args,
    read_candidates,
    settle,
    ticket_from_row,
    ticket_keys,
)
from phasegate.store.sqlite_views import reads


class SqliteLanes:
    """Mixed into ``SqliteStore``: it uses its connection and ``write``."""

    db: sqlite3.Connection
    path: Path

    if TYPE_CHECKING:

        def write(self, durable: bool = True) -> AbstractContextManager[sqlite3.Connection]: ...

    _has_lanes = False

    def _lanes_exist(self) -> bool:
        """A journal opened read-only before migration 5 (lane_slots) shows no lanes."""
        if not self._has_lanes:
            found = self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lane_slots'"
            ).fetchone()
            self._has_lanes = found is not None
        return self._has_lanes

    @reads
    def lanes(self) -> list[Lane]:
        if not self._lanes_exist():
            return []
        rows = self.db.execute(f"SELECT {LANE_COLUMNS} FROM lanes ORDER BY name").fetchall()
        return [lane_from_row(row) for row in rows]

    def set_lane(
        self, name: str, *, cap: int | None, weight: float | None, by: str, ts: float
    ) -> LaneChange:
        check_setting(name, cap, weight)
        with self.write() as db:
            row = db.execute(f"SELECT {LANE_COLUMNS} FROM lanes WHERE name = ?", (name,))
            found = row.fetchone()
            lane, change = new_setting(
                None if found is None else lane_from_row(found), name, cap, weight, by, ts
            )
            db.execute(
                "INSERT OR REPLACE INTO lanes (name, cap, weight, updated_at, updated_by)"
                " VALUES (?,?,?,?,?)",
                (lane.name, lane.cap, lane.weight, lane.updated_at, lane.updated_by),
            )
            db.execute(
                f"INSERT INTO lane_changes ({CHANGE_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
                (
                    change.lane,
                    change.cap,
                    change.weight,
                    change.previous_cap,
                    change.previous_weight,
                    change.by,
                    change.at,
                ),
            )
        return change

    @reads
    def lane_changes(self, *, lane: str | None = None, limit: int = 50) -> list[LaneChange]:
        if not self._lanes_exist():
            return []
        query = f"SELECT {CHANGE_COLUMNS} FROM lane_changes"
        args: tuple[object, ...] = ()
        if lane is not None:
            query += " WHERE lane = ?"
            args = (lane,)
        rows = self.db.execute(query + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [change_from_row(row) for row in rows.fetchall()]

    @reads
    def lane_tickets(self) -> list[Ticket]:
        if not self._lanes_exist():
            return []
        rows = self.db.execute(
            f"SELECT {TICKET_COLUMNS} FROM lane_slots ORDER BY enqueued_at, run_id, phase"
        )
        return [ticket_from_row(row) for row in rows.fetchall()]

    @reads
    def lane_place(self, run_id: str, *, phase: str = "") -> tuple[Ticket, int] | None:
        if not self._lanes_exist():
            return None
        row = self.db.execute(SELECT_TICKET.format(p="?"), (run_id, phase)).fetchone()
        if row is None:
            return None
        ticket = ticket_from_row(row)
        if ticket.granted:
            return ticket, 0
        ahead = self.db.execute(PLACE.format(p="?"), place_args(ticket)).fetchone()
        return ticket, int(ahead[0]) + 1

    def lane_request(
        self,
        run_id: str,
        lane: str,
        *,
        ts: float | None = None,
        phase: str = "",
        priority: int = 0,
    ) -> Ticket:
        check_priority(priority)
        # synchronous=NORMAL: a grant survives a killed process; the run's next durable
        # entry (run.dequeued, a step's start) fsyncs it before anything of the run executes.
        with self.write(durable=False) as db:
            ts = grant_time(ts)  # under the write lock: the instant the grant really happens
            db.execute(INSERT_TICKET.format(p="?"), insert_args(run_id, phase, lane, priority, ts))
            _grant(db, ts, keep=run_id)
            row = db.execute(SELECT_TICKET.format(p="?"), (run_id, phase)).fetchone()
        return ticket_from_row(row)

    def lane_grant(self, *, ts: float | None = None) -> None:
        if not self._lanes_exist():
            return
        with self.write(durable=False) as db:
            _grant(db, grant_time(ts), keep="")

    def lane_release(self, run_id: str, *, phase: str | None = None) -> None:
        with self.write() as db:
            if phase is None:
                db.execute("DELETE FROM lane_slots WHERE run_id = ?", (run_id,))
            else:
                db.execute("DELETE FROM lane_slots WHERE run_id = ? AND phase = ?", (run_id, phase))


def _grant(db: sqlite3.Connection, ts: float, *, keep: str) -> None:
    """One grant over every lane, in the caller's write transaction (store/lanes.py)."""
    settings = {
        found.name: found
        for found in map(lane_from_row, db.execute(f"SELECT {LANE_COLUMNS} FROM lanes"))
    }
    held = read_candidates(lambda sql, args: db.execute(sql, args).fetchall(), "?")
    granted, stale = settle(settings, held, keep=keep, dead=_dead_here)
    db.executemany(
        "DELETE FROM lane_slots WHERE run_id = ? AND phase = ?", ticket_keys(held, stale)
    )
    db.executemany(
        "UPDATE lane_slots SET granted_at = ? WHERE run_id = ? AND phase = ?",
        [(ts, *key) for key in ticket_keys(held, granted)],
    )


def _dead_here(held: Held) -> bool:
    """SQLite judges owners on this host only (another host's owner cannot be judged)."""
    return held.owner is not None and held.owner.alive() is False
