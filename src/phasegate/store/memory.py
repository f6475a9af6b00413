"""An in-memory journal: the ``JournalStore`` contract without a file, for tests.

Not a mock: it keeps runs, events, locks and requests, folds events with the engine's
``apply`` exactly as SQLite does, and refuses what SQLite refuses (a stale append, a second
live owner, a held lock, a reused idempotency key with another plan). The contract suite
(``tests/store/contract/``) holds both to the same observable results. Events are kept as
JSON text, as the journal keeps them, so values round-trip the same way.

Shared by the threads of one process (a lock serialises every call), never across
processes. Durability is moot: ``durable`` is accepted and ignored.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from phasegate.errors import (
    LockHeld,
    RunNotFound,
    RunStateError,
    StoreError,
)
from phasegate.run.inputs import StoredRequest
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict
from phasegate.run.state import TERMINAL, RunState
from phasegate.store.changes import ChangeCursor, cursor_now, moved
from phasegate.store.contract import JournalStore
from phasegate.store.fold import EventRow, NewEvent, dump, fold, replay, run_created
from phasegate.store.memory_digests import MemoryDigests
from phasegate.store.memory_lanes import MemoryLanes
from phasegate.store.memory_schedules import MemorySchedules
from phasegate.store.process import Owner
from phasegate.store.records import (
    RunHead,
    RunRecord,
    StoredEvent,
    StoredOptions,
    abandoned_here,
    describe_holder,
    is_child_run,
    replayed,
)
from phasegate.store.steplogs import LogChunk, LogSlice, outputs_in


@dataclass
class _Run:
    record: RunRecord  # options and summary are re-read from JSON on every read
    options: str
    summary: str = "{}"
    events: list[EventRow] = field(default_factory=list)


@dataclass
class _Request:
    run_id: str
    kind: str
    data: str
    consumed: bool = False


class MemoryStore(MemorySchedules, MemoryLanes, MemoryDigests):
    def __init__(self, state_dir: Path) -> None:
        MemorySchedules.__init__(self)
        MemoryDigests.__init__(self)
        MemoryLanes.__init__(self)
        self._state_dir = state_dir
        self._runs: dict[str, _Run] = {}  # in creation order
        self._locks: dict[str, tuple[str, float]] = {}
        self._requests: dict[int, _Request] = {}
        self._mutex = threading.RLock()
        self._changed = threading.Condition(self._mutex)  # signalled by every append
        self._logs: dict[tuple[str, str], bytearray] = {}

    @property
    def state_dir(self) -> Path:
        return self._state_dir

    def close(self) -> None:
        pass

    # -- creating and owning runs ---------------------------------------------------------
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
        with self._mutex:
            if idempotency_key is not None:
                for run in self._runs.values():
                    if run.record.idempotency_key != idempotency_key:
                        continue
                    record = run.record
                    return replayed(idempotency_key, record.id, record.plan_sha256, plan_sha256)
            if run_id in self._runs:
                raise StoreError(f"a run {run_id} exists; nothing was created")
            self._check_lock(lock_name, run_id)  # before anything is stored: atomic
            record = RunRecord(
                id=run_id,
                plan_name=plan_name,
                plan_path=plan_path,
                plan_sha256=plan_sha256,
                plan_text=plan_text,
                lock_name=lock_name,
                idempotency_key=idempotency_key,
                status="pending",
                created_at=ts,
                updated_at=ts,
                finished_at=None,
                owner=owner,
                options={},
                summary={},
                last_seq=0,
            )
            state = RunState(run_id=run_id)
            rows: list[EventRow] = []
            fold(state, [(run_created(phases, needs, outline), ts)], rows)
            self._runs[run_id] = _Run(record, dump(options))
            self._locks[lock_name] = (run_id, ts)
            self._store(state, rows)
        return run_id, True

    def _check_lock(self, name: str, run_id: str) -> None:
        held = self._locks.get(name)
        if held is None or held[0] == run_id:
            return
        holder = self._record(held[0])
        if holder is not None and holder.status not in TERMINAL:
            raise LockHeld(
                describe_holder(name, holder, held[1]),
                hint=f"wait for it, or `phasegate resume|abort {holder.id}`",
            )

    def _take_lock(self, name: str, run_id: str) -> None:
        self._check_lock(name, run_id)
        if self._locks.get(name, ("",))[0] != run_id:
            self._locks[name] = (run_id, time.time())

    def acquire_lock(self, run_id: str, name: str) -> None:
        with self._mutex:
            self._take_lock(name, run_id)

    def lock_holder(self, name: str) -> tuple[str, float] | None:
        with self._mutex:
            return self._locks.get(name)

    def claim(self, run_id: str, owner: Owner, *, lock_name: str | None = None) -> None:
        with self._mutex:
            run = self._runs.get(run_id)
            if run is None:
                raise RunNotFound(f"no run {run_id}")
            current = run.record.owner
            if current is not None and current != owner and current.alive() is not False:
                where = "alive" if current.alive() else "on another host"
                raise RunStateError(
                    f"run {run_id} is being executed by pid {current.pid} on {current.host} "
                    f"({where})",
                    hint="wait for it to finish, or `phasegate abort` it",
                )
            if lock_name is not None:
                self._take_lock(lock_name, run_id)
            run.record = replace(run.record, owner=owner)

    def abandoned(self) -> list[RunRecord]:
        """In-flight runs whose owner died on this host (contract.py)."""
        return abandoned_here(self.list_runs)

    def release(self, run_id: str, *, owner: Owner) -> None:
        with self._mutex:
            run = self._runs.get(run_id)
            current = None if run is None else run.record.owner
            if (
                run is not None
                and current is not None
                and (current.pid, current.host)
                == (
                    owner.pid,
                    owner.host,
                )
            ):
                run.record = replace(run.record, owner=None)

    # -- the journal ----------------------------------------------------------------------
    def append(self, state: RunState, events: list[NewEvent], *, durable: bool) -> None:
        with self._mutex:
            self._check_continues(state.run_id, state.seq + 1)  # before the fold: see below
            rows: list[EventRow] = []
            fold(state, events, rows)
            self._store(state, rows)

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        with self._mutex:
            self._check_continues(state.run_id, rows[0][1])
            self._store(state, rows)

    def _check_continues(self, run_id: str, first_seq: int) -> None:
        run = self._runs.get(run_id)
        last = 0 if run is None else run.record.last_seq
        if run is not None and first_seq != last + 1:
            raise StoreError(
                f"run {run_id}: another process wrote to its journal meanwhile (entry "
                f"#{last} is the last one, this write starts at #{first_seq}); nothing was "
                "written",
                hint="run the command again; `phasegate status RUN` shows the run's state now",
            )

    def _store(self, state: RunState, rows: list[EventRow]) -> None:
        run = self._runs.get(state.run_id)
        if run is None:
            raise StoreError(f"run {state.run_id} does not exist; nothing was written")
        run.events.extend(rows)
        run.summary = dump(state.summary())
        run.record = replace(
            run.record,
            status=state.status,
            updated_at=rows[-1][2],
            finished_at=state.finished_at,
            last_seq=state.seq,
        )
        if not state.holds_lock:  # finished, or monitoring with `lock: release`
            for name in [n for n, (holder, _) in self._locks.items() if holder == state.run_id]:
                del self._locks[name]
            # Its lane slots (the plan's, its phases') free with the run's end.
            for key in [k for k, t in self._tickets.items() if t.run_id == state.run_id]:
                del self._tickets[key]
        self._changed.notify_all()

    # -- live views -----------------------------------------------------------------------
    def change_cursor(self, run_id: str | None = None) -> ChangeCursor:
        with self._mutex:
            return cursor_now(self, run_id)

    def wait_for_change(self, cursor: ChangeCursor, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: moved(self, cursor), max(timeout, 0.0))

    # -- step logs and outputs ------------------------------------------------------------
    def append_logs(self, run_id: str, chunks: Sequence[LogChunk]) -> None:
        with self._mutex:
            for key, data in chunks:
                self._logs.setdefault((run_id, key), bytearray()).extend(data)

    def read_log(self, run_id: str, key: str, offset: int = 0) -> LogSlice:
        with self._mutex:
            log = self._logs.get((run_id, key), bytearray())
            start = max(len(log) + offset, 0) if offset < 0 else offset
            data = bytes(log[start:])
        return LogSlice(data, start + len(data))

    def log_location(self, run_id: str, key: str) -> str:
        return f"memory:{run_id}/{key}"

    def step_outputs(self, run_id: str) -> dict[str, dict[str, str]]:
        return outputs_in(self.load_state(run_id))

    def events(self, run_id: str) -> list[StoredEvent]:
        return self.events_after(run_id, 0)

    def events_after(self, run_id: str, after: int, limit: int | None = None) -> list[StoredEvent]:
        with self._mutex:
            run = self._runs.get(run_id)
            rows = [] if run is None else [row for row in run.events if row[1] > after]
        rows = rows if limit is None else rows[:limit]
        return [StoredEvent(seq, ts, etype, json.loads(data)) for _, seq, ts, etype, data in rows]

    def load_state(self, run_id: str) -> RunState:
        return replay(run_id, self.events(run_id))

    # -- reading runs ---------------------------------------------------------------------
    def _record(self, run_id: str) -> RunRecord | None:
        run = self._runs.get(run_id)
        if run is None:
            return None
        return replace(run.record, options=json.loads(run.options), summary=json.loads(run.summary))

    def _newest_first(self) -> list[RunRecord]:
        records = [r for r in (self._record(i) for i in self._runs) if r is not None]
        return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)

    def resolve(self, run_ref: str) -> str:
        if not run_ref.strip():
            raise RunNotFound(
                "an empty run id names no run", hint="give a run id, a prefix of one, or `last`"
            )
        with self._mutex:
            if run_ref in ("last", "latest"):
                newest = self._newest_first()
                if not newest:
                    raise RunNotFound(
                        "there are no runs yet", hint="start one with `phasegate run`"
                    )
                started = [r for r in newest if not is_child_run(r.idempotency_key)]
                return (started or newest)[0].id
            if run_ref in self._runs:
                return run_ref
            found = [run_id for run_id in self._runs if run_id.startswith(run_ref)]
        if not found:
            raise RunNotFound(
                f"no run {run_ref!r} in memory",
                hint="`phasegate history` lists runs; check --state-dir",
            )
        if len(found) > 1:
            raise RunNotFound(f"{run_ref!r} matches several runs", hint="give more of the id")
        return found[0]

    def get_run(self, run_ref: str) -> RunRecord:
        with self._mutex:
            record = self._record(self.resolve(run_ref))
        assert record is not None
        return record

    def list_runs(
        self, *, limit: int = 20, plan: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        with self._mutex:
            records = self._newest_first()
        wanted = [r for r in records if (not plan or r.plan_name == plan)]
        return [r for r in wanted if (not status or r.status == status)][:limit]

    def run_ids(self) -> list[str]:
        with self._mutex:
            return [r.id for r in reversed(self._newest_first())]

    def runs_page(
        self,
        *,
        limit: int,
        plan: str | None = None,
        status: str | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[RunRecord]:
        records = self.list_runs(limit=len(self._runs), plan=plan, status=status)
        if before is not None:
            records = [r for r in records if (r.created_at, r.id) < before]
        return records[:limit]

    def run_heads(self) -> list[RunHead]:
        with self._mutex:
            records = list(reversed(self._newest_first()))
        return [_head(r) for r in records]

    def run_head(self, run_id: str) -> RunHead | None:
        with self._mutex:
            record = self._record(run_id)
        return None if record is None else _head(record)

    def runs_marker(self) -> tuple[int, float | None]:
        with self._mutex:
            newest = max((run.record.updated_at for run in self._runs.values()), default=None)
            return len(self._runs), newest

    def phase_statuses(self, run_id: str) -> list[str]:
        return [phase.status for phase in self.load_state(run_id).phases.values()]

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        with self._mutex:  # no writer of this process runs meanwhile
            yield

    # -- operator requests ----------------------------------------------------------------
    def add_request(self, run_id: str, kind: str, data: JsonDict) -> int:
        with self._mutex:
            if run_id not in self._runs:
                raise RunNotFound(f"no run {run_id}")  # SQLite's foreign key refuses it too
            request_id = max(self._requests, default=0) + 1
            self._requests[request_id] = _Request(run_id, kind, dump(data))
            return request_id

    def take_requests(self, run_id: str) -> list[StoredRequest]:
        with self._mutex:
            pending = [
                StoredRequest(request_id, r.kind, json.loads(r.data))
                for request_id, r in sorted(self._requests.items())
                if r.run_id == run_id and not r.consumed
            ]
        return pending

    def consume_request(self, request_id: int) -> None:
        with self._mutex:
            request = self._requests.get(request_id)
            if request is not None:
                request.consumed = True

    def request_taken(self, request_id: int) -> bool:
        with self._mutex:
            request = self._requests.get(request_id)
            return request is not None and request.consumed


def _head(record: RunRecord) -> RunHead:
    return RunHead(
        id=record.id,
        plan_name=record.plan_name,
        status=record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
        last_seq=record.last_seq,
    )


_: type[JournalStore] = MemoryStore  # mypy checks that MemoryStore keeps the contract
