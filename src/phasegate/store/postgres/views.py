"""The PostgreSQL store's reads: runs by id, prefix, page and cursor, heads and markers, the
materialized rows ``phasegate check`` compares, and one consistent snapshot.

Each read is one statement (autocommit: it sees every transaction committed before it), except
inside ``snapshot()``: one ``REPEATABLE READ, READ ONLY`` transaction, so every read sees the
same moment while writers go on unseen and unblocked (PostgreSQL's MVCC, as SQLite's WAL read
transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from phasegate.errors import JournalDamaged, RunNotFound, StoreError
from phasegate.run.inputs import StoredRequest
from phasegate.run.state import Item, PhaseState, RunState
from phasegate.store.fold import replay
from phasegate.store.postgres.connection import connect, pg_errors, translate
from phasegate.store.records import (
    CHILD_KEY_PREFIX,
    RECORD_COLUMNS,
    RunHead,
    RunRecord,
    StoredEvent,
    record_from_row,
)

_HEAD_COLUMNS = "id, plan_name, status, created_at, updated_at, finished_at, last_seq"

Row = tuple[Any, ...]


class PostgresViews:
    url: str
    location: str  # the URL with its password masked: what messages say
    _state_dir: Path
    _conn: psycopg.Connection[Row]

    @property
    def state_dir(self) -> Path:
        return self._state_dir

    def failure(self, exc: psycopg.Error, *, writing: bool = False) -> StoreError:
        """A psycopg error of this store as phasegate's (connection.translate)."""
        return translate(exc, self.location, writing=writing)

    @property
    def db(self) -> psycopg.Connection[Row]:
        """The connection; a new one when the last was lost (a restarted server), so a
        long-lived reader (``phasegate serve``) recovers by itself. Never inside a
        transaction: one lost mid-transaction raised, and its transaction is gone."""
        if self._conn.closed:
            self._conn = connect(self.url, self.location)
        return self._conn

    def _one(self, query: str, args: tuple[Any, ...] = ()) -> Row | None:
        return self.db.execute(query.encode(), args).fetchone()

    def _all(self, query: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Row]:
        return self.db.execute(query.encode(), args).fetchall()

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        try:
            self.db.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except psycopg.Error as exc:
            raise self.failure(exc) from exc
        try:
            yield
        finally:
            if not self._conn.closed:
                try:
                    self._conn.execute(b"ROLLBACK")  # nothing was written: ending it is all
                except psycopg.Error as exc:
                    raise self.failure(exc) from exc

    # -- runs -----------------------------------------------------------------------------
    def _record(self, run_id: str) -> RunRecord | None:
        row = self._one(f"SELECT {RECORD_COLUMNS} FROM runs WHERE id = %s", (run_id,))
        return None if row is None else _record(self.location, row)

    @pg_errors
    def resolve(self, run_ref: str) -> str:
        if not run_ref.strip():
            # An empty prefix matches every run: never pick one for the operator.
            raise RunNotFound(
                "an empty run id names no run", hint="give a run id, a prefix of one, or `last`"
            )
        if run_ref in ("last", "latest"):
            # The newest run a user started; a child (its key names its program) only when
            # there is nothing else.
            row = self._one(
                "SELECT id FROM runs ORDER BY"
                " CASE WHEN idempotency_key LIKE %s THEN 1 ELSE 0 END,"
                " created_at DESC, id DESC LIMIT 1",
                (CHILD_KEY_PREFIX + "%",),
            )
            if row is None:
                raise RunNotFound("there are no runs yet", hint="start one with `phasegate run`")
            return str(row[0])
        escaped = run_ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._all(
            "SELECT id FROM runs WHERE id = %s OR id LIKE %s ESCAPE '\\' LIMIT 3",
            (run_ref, escaped + "%"),
        )
        exact = [r[0] for r in rows if r[0] == run_ref]
        if exact:
            return str(exact[0])
        if not rows:
            raise RunNotFound(
                f"no run {run_ref!r} in {self.location}",
                hint="`phasegate history` lists runs; check --store",
            )
        if len(rows) > 1:
            raise RunNotFound(f"{run_ref!r} matches several runs", hint="give more of the id")
        return str(rows[0][0])

    @pg_errors
    def get_run(self, run_ref: str) -> RunRecord:
        record = self._record(self.resolve(run_ref))
        if record is None:  # deleted between the two reads: runs never are
            raise RunNotFound(f"no run {run_ref!r} in {self.location}")
        return record

    @pg_errors
    def list_runs(
        self, *, limit: int = 20, plan: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        return self.runs_page(limit=limit, plan=plan, status=status)

    @pg_errors
    def run_ids(self) -> list[str]:
        return [str(r[0]) for r in self._all("SELECT id FROM runs ORDER BY created_at, id")]

    @pg_errors
    def runs_page(
        self,
        *,
        limit: int,
        plan: str | None = None,
        status: str | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[RunRecord]:
        query = f"SELECT {RECORD_COLUMNS} FROM runs WHERE true"
        args: list[Any] = []
        if status:
            query += " AND status = %s"
            args.append(status)
        if plan:
            query += " AND plan_name = %s"
            args.append(plan)
        if before is not None:
            query += " AND (created_at, id) < (%s, %s)"
            args += [before[0], before[1]]
        query += " ORDER BY created_at DESC, id DESC LIMIT %s"
        args.append(limit)
        return [_record(self.location, row) for row in self._all(query, args)]

    @pg_errors
    def run_heads(self) -> list[RunHead]:
        rows = self._all(f"SELECT {_HEAD_COLUMNS} FROM runs ORDER BY created_at, id")
        return [_head(row) for row in rows]

    @pg_errors
    def run_head(self, run_id: str) -> RunHead | None:
        found = self._one(f"SELECT {_HEAD_COLUMNS} FROM runs WHERE id = %s", (run_id,))
        return None if found is None else _head(found)

    @pg_errors
    def runs_marker(self) -> tuple[int, float | None]:
        row = self._one("SELECT count(*), max(updated_at) FROM runs")
        assert row is not None
        return int(row[0]), None if row[1] is None else float(row[1])

    @pg_errors
    def lock_holder(self, name: str) -> tuple[str, float] | None:
        row = self._one("SELECT run_id, since FROM locks WHERE name = %s", (name,))
        return (str(row[0]), float(row[1])) if row else None

    # -- the journal ----------------------------------------------------------------------
    @pg_errors
    def events(self, run_id: str) -> list[StoredEvent]:
        return self.events_after(run_id, 0)

    @pg_errors
    def events_after(self, run_id: str, after: int, limit: int | None = None) -> list[StoredEvent]:
        rows = self._all(
            "SELECT seq, ts, type, data FROM events WHERE run_id = %s AND seq > %s ORDER BY seq"
            " LIMIT %s",  # LIMIT NULL: no limit
            (run_id, after, limit),
        )
        out = []
        for seq, ts, etype, data in rows:
            try:
                out.append(StoredEvent(int(seq), float(ts), str(etype), json.loads(data)))
            except json.JSONDecodeError as exc:
                raise _damaged(self.location, f"run {run_id} event #{seq} is not JSON") from exc
        return out

    @pg_errors
    def load_state(self, run_id: str) -> RunState:
        return replay(run_id, self.events(run_id))

    @pg_errors
    def phase_statuses(self, run_id: str) -> list[str]:
        rows = self._all("SELECT data::json ->> 'status' FROM phases WHERE run_id = %s", (run_id,))
        return [str(row[0]) for row in rows]

    @pg_errors
    def materialized(
        self, run_id: str
    ) -> tuple[dict[str, Any], dict[str, PhaseState], dict[str, Item], str]:
        """The run's summary, phase rows, item rows and status column, as stored (what
        ``phasegate check`` compares with the replay of the events)."""
        record = self._record(run_id)
        if record is None:
            raise RunNotFound(f"no run {run_id}")
        rows = self._all("SELECT phase, data FROM phases WHERE run_id = %s", (run_id,))
        phases = {str(name): PhaseState(**json.loads(data)) for name, data in rows}
        items = {}
        for key, status, data in self._all(
            "SELECT key, status, data FROM items WHERE run_id = %s", (run_id,)
        ):
            item = Item(**json.loads(data))
            if item.status != status:
                item.data["__status_column__"] = status
            items[str(key)] = item
        return record.summary, phases, items, record.status

    @pg_errors
    def locks(self) -> list[tuple[str, str]]:
        """Every held lock: ``(name, run id)``."""
        return [(str(n), str(r)) for n, r in self._all("SELECT name, run_id FROM locks")]

    @pg_errors
    def epoch_regressions(self) -> list[tuple[str, int, int, int]]:
        """Events written by an older owner after a newer owner of the same run had written:
        ``(run id, seq, the newest epoch before it, its epoch)``; none while fencing holds
        (store/postgres/ownership.py). Events no owner wrote (NULL) are not compared."""
        rows = self._all(
            "SELECT run_id, seq, newest, owner_epoch FROM (SELECT run_id, seq, owner_epoch,"
            " max(owner_epoch) OVER (PARTITION BY run_id ORDER BY seq ROWS BETWEEN UNBOUNDED"
            " PRECEDING AND 1 PRECEDING) AS newest FROM events WHERE owner_epoch IS NOT NULL)"
            " AS e WHERE owner_epoch < newest ORDER BY run_id, seq"
        )
        return [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]

    # -- operator requests ----------------------------------------------------------------
    @pg_errors
    def take_requests(self, run_id: str) -> list[StoredRequest]:
        rows = self._all(
            "SELECT id, kind, data FROM requests WHERE run_id = %s AND consumed_at IS NULL"
            " ORDER BY id",
            (run_id,),
        )
        return [StoredRequest(int(r[0]), str(r[1]), json.loads(r[2])) for r in rows]

    @pg_errors
    def request_taken(self, request_id: int) -> bool:
        row = self._one("SELECT consumed_at FROM requests WHERE id = %s", (request_id,))
        return row is not None and row[0] is not None


def _damaged(where: str, what: str) -> JournalDamaged:
    return JournalDamaged(
        f"PostgreSQL store {where} is damaged: {what}",
        hint="restore the database from a backup; `phasegate check` lists what is damaged",
    )


def _record(where: str, row: Row) -> RunRecord:
    try:
        return record_from_row(row)
    except json.JSONDecodeError as exc:
        raise _damaged(where, f"run {row[0]}: a stored value is not JSON ({exc})") from exc


def _head(row: Row) -> RunHead:
    return RunHead(
        id=str(row[0]),
        plan_name=str(row[1]),
        status=str(row[2]),
        created_at=float(row[3]),
        updated_at=float(row[4]),
        finished_at=None if row[5] is None else float(row[5]),
        last_seq=int(row[6]),
    )
