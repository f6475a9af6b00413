"""The store contract: what the engine, the CLI and the server may ask of a journal.

Modelled on huey's ``BaseStorage``: one documented interface, implementations side by side
(``sqlite.SqliteStore``, the default; ``postgres.PostgresStore``, a database several machines
share; ``memory.MemoryStore``, a real in-memory fake for tests), and one contract test suite
(``tests/store/contract/``) run against each of them, so a guarantee written here is a
guarantee tested on every back end.

Vocabulary. A *run* is a row of metadata (``RunRecord``) plus its *journal*: events numbered
``seq`` 1, 2, 3… without gaps. ``load_state`` is the fold of those events (the engine's
``apply``); a store keeps no other truth about a run. An *owner* is the process executing a
run; a *lock* is a name (the plan's) at most one unfinished run holds; a *request* is an
operator's input (approve, abort, promote…) queued for the owner. A *schedule* is a plan run
on a rule; a *slot* is one instant of it that exactly one server claims (store/schedules.py).

Errors (all ``PhasegateError``; see errors.py): ``RunNotFound`` for an unknown run,
``RunStateError`` for a claim a live owner refuses, ``LockHeld``, ``IdempotencyConflict``,
``StoreError`` for a write that does not continue the journal (and, from a back end, for a
journal it cannot read or write: ``JournalDamaged``, ``JournalFull``…). No back end lets its
driver's own exceptions (sqlite3, psycopg) escape.

The server's tokens and idempotency keys are a second, smaller contract, ``ServerLedger``
(SQLite: ``server_db.ServerDb``, its own file ``server.db``; PostgreSQL:
``postgres.PostgresLedger``, tables of the store's schema; memory:
``memory_ledger.MemoryLedger``).

Durations digests (``finished_runs``/``save_digests``, store/digests.py): a finished run's
summary for history reads, so estimates need no journal. Step logs
(``append_logs``/``read_log``, store/steplogs.py says where each back end keeps
them), step outputs (``step_outputs``, from the journal) and change notifications for live
views (``change_cursor``/``wait_for_change``, store/changes.py) are part of the contract.

Not in the contracts yet (issue 12 §2, next slices): reviews (files under
``state_dir/reviews/``), backups and other files a plan puts in ``RUN_DIR``, and the
integrity check behind ``phasegate check`` (``invariants.py`` for SQLite,
``postgres/check.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from phasegate.lanes.model import Lane, LaneChange, Ticket
from phasegate.run.inputs import StoredRequest
from phasegate.run.outline import PlanOutline
from phasegate.run.record import JsonDict
from phasegate.run.state import RunState
from phasegate.store.changes import ChangeCursor
from phasegate.store.digests import HistoryRow
from phasegate.store.fold import EventRow, NewEvent
from phasegate.store.process import Owner
from phasegate.store.records import RunHead, RunRecord, StoredEvent, StoredOptions, StoredToken
from phasegate.store.schedules import ScheduleRecord, SlotRecord
from phasegate.store.steplogs import LogChunk, LogSlice


class JournalStore(Protocol):
    """A journal of runs. One instance is used by one thread at a time (a server keeps one
    per thread); several instances, in several processes, may share one journal (every back
    end but the memory store, which lives in its process), and the guarantees below hold
    between them."""

    @property
    def state_dir(self) -> Path:
        """The directory beside the journal where run directories (step logs, outputs,
        backups) live; it exists once a run was created."""
        ...

    def close(self) -> None:
        """Release the connection; the instance is not used afterwards."""
        ...

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
        """Create a run owned by ``owner``, holding ``lock_name``, whose journal is one
        durable ``run.created`` event (seq 1): returns ``(run_id, True)``.

        Atomic: either all of that is stored, or nothing (a held lock, a full disk).
        Idempotent: when ``idempotency_key`` names an existing run of the same
        ``plan_sha256``, nothing is written and ``(that run's id, False)`` is returned, however
        many callers race; with another ``plan_sha256`` it raises ``IdempotencyConflict``.
        Raises ``LockHeld`` while an unfinished run holds the lock (a finished holder's lock
        is taken over), ``StoreError`` when ``run_id`` exists."""
        ...

    def claim(self, run_id: str, owner: Owner, *, lock_name: str | None = None) -> None:
        """Make ``owner`` the run's one executing process (and take ``lock_name`` if given),
        atomically. Raises ``RunNotFound``; ``RunStateError`` while another owner is alive
        or cannot be checked (on another host): a run never has two live owners. A dead
        owner (exited, a zombie, a reused pid) is replaced. Claiming again as the current
        owner succeeds.

        A shared store fences owners (PostgreSQL: a session lock per run and an owner
        epoch): once another owner has claimed the run, a previous owner's ``append`` or
        ``commit_applied`` raises ``OwnershipLost`` and stores nothing."""
        ...

    def release(self, run_id: str, *, owner: Owner) -> None:
        """Stop owning the run; a no-op unless ``owner`` (pid and host) owns it, so a stale
        owner cannot release its successor's claim."""
        ...

    def abandoned(self) -> list[RunRecord]:
        """In-flight runs (``records.IN_FLIGHT``) whose recorded owner is gone, oldest first:
        what a server or worker takes over. SQLite and memory: the owner is dead on this
        host (another host's owner cannot be judged there). PostgreSQL: no session holds the
        run's ownership lock, whichever host the owner was on (postgres/ownership.py). A
        running or rolling-back run with no owner (its owner stopped without finishing it) is
        listed; a pending one with no owner (created, queued, not yet started) is not."""
        ...

    def acquire_lock(self, run_id: str, name: str) -> None:
        """Hold lock ``name`` for the run. Raises ``LockHeld`` while another unfinished run
        holds it. A lock is released when its run reaches a terminal status, or starts
        monitoring with ``lock: release`` (``RunState.holds_lock``: the write that makes it
        false deletes the lock row, in the same transaction)."""
        ...

    def lock_holder(self, name: str) -> tuple[str, float] | None:
        """``(run_id, since)`` of the run holding lock ``name``, or None."""
        ...

    # -- the journal ----------------------------------------------------------------------
    def append(self, state: RunState, events: list[NewEvent], *, durable: bool) -> None:
        """Apply ``events`` to ``state`` (the caller's fold of the journal, advanced in place)
        and store them, atomically, with the run's new status and summary.

        Ordering: the events get seqs ``state.seq + 1…`` in the order given. Continuity: if
        the stored journal does not end at the caller's ``state.seq`` (another process
        appended meanwhile: a stale writer), raises ``StoreError`` and stores nothing.
        Durability: with ``durable=True`` the events survive power loss once this returns
        (a step's start is committed before its command is spawned); otherwise they survive
        a killed process, and power loss may lose only the newest non-durable events, never
        order. An event ``apply`` refuses raises ``InvalidTransition`` and stores nothing."""
        ...

    def commit_applied(
        self, state: RunState, rows: list[EventRow], changed: set[str], *, durable: bool
    ) -> None:
        """Store events already applied to ``state`` (``fold.fold``: the batching journal of
        ``store/journal.py``); the same atomicity, continuity and durability as ``append``.
        ``changed`` names the item/phase rows the events touched (a back end that keeps
        materialized rows rewrites only those)."""
        ...

    def events(self, run_id: str) -> list[StoredEvent]:
        """Every event of the run, by seq (1, 2, 3…). An unknown run has none."""
        ...

    def events_after(self, run_id: str, after: int, limit: int | None = None) -> list[StoredEvent]:
        """The cursor read of live views: events with ``seq > after``, by seq, at most
        ``limit``. Reading again from the last seq returned never repeats or skips one."""
        ...

    def load_state(self, run_id: str) -> RunState:
        """The fold (``run.state.apply``) of the run's stored events: what a resuming
        owner continues from; its ``seq`` is the last stored one."""
        ...

    # -- reading runs ---------------------------------------------------------------------
    def resolve(self, run_ref: str) -> str:
        """A full run id from an id, a unique prefix of one, or ``last``/``latest`` (the
        newest run a user started: a program's child, created with the idempotency key
        ``program:…`` (``records.CHILD_KEY_PREFIX``), only when there is no other run).
        Raises ``RunNotFound`` for no match, several matches, or ``""``."""
        ...

    def get_run(self, run_ref: str) -> RunRecord:
        """The run ``run_ref`` resolves to (``resolve``); its status, summary and
        ``last_seq`` are those after its newest stored event."""
        ...

    def list_runs(
        self, *, limit: int = 20, plan: str | None = None, status: str | None = None
    ) -> list[RunRecord]:
        """Runs, newest first (by creation), filtered by plan name and status."""
        ...

    def run_ids(self) -> list[str]:
        """Every run id, oldest first."""
        ...

    def runs_page(
        self,
        *,
        limit: int,
        plan: str | None = None,
        status: str | None = None,
        before: tuple[float, str] | None = None,
    ) -> list[RunRecord]:
        """At most ``limit`` runs, newest first by ``(created_at, id)``, strictly older than
        ``before`` when given: pages chained by the last run's ``(created_at, id)`` never
        repeat or skip a run, however many runs start meanwhile."""
        ...

    def run_heads(self) -> list[RunHead]:
        """Every run's polled columns, oldest first by ``(created_at, id)``; no plan text."""
        ...

    def run_head(self, run_id: str) -> RunHead | None:
        """The polled columns of exactly ``run_id`` (no prefix), or None."""
        ...

    def runs_marker(self) -> tuple[int, float | None]:
        """``(number of runs, newest updated_at)``: changes when a run is created or any
        run's journal moves, so a view knows when to read again."""
        ...

    def phase_statuses(self, run_id: str) -> list[str]:
        """The status of each phase the run has started or finished (``load_state``'s
        phases), in no particular order."""
        ...

    def snapshot(self) -> AbstractContextManager[None]:
        """Every read inside the block sees one consistent state of the journal (writers
        are neither seen nor blocked meanwhile)."""
        ...

    # -- live views -----------------------------------------------------------------------
    def change_cursor(self, run_id: str | None = None) -> ChangeCursor:
        """Where the journal of ``run_id`` (of every run, when None) is now. Take it *before*
        reading: ``wait_for_change`` then sees every write committed after it."""
        ...

    def wait_for_change(self, cursor: ChangeCursor, timeout: float) -> bool:
        """Block until an event is committed past ``cursor`` (to its run, or to any run),
        True; False after ``timeout`` seconds without one. At once True when one already
        was. The cursor may come from another instance of the same store (another thread).
        False is no error (a lost notification): the caller reads again all the same."""
        ...

    # -- step logs and outputs ------------------------------------------------------------
    def append_logs(self, run_id: str, chunks: Sequence[LogChunk]) -> None:
        """Append each ``(item key, bytes)`` to the end of that item's log, in the order
        given, as one write. The bytes are already masked (the engine masks every line). A
        step's log is appended before its end is journalled, so a reader who sees a step
        finished sees its whole log. Raises ``StoreError`` when it cannot be written (the
        engine then stops logging that run, never the run)."""
        ...

    def read_log(self, run_id: str, key: str, offset: int = 0) -> LogSlice:
        """The log of item ``key`` from byte ``offset`` to its current end (empty for an item
        that printed nothing, or an unknown one). Reading again from ``end`` returns exactly
        what was appended since: a tail never repeats or skips a byte. A negative ``offset``
        reads the last ``-offset`` bytes (what a page shows of a long log)."""
        ...

    def log_location(self, run_id: str, key: str) -> str:
        """Where the item's log is kept, for people (a file path; the store and the key):
        what ``phasegate logs`` prints and the journal's ``log`` field records."""
        ...

    def step_outputs(self, run_id: str) -> dict[str, dict[str, str]]:
        """The outputs (``KEY=VALUE`` lines of ``$PHASEGATE_OUTPUT``) of each finished step
        that wrote some, by item key, masked; from the journal (``item.finished``)."""
        ...

    # -- operator requests ----------------------------------------------------------------
    def add_request(self, run_id: str, kind: str, data: JsonDict) -> int:
        """Queue a request for the run's owner, durably; returns its id (ids increase)."""
        ...

    def take_requests(self, run_id: str) -> list[StoredRequest]:
        """The run's requests not yet consumed, oldest first. Reading does not consume: a
        request stays pending until ``consume_request``, so an owner that dies before acting
        leaves it for its successor (delivered at least once, acted on once)."""
        ...

    def consume_request(self, request_id: int) -> None:
        """Mark a request acted on: ``take_requests`` never returns it again."""
        ...

    def request_taken(self, request_id: int) -> bool:
        """Whether the request was consumed (the requester waits for this)."""
        ...

    # -- schedules (store/schedules.py) -----------------------------------------------------
    def add_schedule(self, record: ScheduleRecord) -> bool:
        """Store a schedule, durably; False (and nothing stored) when one has that name."""
        ...

    def schedules(self) -> list[ScheduleRecord]:
        """Every schedule, by name."""
        ...

    def schedule_named(self, name: str) -> ScheduleRecord | None:
        """The schedule called ``name``, or None."""
        ...

    def remove_schedule(self, name: str) -> bool:
        """Delete the schedule and its slots, durably (the runs it started stay); from then
        on ``claim_slot`` refuses its slots. False when there was none."""
        ...

    def claim_slot(self, name: str, slot: int, *, by: str, ts: float) -> bool:
        """Claim ``slot`` (epoch seconds) of schedule ``name`` for ``by``: True for exactly one
        caller per ``(name, slot)``, however many processes and servers race (the slot's row
        is then ``claimed``); False for every other, and for a schedule that does not exist.
        The claim is durable before this returns."""
        ...

    def record_slot(
        self, name: str, slot: int, *, outcome: str, run_id: str | None = None, note: str = ""
    ) -> None:
        """What the claimer did with a claimed slot: ``fired`` (``run_id``), ``missed`` or
        ``skipped`` (``note`` says why). A no-op for a slot nobody claimed."""
        ...

    def slots(self, name: str, *, limit: int = 50) -> list[SlotRecord]:
        """The schedule's claimed slots, newest slot first, at most ``limit``."""
        ...

    # -- lanes (store/lanes.py) ---------------------------------------------------------------
    def lanes(self) -> list[Lane]:
        """Every lane with a setting (``set_lane``), by name; ``*`` is the pool."""
        ...

    def set_lane(
        self, name: str, *, cap: int | None, weight: float | None, by: str, ts: float
    ) -> LaneChange:
        """Set lane ``name``'s cap (None: no cap) and weight (None: keep it; 1 for a new
        lane), durably, and record the change with ``by`` and the previous values. Holds for
        every grant from then on; runs already holding a slot keep it (never pre-empted).
        Raises ``UsageError`` for a bad name, a negative cap or a weight not above 0."""
        ...

    def lane_changes(self, *, lane: str | None = None, limit: int = 50) -> list[LaneChange]:
        """The recorded ``set_lane`` changes (of ``lane``, or all), newest first."""
        ...

    def lane_tickets(self) -> list[Ticket]:
        """Every ticket (queued and granted), oldest first by ``(enqueued_at, run_id,
        phase)``."""
        ...

    def lane_place(self, run_id: str, *, phase: str = "") -> tuple[Ticket, int] | None:
        """The ticket of the run (``phase`` "": its plan's lane; a phase id: that phase's)
        and its place among its lane's queued tickets (1: next; 0 once granted), or None
        without one: what a queued run reads while it waits, without writing (only the head
        of a queue asks for grants, so a thousand queued runs cost a thousand cheap reads,
        not a thousand write transactions)."""
        ...

    def lane_request(
        self,
        run_id: str,
        lane: str,
        *,
        ts: float | None = None,
        phase: str = "",
        priority: int = 0,
    ) -> Ticket:
        """Ask for a slot of ``lane`` for ``run_id`` (``phase`` "": for the whole run; a
        phase id: for that phase) and grant slots, atomically with every other grant of
        every process sharing the store. The ticket is queued at ``ts`` with ``priority``
        (-100 to 100, a head start in the queue: lanes/model.py) unless it exists already
        (its place is kept); grants are made at ``ts`` (None: both are the time read once
        the grant's lock is held, so grant times follow grant order). Stale tickets that
        hold a slot or would get one are dropped (store/lanes.py), then
        ``lanes.scheduler.grants`` decides, for every queued ticket, not only this one.
        Returns the ticket (``granted_at`` set once it holds a slot). No cap is ever exceeded
        by a grant, however many processes ask at once."""
        ...

    def lane_grant(self, *, ts: float | None = None) -> None:
        """Grant slots to queued tickets as ``lane_request`` does, without asking for one: what
        a server does for the runs its workers parked while queued (nobody else may be
        waiting to ask; server/workers.py ``resume_queued``), and after a cap change. Atomic
        with every other grant; no cap is ever exceeded."""
        ...

    def lane_release(self, run_id: str, *, phase: str | None = None) -> None:
        """Drop a ticket of the run (its slot, or its place in the queue): ``phase`` None:
        every ticket of the run; "": its plan's; a phase id: that phase's. A run's tickets
        are also dropped in the same transaction as the event that ends it."""
        ...

    # -- durations digests (store/digests.py) ---------------------------------------------
    def finished_runs(
        self, plan: str, *, limit: int, before: tuple[float, str] | None = None
    ) -> list[HistoryRow]:
        """The finished runs (``finished_at`` set) of ``plan``, newest first (``created_at``,
        then ``id``, descending), at most ``limit``, strictly after the cursor ``before``
        (``(created_at, id)`` of the last row of the previous page), each with its digest as
        saved for the run's current ``last_seq`` (None: none saved, or saved at another
        ``last_seq``: stale). Reads no journal."""
        ...

    def save_digests(self, digests: Sequence[tuple[str, int, Mapping[str, object]]]) -> None:
        """Keep each ``(run_id, last_seq, digest)``: any JSON object, returned as written by
        ``finished_runs`` while the run's ``last_seq`` is that one; replaces an earlier digest
        of the run. A digest of a run the store does not know is ignored. Not durable (a lost
        digest is computed again). Raises ``StoreError`` on a read-only store."""
        ...


class ServerLedger(Protocol):
    """What ``phasegate serve`` keeps besides runs: API tokens (hashes only) and the
    idempotency keys of run starts. Shared by the threads of a server (each call is its own
    transaction) and by every server on the same state."""

    def add_token(self, token: StoredToken) -> bool:
        """Store a token, durably; False (and nothing stored) when one has that name."""
        ...

    def tokens(self) -> list[StoredToken]:
        """Every token, by name."""
        ...

    def token_named(self, name: str) -> StoredToken | None:
        """The token called ``name``, or None (revoked, never created)."""
        ...

    def token_by_key_id(self, key_id: str) -> StoredToken | None:
        """The token whose (unique, not secret) key id is ``key_id``, or None."""
        ...

    def revoke_token(self, name: str) -> bool:
        """Delete the token, durably: it is refused from the next lookup on. False when
        there was none."""
        ...

    def run_once(
        self, by: str, key: str, body_sha256: str, create: Callable[[], tuple[str, bool]]
    ) -> tuple[str, bool]:
        """``(run id, created)`` for idempotency ``key`` sent by ``by`` (keys are scoped per
        caller). ``create`` is called only for a key never seen by that caller, at most once
        however many requests race (the others wait, then get its run with ``False``), and
        the key is recorded with its run when ``create`` returns; if ``create`` raises,
        nothing is recorded. The same key with another ``body_sha256`` raises
        ``IdempotencyConflict`` naming the run."""
        ...
