"""The PostgreSQL journal: the ``JournalStore`` contract on a database several processes,
and several machines, share (issue 12 §2).

One writer per run, enforced by the database: an append locks the run's row
(``SELECT … FOR UPDATE``) and checks, in the same transaction, that the stored journal ends
where the writer's state does; ``(run_id, seq)`` is the events' primary key besides. Whatever
moves a lock (creating a run, claiming one, ``acquire_lock``) holds one transaction-level
advisory lock, so the read-check-write of a lock row is serialised across every process, as
SQLite's ``BEGIN IMMEDIATE`` serialises it; appends to different runs never wait for each
other.

Durability: a durable append (a step about to start) commits with ``synchronous_commit = on``:
the WAL is flushed on the server before ``append`` returns, so the step's start survives
power loss before its command is spawned. Other events commit with ``synchronous_commit =
off``: they survive this process being killed (the server has them), and a server crash may
lose only the newest of them, never order (PostgreSQL's asynchronous commit), as SQLite's
``synchronous=NORMAL`` does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg

from phasegate.errors import (
    JournalFull,
    LockHeld,
    OwnershipLost,
    RunNotFound,
    RunStateError,
    StoreError,
)
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict
from phasegate.run.state import TERMINAL, RunState
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow, NewEvent, dump, fold, run_created
from phasegate.store.postgres.connection import connect, mask, normalize
from phasegate.store.postgres.digests import PostgresDigests
from phasegate.store.postgres.lanes import PostgresLanes
from phasegate.store.postgres.logs import PostgresLogs
from phasegate.store.postgres.notify import PostgresChanges
from phasegate.store.postgres.ownership import held_keys, lock_parts, run_key
from phasegate.store.postgres.schedules import PostgresSchedules
from phasegate.store.postgres.schema import LOCKS_KEY, migrate
from phasegate.store.postgres.views import Row
from phasegate.store.process import Owner
from phasegate.store.records import (
    IN_FLIGHT,
    RECORD_COLUMNS,
    RunRecord,
    StoredOptions,
    describe_holder,
    record_from_row,
    replayed,
)

Conn = psycopg.Connection[Row]

# How long a claim waits for the session of an owner that died on this host to end (the
# server notices the closed socket within milliseconds).
DEAD_SESSION_WAIT = 3.0


class PostgresStore(
    PostgresLogs, PostgresChanges, PostgresSchedules, PostgresLanes, PostgresDigests
):
    def __init__(self, url: str, *, state_dir: Path, readonly: bool = False) -> None:
        """Open the store at ``url`` (migrating its schema); run directories (step logs,
        outputs, backups) stay on this machine, under ``state_dir``. ``readonly``: this
        instance refuses writes (the read verbs); creating or migrating the schema, one
        transaction on the server, still happens, so reading a new database shows no runs."""
        self.url = normalize(url)
        self.location = mask(url.strip())
        self._state_dir = state_dir
        self.readonly = readonly
        # The runs this instance owns: run id -> (the owner epoch its claim set, the
        # connection whose session holds the run's advisory lock). ownership.py.
        self._held: dict[str, tuple[int, Conn]] = {}
        self._conn = connect(self.url, self.location)
        try:
            self.schema_version = migrate(self._conn, self.location)
        except psycopg.Error as exc:
            self._conn.close()
            raise self.failure(exc, writing=True) from exc
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        self.stop_listening()
        self._conn.close()

    @contextmanager
    def write(self, durable: bool = True) -> Iterator[Conn]:
        if self.readonly:
            raise StoreError(f"store {self.location} was opened read-only; this verb cannot write")
        db = self.db
        try:
            # Pipeline mode: statements whose results nobody reads before the next one (BEGIN,
            # SET, the inserts, COMMIT) travel together; a read (fetchone) waits for its
            # answer. An append costs about two round trips instead of seven.
            with db.pipeline(), db.transaction():
                db.execute(b"SET LOCAL synchronous_commit = " + (b"on" if durable else b"off"))
                yield db
        except psycopg.Error as exc:
            raise self.failure(exc, writing=True) from exc

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
        locked = False
        try:
            with self.write() as db:
                # Racing creators (one idempotency key, one lock) queue here, then see the
                # first one's run: the unique key constraint never has to refuse anyone.
                db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LOCKS_KEY,))
                if idempotency_key is not None:
                    row = _one(
                        db,
                        "SELECT id, plan_sha256 FROM runs WHERE idempotency_key = %s",
                        (idempotency_key,),
                    )
                    if row is not None:
                        return replayed(idempotency_key, str(row[0]), row[1], plan_sha256)
                if _one(db, "SELECT 1 FROM runs WHERE id = %s", (run_id,)):
                    raise StoreError(f"a run {run_id} exists; nothing was created")
                db.execute(
                    b"INSERT INTO runs (id, plan_name, plan_path, plan_sha256, plan_text,"
                    b" lock_name, idempotency_key, status, created_at, updated_at, owner_pid,"
                    b" owner_host, owner_start, owner_since, options)"
                    b" VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
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
                        dump(options),
                    ),
                )
                self._take_lock(db, lock_name, run_id, ts)
                state = RunState(run_id=run_id)
                rows: list[EventRow] = []
                changed = fold(state, [(run_created(phases, needs, outline), ts)], rows)
                self._write_rows(db, state, rows, changed, epoch=1)
                db.execute(b"UPDATE runs SET owner_epoch = 1 WHERE id = %s", (run_id,))
                # A new id: nobody holds its lock. Taken last, released below if the
                # commit fails (a session lock outlives a rolled-back transaction).
                locked = self._try_lock(db, run_id)
        except JournalFull as exc:
            # Nothing was created, nothing ran: not the "resume RUN" of a run cut short.
            raise StoreError(
                f"store {self.location}: the server is out of space; the run was not "
                "created, nothing ran",
                hint="free space on the database server, then run the command again",
            ) from exc
        except BaseException:
            if locked:
                self._unlock(run_id)
            raise
        if locked:
            self._held[run_id] = (1, self._conn)
        return run_id, True

    def _take_lock(self, db: Conn, name: str, run_id: str, ts: float) -> None:
        """Inside a write holding ``LOCKS_KEY``."""
        row = _one(db, "SELECT run_id, since FROM locks WHERE name = %s", (name,))
        if row is not None and row[0] != run_id:
            holder = self._record(str(row[0]))
            if holder is not None and holder.status not in TERMINAL:
                raise LockHeld(
                    describe_holder(name, holder, float(row[1])),
                    hint=f"wait for it, or `phasegate resume|abort {holder.id}`",
                )
            db.execute(b"DELETE FROM locks WHERE name = %s", (name,))
            row = None
        if row is None:
            db.execute(b"INSERT INTO locks VALUES (%s, %s, %s)", (name, run_id, ts))

    def acquire_lock(self, run_id: str, name: str) -> None:
        with self.write() as db:
            db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LOCKS_KEY,))
            self._take_lock(db, name, run_id, time.time())

    def claim(self, run_id: str, owner: Owner, *, lock_name: str | None = None) -> None:
        """PostgreSQL's claim is fenced (ownership.py): the claimer takes the run's session
        advisory lock, which a live owner on any host holds, and the owner epoch moves on, so
        a previous owner that lost its session has its next write refused."""
        mine = self._owns(run_id)
        locked = False
        try:
            with self.write() as db:
                if lock_name is not None:
                    db.execute(b"SELECT pg_advisory_xact_lock(%s)", (LOCKS_KEY,))
                # The row lock makes racing claimers take turns: the second sees the first.
                row = _one(db, "SELECT owner_epoch FROM runs WHERE id = %s FOR UPDATE", (run_id,))
                if row is None:
                    raise RunNotFound(f"no run {run_id}")
                record = self._record(run_id)
                assert record is not None
                current = record.owner
                if not mine:
                    locked = self._try_lock(db, run_id, current)
                    if not locked:
                        raise _owned_elsewhere(run_id, current)
                elif current is not None and current != owner and current.alive() is not False:
                    # This session holds the lock for another owner it recorded (a process
                    # that creates runs for others): the pid decides, as on SQLite.
                    raise _owned_elsewhere(run_id, current)
                epoch = int(row[0]) if mine and current == owner else int(row[0]) + 1
                if lock_name is not None:
                    self._take_lock(db, lock_name, run_id, time.time())
                db.execute(
                    b"UPDATE runs SET owner_pid=%s, owner_host=%s, owner_start=%s,"
                    b" owner_since=%s, owner_epoch=%s WHERE id=%s",
                    (owner.pid, owner.host, owner.start, time.time(), epoch, run_id),
                )
                # Who holds a run, for an operator reading pg_stat_activity.
                db.execute(
                    b"SELECT set_config('application_name', %s, false)",
                    (f"phasegate owner {run_id}"[:63],),
                )
        except BaseException:
            if locked:
                self._unlock(run_id)
            raise
        self._held[run_id] = (epoch, self._conn)

    def release(self, run_id: str, *, owner: Owner) -> None:
        held = self._held.get(run_id)
        epoch = held[0] if held is not None else None
        with self.write(durable=False) as db:
            row = _one(
                db,
                "UPDATE runs SET owner_pid=NULL, owner_host=NULL, owner_start=NULL,"
                " owner_since=NULL WHERE id=%s AND owner_pid=%s AND owner_host=%s"
                " AND (%s::bigint IS NULL OR owner_epoch = %s::bigint) RETURNING id",
                (run_id, owner.pid, owner.host, epoch, epoch),
            )
        if row is not None or (held is not None and not self._owns(run_id)):
            self._unlock(run_id)

    def abandoned(self) -> list[RunRecord]:
        """In-flight runs with a recorded owner whose session no longer holds the run's lock:
        the owner died (on any host) or lost its connection."""
        try:
            rows = self._all(
                f"SELECT {RECORD_COLUMNS} FROM runs WHERE status = ANY(%s)"
                " AND (owner_pid IS NOT NULL OR status <> 'pending') ORDER BY created_at, id",
                (list(IN_FLIGHT),),
            )
            held = held_keys(self.db)
        except psycopg.Error as exc:
            raise self.failure(exc) from exc
        found = []
        for record in map(record_from_row, rows):
            if record.owner is None:
                found.append(record)  # released unfinished (a pending one is queued)
            elif self._owns(record.id):
                # This session holds the lock for the owner it recorded (claim): the pid decides.
                if record.owner.alive() is False:
                    found.append(record)
            elif lock_parts(run_key(record.id)) not in held:
                found.append(record)
        return found

    def failure(self, exc: psycopg.Error, *, writing: bool = False) -> StoreError:
        """A lost connection of a process that owns runs is a lost ownership: its session,
        and with it the runs' locks, is gone, so another worker may claim them now."""
        if self._held and self._conn.closed:
            runs = ", ".join(sorted(self._held))
            text = " ".join(str(exc).split())
            return OwnershipLost(
                f"the connection to the PostgreSQL store {self.location} was lost ({text}); "
                f"this process no longer owns run {runs} (another worker may take it over) "
                "and stops",
                hint="`phasegate status RUN` shows who runs it now",
            )
        return super().failure(exc, writing=writing)

    def _owns(self, run_id: str) -> bool:
        """This instance claimed the run and the session that took its lock is still ours."""
        held = self._held.get(run_id)
        return held is not None and held[1] is self._conn and not self._conn.closed

    def _try_lock(self, db: Conn, run_id: str, current: Owner | None = None) -> bool:
        """Take the run's session lock if no session holds it. An owner that died on this
        host may still have its session for a moment: that is waited out (bounded)."""
        deadline = time.monotonic() + DEAD_SESSION_WAIT
        while True:
            row = _one(db, "SELECT pg_try_advisory_lock(%s)", (run_key(run_id),))
            if row is not None and row[0]:
                return True
            if current is None or current.alive() is not False or time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def _unlock(self, run_id: str) -> None:
        """Give the run's session lock back (best effort: a lost session gave it already)."""
        held = self._held.pop(run_id, None)
        conn = held[1] if held is not None else self._conn
        if conn is not self._conn or conn.closed:
            return
        with suppress(psycopg.Error):
            conn.execute(b"SELECT pg_advisory_unlock(%s)", (run_key(run_id),))

    # -- the journal ----------------------------------------------------------------------
    def append(self, state: RunState, events: list[NewEvent], *, durable: bool) -> None:
        with self.write(durable) as db:
            # Checked before the fold: a stale writer's state is left as it was.
            self._lock_run(db, state.run_id, state.seq + 1)
            rows: list[EventRow] = []
            changed = fold(state, events, rows)
            self._write_rows(db, state, rows, changed)

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        with self.write(durable) as db:
            self._lock_run(db, state.run_id, rows[0][1])
            self._write_rows(db, state, rows, changed)

    def _lock_run(self, db: Conn, run_id: str, first_seq: int) -> None:
        """One writer per run: lock its row until commit, and refuse rows that do not
        continue its journal (a state read before another process appended)."""
        row = _one(db, "SELECT last_seq, owner_epoch FROM runs WHERE id = %s FOR UPDATE", (run_id,))
        if row is None:
            raise StoreError(f"run {run_id} does not exist; nothing was written")
        held = self._held.get(run_id)
        if held is not None:
            if held[1] is not db:
                raise OwnershipLost(
                    f"run {run_id}: this process lost the database session that held the "
                    "run, so another worker may own it now; nothing was written, this process "
                    "stops",
                    hint=f"`phasegate status {run_id}` shows who runs it now",
                )
            if int(row[1]) != held[0]:
                raise OwnershipLost(
                    f"run {run_id} was taken over by another owner (epoch {held[0]} -> "
                    f"{int(row[1])}); nothing was written, this process stops",
                    hint=f"`phasegate status {run_id}` shows who runs it now",
                )
        last = int(row[0])
        if first_seq != last + 1:
            raise StoreError(
                f"run {run_id}: another process wrote to its journal meanwhile (entry "
                f"#{last} is the last one, this write starts at #{first_seq}); nothing was "
                "written",
                hint="run the command again; `phasegate status RUN` shows the run's state now",
            )

    def _write_rows(
        self,
        db: Conn,
        state: RunState,
        rows: list[EventRow],
        changed: set[str],
        *,
        epoch: int | None = None,
    ) -> None:
        """The events and the rows they changed; the run's row is locked (``_lock_run``) or
        new."""
        run_id = state.run_id
        with db.cursor() as cursor:
            held = self._held.get(run_id)
            if epoch is None and held is not None:
                epoch = held[0]
            cursor.executemany(
                b"INSERT INTO events (run_id, seq, ts, type, data, owner_epoch)"
                b" VALUES (%s,%s,%s,%s,%s,%s)",
                [(*row, epoch) for row in rows],
            )
            for key in changed:
                if key.startswith("item:"):
                    item = state.items.get(key[5:])
                    if item is None:
                        cursor.execute(
                            b"DELETE FROM items WHERE run_id = %s AND key = %s", (run_id, key[5:])
                        )
                        continue
                    cursor.execute(
                        b"INSERT INTO items VALUES (%s,%s,%s,%s) ON CONFLICT (run_id, key)"
                        b" DO UPDATE SET status = EXCLUDED.status, data = EXCLUDED.data",
                        (run_id, item.key, item.status, dump(item.__dict__)),
                    )
                elif key.startswith("phase:"):
                    phase = state.phases[key[6:]]
                    cursor.execute(
                        b"INSERT INTO phases VALUES (%s,%s,%s) ON CONFLICT (run_id, phase)"
                        b" DO UPDATE SET data = EXCLUDED.data",
                        (run_id, phase.id, dump(phase.__dict__)),
                    )
            cursor.execute(
                b"UPDATE runs SET status=%s, updated_at=%s, finished_at=%s, summary=%s,"
                b" last_seq=%s WHERE id=%s",
                (
                    state.status,
                    rows[-1][2],
                    state.finished_at,
                    dump(state.summary()),
                    state.seq,
                    run_id,
                ),
            )
            if not state.holds_lock:  # finished, or monitoring with `lock: release`
                cursor.execute(b"DELETE FROM locks WHERE run_id = %s", (run_id,))
                # Its lane slot frees in the transaction that ends the run (store/lanes.py).
                cursor.execute(b"DELETE FROM lane_slots WHERE run_id = %s", (run_id,))
            # Live views wake on commit (store/postgres/notify.py); a rollback sends nothing.
            cursor.execute(b"SELECT pg_notify('phasegate_journal', %s)", (f"{run_id} {state.seq}",))

    # -- operator requests ----------------------------------------------------------------
    def add_request(self, run_id: str, kind: str, data: JsonDict) -> int:
        with self.write() as db:
            if _one(db, "SELECT 1 FROM runs WHERE id = %s", (run_id,)) is None:
                raise RunNotFound(f"no run {run_id}")
            row = _one(
                db,
                "INSERT INTO requests (run_id, kind, data, created_at) VALUES (%s,%s,%s,%s)"
                " RETURNING id",
                (run_id, kind, dump(data), time.time()),
            )
            assert row is not None
            return int(row[0])

    def consume_request(self, request_id: int) -> None:
        with self.write(durable=False) as db:
            db.execute(
                b"UPDATE requests SET consumed_at = %s WHERE id = %s", (time.time(), request_id)
            )


def _owned_elsewhere(run_id: str, current: Owner | None) -> RunStateError:
    if current is None:
        who = "another process (it holds the run's lock)"
    else:
        alive = current.alive()
        where = {True: "alive", False: "exiting", None: "on another host"}[alive]
        who = f"pid {current.pid} on {current.host} ({where})"
    return RunStateError(
        f"run {run_id} is being executed by {who}",
        hint="wait for it to finish, or `phasegate abort` it",
    )


def _one(db: Conn, query: str, args: tuple[Any, ...]) -> Row | None:
    return db.execute(query.encode(), args).fetchone()


_: type[JournalStore] = PostgresStore  # mypy checks that PostgresStore keeps the contract
