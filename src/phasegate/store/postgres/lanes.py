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
        query = f"SELECT {TICKET_COLUMNS} FROM lane_slots ORDER BY enqueued_at, run_id, phase"
        return [ticket_from_row(row) for row in self.db.execute(query.encode()).fetchall()]

    @pg_errors
    def lane_place(self, run_id: str, *, phase: str = "") -> tuple[Ticket, int] | None:
        row = self.db.execute(SELECT_TICKET.format(p="%s").encode(), (run_id, phase)).fetchone()
        if row is None:
            return None
        ticket = ticket_from_row(row)
        if ticket.granted:
            return ticket, 0
        ahead = self.db.execute(PLACE.format(p="%s").encode(), place_args(ticket)).fetchone()
        return ticket, (0 if ahead is None else int(ahead[0])) + 1

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
        # Asynchronous commit: the run's next durable entry (run.dequeued, a step's start)
        # flushes the WAL up to it before anything of the run executes.
        with self.write(durable=False) as db:
            # Fetched, not only sent (the write is pipelined): the grant's time is read once
            # the lock is really held, after every earlier grant and slot release committed.
            db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LANES_KEY,)).fetchone()
            db.execute(
                INSERT_TICKET.format(p="%s").encode(),
                insert_args(run_id, phase, lane, priority, grant_time(ts)),
            )
            self._grant(db, ts, keep=run_id)
            row = db.execute(SELECT_TICKET.format(p="%s").encode(), (run_id, phase)).fetchone()
        assert row is not None
        return ticket_from_row(row)

    def lane_grant(self, *, ts: float | None = None) -> None:
        with self.write(durable=False) as db:
            db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LANES_KEY,)).fetchone()
            self._grant(db, ts, keep="")

    def _grant(self, db: Any, ts: float | None, *, keep: str) -> None:
        """One grant over every lane, in the caller's transaction, under ``LANES_KEY``.

        The grant's instant is read after the slots are: a run's end frees its slot in the
        transaction that journals it, without ``LANES_KEY`` (store.py ``append``), so it may
        commit while this transaction waits; read before, a grant that saw it could be stamped
        earlier than the end it followed (one slot held twice, as the journal tells it)."""
        settings = {
            found.name: found
            for found in map(
                lane_from_row,
                db.execute(f"SELECT {LANE_COLUMNS} FROM lanes".encode()).fetchall(),
            )
        }
        held = read_candidates(lambda sql, args: db.execute(sql.encode(), args).fetchall(), "%s")
        locks: list[set[tuple[int, int]]] = []  # the held session locks, read once if needed

        def dead(h: Held) -> bool:
            other = h.ticket.run_id
            if self._owns(other):  # this session holds its lock: the recorded pid decides
                return h.owner is not None and h.owner.alive() is False
            if not locks:
                locks.append(held_keys(db))
            return lock_parts(run_key(other)) not in locks[0]

        granted, stale = settle(settings, held, keep=keep, dead=dead)
        at = grant_time(ts)
        for key in ticket_keys(held, stale):
            db.execute(b"DELETE FROM lane_slots WHERE run_id = %s AND phase = %s", key)
        for key in ticket_keys(held, granted):
            db.execute(
                b"UPDATE lane_slots SET granted_at = %s WHERE run_id = %s AND phase = %s",
                (at, *key),
            )

    def lane_release(self, run_id: str, *, phase: str | None = None) -> None:
        with self.write() as db:
            if phase is None:
                db.execute(b"DELETE FROM lane_slots WHERE run_id = %s", (run_id,))
            else:
                db.execute(
                    b"DELETE FROM lane_slots WHERE run_id = %s AND phase = %s", (run_id, phase)
                )
