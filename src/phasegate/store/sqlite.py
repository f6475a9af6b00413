"""The SQLite journal: WAL mode, one writer per run, ``BEGIN IMMEDIATE`` for every write.

Durability: events that precede a side effect (a step about to start) are committed with
``synchronous=FULL`` (the WAL is fsynced before the command is spawned). Other events use
``NORMAL``: they survive a killed process, and the next FULL commit syncs them too, so after
power loss the journal may lose only its newest events, never order or consistency.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from phasegate.errors import (
    JournalFull,
    LockHeld,
    RunNotFound,
    RunStateError,
    StoreError,
)
from phasegate.run.inputs import StoredRequest
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict
from phasegate.run.state import TERMINAL, Item, PhaseState, RunState
from phasegate.store.changes import ChangeCursor, cursor_now, poll
from phasegate.store.connect import friendly, open_for_reading, open_for_writing
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow, NewEvent, dump, fold, replay, run_created
from phasegate.store.process import Owner
from phasegate.store.records import (
    CHILD_KEY_PREFIX,
    RECORD_COLUMNS,
    RunRecord,
    StoredEvent,
    StoredOptions,
    abandoned_here,
    describe_holder,
    record_from_row,
    replayed,
)
from phasegate.store.sqlite_digests import SqliteDigests
from phasegate.store.sqlite_lanes import SqliteLanes
from phasegate.store.sqlite_schedules import SqliteSchedules
from phasegate.store.sqlite_views import SqliteViews, reads
from phasegate.store.steplogs import FileLogs, outputs_in

DB_NAME = "phasegate.db"
_dump = dump


def _summary_text(state: RunState, lists: dict[str, _CompletedJson]) -> str:
    """The run row's summary as stored: while the run goes on, its JSON padded with spaces to
    a power of two (1 KB at least), which JSON readers ignore.

    Why: the row also holds the plan's text (tens of KB in overflow pages), and the summary
    grows with every phase that ends (``completed``). SQLite rewrites a row in place, page by
    page and only the pages that changed, when its size is unchanged; a row that changed size
    is written whole: every commit of a 500-phase run wrote ~38 pages (150 KB) to the WAL
    instead of ~2, and checkpointed 20 times as often. Padded, the size changes a handful of
    times per run. A finished run keeps its summary unpadded (its last write)."""
    summary = state.summary()
    completed = summary.get("completed")
    if isinstance(completed, list) and completed:
        # The list grows by one step at a time: its JSON is extended, not written again.
        summary["completed"] = _COMPLETED_MARK
        known = lists.get(state.run_id)
        if known is None:
            known = lists[state.run_id] = _CompletedJson()
        text = _dump(summary).replace(f'"{_COMPLETED_MARK}"', known.json(completed), 1)
    else:
        text = _dump(summary)
    if state.status in TERMINAL:
        lists.pop(state.run_id, None)
        return text
    return text.ljust(max(1024, 1 << (len(text) - 1).bit_length()))


# Stands for the ``completed`` list in the summary's JSON (summary() puts it before any field
# a plan or a command could write, so the first occurrence is the list's place).
_COMPLETED_MARK = "completed-list-9f3c2d"


class _CompletedJson:
    """The JSON of one run's ``completed`` list, kept as the list grows (the fold only appends
    to it; another list, or a shorter one, starts again). One per run and store: a run has one
    writer, so no two threads extend one."""

    def __init__(self) -> None:
        self.of: list[str] | None = None
        self.parts: list[str] = []

    def json(self, completed: list[str]) -> str:
        if completed is not self.of or len(completed) < len(self.parts):
            self.of, self.parts = completed, []
        if len(completed) > len(self.parts):
            self.parts += [_dump(key) for key in completed[len(self.parts) :]]
        return "[" + ",".join(self.parts) + "]"


__all__ = ["DB_NAME", "EventRow", "SqliteStore", "fold", "reads"]


class SqliteStore(SqliteViews, FileLogs, SqliteSchedules, SqliteLanes, SqliteDigests):
    def __init__(self, state_dir: Path, *, readonly: bool = False) -> None:
        """Open the journal in ``state_dir``. ``readonly``: for verbs that only read; never
        creates, migrates or writes anything (store/connect.py says why)."""
        self.state_dir = state_dir
        self.path = state_dir / DB_NAME
        self.readonly = readonly
        self.db = open_for_reading(self.path) if readonly else open_for_writing(self.path)
        self._sync = ""
        self._completed: dict[str, _CompletedJson] = {}  # per running run (_summary_text)

    def close(self) -> None:
        self.db.close()

    # -- live views: SQLite has no notifications; a waiting view polls one indexed row -----
    @reads
    def change_cursor(self, run_id: str | None = None) -> ChangeCursor:
        return cursor_now(self, run_id)

    @reads
    def wait_for_change(self, cursor: ChangeCursor, timeout: float) -> bool:
        return poll(self, cursor, timeout)

    def step_outputs(self, run_id: str) -> dict[str, dict[str, str]]:
        return outputs_in(self.load_state(run_id))

    # -- transactions -------------------------------------------------------------------
    @contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        if self.readonly:
            raise StoreError(f"journal {self.path} was opened read-only; this verb cannot write")
        sync = "FULL" if durable else "NORMAL"
        try:
            if sync != self._sync:
                self.db.execute(f"PRAGMA synchronous = {sync}")
                self._sync = sync
            self.db.execute("BEGIN IMMEDIATE")
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            raise friendly(exc, self.path, writing=True) from exc
        try:
            yield self.db
            self.db.execute("COMMIT")
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            self._rollback()
            raise friendly(exc, self.path, writing=True) from exc
        except BaseException:
            self._rollback()
            raise

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees one consistent state of the journal (one read transaction:
        in WAL mode, writers commit meanwhile without being seen or blocked)."""
        try:
            self.db.execute("BEGIN")
        except sqlite3.Error as exc:
            raise friendly(exc, self.path) from exc
        try:
            yield
        finally:
            self._rollback()  # nothing was written; ending the read transaction is all

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")

    @property
    @reads
    def schema_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    # -- runs -----------------------------------------------------------------------------
    def create_run(
        self,
        *,
        run_id: str,
        plan_name: str,
        plan_path: str,
        plan_sha256: str,
        plan_text: str,
        lock_name: str,
        idempotency_key: str | None,
        options: StoredOptions,
        phases: list[str],
        needs: dict[str, list[str]] | None = None,
        outline: PlanOutline | None = None,
        owner: Owner,
        ts: float,
    ) -> tuple[str, bool]:
        """Create a run holding the lock; or return the run an idempotency key names."""
        try:
            with self.write() as db:
                if idempotency_key is not None:
                    row = db.execute(
                        "SELECT id, plan_sha256 FROM runs WHERE idempotency_key = ?",
                        (idempotency_key,),
                    ).fetchone()
                    if row is not None:
                        return replayed(idempotency_key, str(row[0]), row[1], plan_sha256)
                if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                    raise StoreError(f"a run {run_id} exists; nothing was created")
                db.execute(
                    "INSERT INTO runs (id, plan_name, plan_path, plan_sha256, plan_text, lock_name,"
                    " idempotency_key, status, created_at, updated_at, owner_pid, owner_host,"
                    " owner_start, owner_since, options) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        run_id,
                        plan_name,
                        plan_path,
                        plan_sha256,
                        plan_text,
                        lock_name,
                        idempotency_key,
                        "pending",
                        ts,
                        ts,
                        owner.pid,
                        owner.host,
                        owner.start,
                        ts,
                        _dump(options),
                    ),
                )
                self._take_lock(db, lock_name, run_id, ts)
                state = RunState(run_id=run_id)
                self._append(db, state, [(run_created(phases, needs, outline), ts)])
        except JournalFull as exc:
            # Nothing was created, nothing ran: not the "resume RUN" of a run cut short.
            raise StoreError(
                f"journal {self.path}: the disk is full; the run was not created, nothing ran",
                hint="free space, then run the command again",
            ) from exc
        return run_id, True

    def _take_lock(self, db: sqlite3.Connection, name: str, run_id: str, ts: float) -> None:
        row = db.execute("SELECT run_id, since FROM locks WHERE name = ?", (name,)).fetchone()
        if row is not None and row[0] != run_id:
            holder = self._record(db, str(row[0]))
            if holder is not None and holder.status not in TERMINAL:
                raise LockHeld(
                    describe_holder(name, holder, float(row[1])),
                    hint=f"wait for it, or `phasegate resume|abort {holder.id}`",
                )
            db.execute("DELETE FROM locks WHERE name = ?", (name,))
            row = None
        if row is None:
            db.execute("INSERT INTO locks VALUES (?, ?, ?)", (name, run_id, ts))

    def acquire_lock(self, run_id: str, name: str) -> None:
        with self.write() as db:
            self._take_lock(db, name, run_id, time.time())

    def claim(self, run_id: str, owner: Owner, *, lock_name: str | None = None) -> None:
        """Become the process executing a run; refuse if a live process already is."""
        with self.write() as db:
            record = self._record(db, run_id)
            if record is None:
                raise RunNotFound(f"no run {run_id}")
            current = record.owner
            if current is not None and current != owner and current.alive() is not False:
                where = "alive" if current.alive() else "on another host"
                raise RunStateError(
                    f"run {run_id} is being executed by pid {current.pid} on {current.host} "
                    f"({where})",
                    hint="wait for it to finish, or `phasegate abort` it",
                )
            if lock_name is not None:
                self._take_lock(db, lock_name, run_id, time.time())
            db.execute(
                "UPDATE runs SET owner_pid=?, owner_host=?, owner_start=?, owner_since=?"
                " WHERE id=?",
                (owner.pid, owner.host, owner.start, time.time(), run_id),
            )

    def release(self, run_id: str, *, owner: Owner) -> None:
        with self.write(durable=False) as db:
            db.execute(
                "UPDATE runs SET owner_pid=NULL, owner_host=NULL, owner_start=NULL,"
                " owner_since=NULL WHERE id=? AND owner_pid=? AND owner_host=?",
                (run_id, owner.pid, owner.host),
            )

    def abandoned(self) -> list[RunRecord]:
        """In-flight runs whose owner died on this host (contract.py)."""
        return abandoned_here(self.list_runs)

    def append(self, state: RunState, events: list[NewEvent], *, durable: bool) -> None:
        """Apply events to the state and write them with the changed rows, atomically."""
        with self.write(durable) as db:
            self._append(db, state, events)

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        with self.write(durable) as db:
            self.write_rows(db, state, rows, changed)

    def _append(self, db: sqlite3.Connection, state: RunState, events: list[NewEvent]) -> None:
        rows: list[EventRow] = []
        changed = fold(state, events, rows)
        self.write_rows(db, state, rows, changed)

    def write_rows(
        self,
        db: sqlite3.Connection,
        state: RunState,
        rows: list[EventRow],
        changed: set[str],
    ) -> None:
        """Write applied events and the rows they changed (inside a write transaction)."""
        # The run's row first, on the condition that the rows continue its journal (one
        # statement instead of a read and a write per commit); when they do not, say why.
        ts = rows[-1][2]
        updated = db.execute(
            "UPDATE runs SET status=?, updated_at=?, finished_at=?, summary=?, last_seq=?"
            " WHERE id=? AND last_seq=?",
            (
                state.status,
                ts,
                state.finished_at,
                _summary_text(state, self._completed),
                state.seq,
                state.run_id,
                rows[0][1] - 1,
            ),
        )
        if updated.rowcount != 1:
            self._check_continues(db, state.run_id, rows[0][1])
        db.executemany("INSERT INTO events VALUES (?,?,?,?,?)", rows)
        for key in changed:
            if key.startswith("item:"):
                item = state.items.get(key[5:])
                if item is None:
                    db.execute(
                        "DELETE FROM items WHERE run_id = ? AND key = ?", (state.run_id, key[5:])
                    )
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO items VALUES (?,?,?,?)",
                    (state.run_id, item.key, item.status, _dump(item.__dict__)),
                )
            elif key.startswith("phase:"):
                phase = state.phases[key[6:]]
                db.execute(
                    "INSERT OR REPLACE INTO phases VALUES (?,?,?)",
                    (state.run_id, phase.id, _dump(phase.__dict__)),
                )
        if not state.holds_lock:  # finished, or monitoring with `lock: release`
            db.execute("DELETE FROM locks WHERE run_id = ?", (state.run_id,))
            # Its lane slot frees in the transaction that ends the run (store/lanes.py).
            db.execute("DELETE FROM lane_slots WHERE run_id = ?", (state.run_id,))

    def _check_continues(self, db: sqlite3.Connection, run_id: str, first_seq: int) -> None:
        """One writer per run: the rows written must continue the journal. A state read
        before another process appended would reuse its sequence numbers; say so instead of
        a bare UNIQUE constraint error (and write nothing)."""
        row = db.execute("SELECT last_seq FROM runs WHERE id = ?", (run_id,)).fetchone()
        last = int(row[0]) if row is not None and row[0] is not None else 0
        if row is not None and first_seq != last + 1:
            raise StoreError(
                f"run {run_id}: another process wrote to its journal meanwhile (entry "
                f"#{last} is the last one, this write starts at #{first_seq}); nothing was "
                "written",
                hint="run the command again; `phasegate status RUN` shows the run's state now",
            )

    # -- reading --------------------------------------------------------------------------
    @reads
    def _record(self, db: sqlite3.Connection, run_id: str) -> RunRecord | None:
        row = db.execute(f"SELECT {RECORD_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else record_from_row(row)

    @reads
    def resolve(self, run_ref: str) -> str:
        """A full run id from an id, a unique prefix, or ``last``."""
        if not run_ref.strip():
            # An empty prefix matches every run: never pick one for the operator.
            raise RunNotFound(
                "an empty run id names no run", hint="give a run id, a prefix of one, or `last`"
            )
        if run_ref in ("last", "latest"):
            # The newest run a user started; a child (its key names its program) only when
            # there is nothing else.
            row = self.db.execute(
                "SELECT id FROM runs ORDER BY"
                " CASE WHEN idempotency_key LIKE ? THEN 1 ELSE 0 END,"
                " created_at DESC, id DESC LIMIT 1",
                (CHILD_KEY_PREFIX + "%",),
            ).fetchone()
            if row is None:
                raise RunNotFound("there are no runs yet", hint="start one with `phasegate run`")
            return str(row[0])
        rows = self.db.execute(
            "SELECT id FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' LIMIT 3",
            (run_ref, run_ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
        ).fetchall()
        exact = [r[0] for r in rows if r[0] == run_ref]
        if exact:
            return str(exact[0])
        if not rows:
            raise RunNotFound(
                f"no run {run_ref!r} in {self.path}",
                hint="`phasegate history` lists runs; check --state-dir",
            )
        if len(rows) > 1:
            raise RunNotFound(f"{run_ref!r} matches several runs", hint="give more of the id")
        return str(rows[0][0])

    @reads
    def get_run(self, run_ref: str) -> RunRecord:
        record = self._record(self.db, self.resolve(run_ref))
        assert record is not None
        return record

    @reads
    def list_runs(
        self, *, limit: int = 20, plan: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        query = "SELECT id FROM runs WHERE 1=1"
        args: list[Any] = []
        if plan:
            query += " AND plan_name = ?"
            args.append(plan)
        if status:
            query += " AND status = ?"
            args.append(status)
        query += " ORDER BY created_at DESC, id DESC LIMIT ?"
        args.append(limit)
        out = []
        for (run_id,) in self.db.execute(query, args).fetchall():
            record = self._record(self.db, run_id)
            if record is not None:
                out.append(record)
        return out

    @reads
    def run_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT id FROM runs ORDER BY created_at, id")]

    @reads
    def events(self, run_id: str) -> list[StoredEvent]:
        return self.events_after(run_id, 0)

    def load_state(self, run_id: str) -> RunState:
        return replay(run_id, self.events(run_id))

    @reads
    def materialized(
        self, run_id: str
    ) -> tuple[dict[str, Any], dict[str, PhaseState], dict[str, Item], str]:
        record = self._record(self.db, run_id)
        assert record is not None
        phases = {
            name: PhaseState(**json.loads(data))
            for name, data in self.db.execute(
                "SELECT phase, data FROM phases WHERE run_id = ?", (run_id,)
            )
        }
        items = {}
        for key, status, data in self.db.execute(
            "SELECT key, status, data FROM items WHERE run_id = ?", (run_id,)
        ):
            item = Item(**json.loads(data))
            if item.status != status:
                item.data["__status_column__"] = status
            items[key] = item
        return record.summary, phases, items, record.status

    @reads
    def lock_holder(self, name: str) -> tuple[str, float] | None:
        row = self.db.execute("SELECT run_id, since FROM locks WHERE name = ?", (name,)).fetchone()
        return (str(row[0]), float(row[1])) if row else None

    # -- operator requests (approve / abort from another process) ---------------------------
    def add_request(self, run_id: str, kind: str, data: JsonDict) -> int:
        """Queue a request for the run's owner; returns its id (see ``request_taken``)."""
        with self.write() as db:
            if db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                raise RunNotFound(f"no run {run_id}")
            cursor = db.execute(
                "INSERT INTO requests (run_id, kind, data, created_at) VALUES (?,?,?,?)",
                (run_id, kind, _dump(data), time.time()),
            )
            return int(cursor.lastrowid or 0)

    def request_taken(self, request_id: int) -> bool:
        """Whether the owner has acted on a request (``consume_request``)."""
        row = self.db.execute(
            "SELECT consumed_at FROM requests WHERE id = ?", (request_id,)
        ).fetchone()
        return row is not None and row[0] is not None

    @reads
    def take_requests(self, run_id: str) -> list[StoredRequest]:
        rows = self.db.execute(
            "SELECT id, kind, data FROM requests WHERE run_id = ? AND consumed_at IS NULL"
            " ORDER BY id",
            (run_id,),
        ).fetchall()
        return [StoredRequest(int(r[0]), str(r[1]), json.loads(r[2])) for r in rows]

    def consume_request(self, request_id: int) -> None:
        with self.write(durable=False) as db:
            db.execute(
                "UPDATE requests SET consumed_at = ? WHERE id = ?", (time.time(), request_id)
            )


_: type[JournalStore] = SqliteStore  # mypy checks that SqliteStore keeps the contract
