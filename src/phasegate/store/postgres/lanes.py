"""Lanes in the PostgreSQL store (``PostgresStore``'s part of the contract; store/lanes.py).

A grant is one transaction that first takes ``LANES_KEY``, a transaction-scoped advisory
lock: grants from every server and worker on the database happen one after another, each
reading the tickets the previous one committed, so no cap is ever exceeded. Stale tickets are
judged as ``abandoned`` judges owners: no session holds the run's ownership lock (its owner
died on any host, or released the run unfinished)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import psycopg

from phasegate.lanes.model import Lane, LaneChange, Ticket
from phasegate.store.lanes import (
    CHANGE_COLUMNS,
    LANE_COLUMNS,
    PLACE,
    TICKET_COLUMNS,
    Held,
    change_from_row,
    check_setting,
    grant_time,
    lane_from_row,
    new_setting,
    place_args,
    read_candidates,
    settle,
    ticket_from_row,
)
from phasegate.store.postgres.connection import pg_errors
from phasegate.store.postgres.ownership import held_keys, lock_parts, run_key
from phasegate.store.postgres.schema import LANES_KEY

Conn = psycopg.Connection[tuple[Any, ...]]
_PLACES = ", ".join(["%s"] * 7)
_INSERT_CHANGE = f"INSERT INTO lane_changes ({CHANGE_COLUMNS}) VALUES ({_PLACES})".encode()


class PostgresLanes:
    """Mixed into ``PostgresStore``: it uses its ``db``, ``write`` and ``_owns``."""

    if TYPE_CHECKING:

        @property
        def db(self) -> Conn: ...

        def write(self, durable: bool = True) -> AbstractContextManager[Conn]: ...

        def _owns(self, run_id: str) -> bool: ...

    @pg_errors
    def lanes(self) -> list[Lane]:
        query = f"SELECT {LANE_COLUMNS} FROM lanes ORDER BY name"
        return [lane_from_row(row) for row in self.db.execute(query.encode()).fetchall()]

    def set_lane(
        self, name: str, *, cap: int | None, weight: float | None, by: str, ts: float
    ) -> LaneChange:
        check_setting(name, cap, weight)
        with self.write() as db:
            # Under the grant lock: a change and a grant never interleave.
            db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LANES_KEY,))
            query = f"SELECT {LANE_COLUMNS} FROM lanes WHERE name = %s"
            found = db.execute(query.encode(), (name,)).fetchone()
            lane, change = new_setting(
                None if found is None else lane_from_row(found), name, cap, weight, by, ts
            )
            db.execute(
                b"INSERT INTO lanes (name, cap, weight, updated_at, updated_by)"
                b" VALUES (%s,%s,%s,%s,%s) ON CONFLICT (name) DO UPDATE SET cap = EXCLUDED.cap,"
                b" weight = EXCLUDED.weight, updated_at = EXCLUDED.updated_at,"
                b" updated_by = EXCLUDED.updated_by",
                (lane.name, lane.cap, lane.weight, lane.updated_at, lane.updated_by),
            )
            db.execute(
                _INSERT_CHANGE,
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

    @pg_errors
    def lane_changes(self, *, lane: str | None = None, limit: int = 50) -> list[LaneChange]:
        query = f"SELECT {CHANGE_COLUMNS} FROM lane_changes"
        args: tuple[object, ...] = ()
        if lane is not None:
            query += " WHERE lane = %s"
            args = (lane,)
        query += " ORDER BY id DESC LIMIT %s"
        rows = self.db.execute(query.encode(), (*args, limit)).fetchall()
        return [change_from_row(row) for row in rows]

    @pg_errors
    def lane_tickets(self) -> list[Ticket]:
        query = f"SELECT {TICKET_COLUMNS} FROM lane_tickets ORDER BY enqueued_at, run_id"
        return [ticket_from_row(row) for row in self.db.execute(query.encode()).fetchall()]

    @pg_errors
    def lane_place(self, run_id: str) -> tuple[Ticket, int] | None:
        query = f"SELECT {TICKET_COLUMNS} FROM lane_tickets WHERE run_id = %s"
        row = self.db.execute(query.encode(), (run_id,)).fetchone()
        if row is None:
            return None
        ticket = ticket_from_row(row)
        if ticket.granted:
            return ticket, 0
        ahead = self.db.execute(PLACE.format(p="%s").encode(), place_args(ticket)).fetchone()
        return ticket, (0 if ahead is None else int(ahead[0])) + 1

    def lane_request(self, run_id: str, lane: str, *, ts: float | None = None) -> Ticket:
        # Asynchronous commit: the run's next durable entry (run.dequeued, a step's start)
        # flushes the WAL up to it before anything of the run executes.
        with self.write(durable=False) as db:
            # Fetched, not only sent (the write is pipelined): the grant's time is read once
            # the lock is really held, after every earlier grant and slot release committed.
            db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LANES_KEY,)).fetchone()
            ts = grant_time(ts)
            db.execute(
                b"INSERT INTO lane_tickets (run_id, lane, enqueued_at) VALUES (%s,%s,%s)"
                b" ON CONFLICT (run_id) DO NOTHING",
                (run_id, lane, ts),
            )
            settings = {
                found.name: found
                for found in map(
                    lane_from_row,
                    db.execute(f"SELECT {LANE_COLUMNS} FROM lanes".encode()).fetchall(),
                )
            }
            held = read_candidates(
                lambda sql, args: db.execute(sql.encode(), args).fetchall(), "%s"
            )
            locks: list[set[tuple[int, int]]] = []  # the held session locks, read once if needed

            def dead(h: Held) -> bool:
                other = h.ticket.run_id
                if self._owns(other):  # this session holds its lock: the recorded pid decides
                    return h.owner is not None and h.owner.alive() is False
                if not locks:
                    locks.append(held_keys(db))
                return lock_parts(run_key(other)) not in locks[0]

            granted, stale = settle(settings, held, keep=run_id, dead=dead)
            if stale:
                db.execute(b"DELETE FROM lane_tickets WHERE run_id = ANY(%s)", (stale,))
            if granted:
                db.execute(
                    b"UPDATE lane_tickets SET granted_at = %s WHERE run_id = ANY(%s)",
                    (ts, granted),
                )
            query = f"SELECT {TICKET_COLUMNS} FROM lane_tickets WHERE run_id = %s"
            row = db.execute(query.encode(), (run_id,)).fetchone()
        assert row is not None
        return ticket_from_row(row)

    def lane_release(self, run_id: str) -> None:
        with self.write() as db:
            db.execute(b"DELETE FROM lane_tickets WHERE run_id = %s", (run_id,))
