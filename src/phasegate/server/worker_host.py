"""``phasegate worker``: executes queued run actions on this host (issue 12 §4).

Any number of workers, on any hosts, share one PostgreSQL store. Each:

- takes jobs from the queue (server/queue.py; procrastinate's worker: LISTEN/NOTIFY wakes it,
  ``--max-runs`` jobs at once) and executes each in a child process, exactly as the server's
  local pool does (``python -m phasegate.server.job``, the job on stdin). A child dies with its
  worker (``PR_SET_PDEATHSIG``): a worker that is killed takes its runs down with it, as a lost
  host does, and never leaves a run executing that no worker answers for;
- looks every ``takeover_within / 5`` seconds for runs whose owner is gone
  (``JournalStore.abandoned``: on PostgreSQL, no session holds the run's ownership lock, on
  whatever host the owner was) and queues one resume per run (runs started through the queue
  or a server; a `phasegate run` is resumed by whoever ran it); and puts the jobs of workers
  whose heartbeat stopped (for half of ``takeover_within``) back in the queue (a run that was
  never claimed, so never owned).
  The resume's claim is fenced (store/postgres/ownership.py): if two workers race, one
  claims and the other's child finds the run owned and ends. The previous owner's steps are
  settled by the journal's rules (engine/orphans.py): a step still running on this host is
  waited for, a finished one is read from its supervisor's record, and one with no record is
  left for a human unless idempotent.

A run that only waits parks (``--park-after``): queued for a lane slot, it is resumed once its
slot is granted (server/unpark.py: at every scan and at each journal change, PostgreSQL's
NOTIFY); monitoring between checks, its resume is one queue job scheduled ``--park-lead``
before the next check (``Takeover._park``), keyed by the run and its last evaluated slot, and
workers wake the queue when it is due (``Dispatcher.wake``) rather than at procrastinate's
next poll.

Takeover time is bounded by: the owner's session ending (a killed process: at once; a lost
host: TCP keepalives, ~10 s, ownership.py), plus one scan interval, plus a child's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack

import procrastinate

from phasegate.engine import postmonitor
from phasegate.run.state import RunState
from phasegate.server.aftercare import approved_resume, leftover_jobs
from phasegate.server.environment import run_environment
from phasegate.server.job import stdin_job
from phasegate.server.job_payloads import JobOptions, QueuedJob
from phasegate.server.queue import QUEUE, TASK, Dispatcher, ensure_schema, payload
from phasegate.server.unpark import unpark_queued
from phasegate.store.contract import JournalStore
from phasegate.store.postgres import PostgresStore
from phasegate.store.records import RunRecord

log = logging.getLogger("phasegate.worker")

# A run this worker queued a takeover for is not queued again for this long (the resume's
# child needs a moment to start and claim it).
REQUEUE_AFTER = 10.0
# Between two lane passes woken by journal changes (a busy store changes all the time).
UNPARK_GAP = 0.1


@dataclass(frozen=True)
class WorkerConfig:
    store_url: str
    location: str  # the URL, password masked
    state_dir: Path  # step logs, outputs and supervisor records of the runs executed here
    max_runs: int = 4
    takeover_within: float = 15.0
    plan_root: Path = Path(".")
    python: str = sys.executable
    # Names of this worker's environment variables the runs see beyond the base set
    # (server/environment.py, as `serve --pass-env`): the worker's own environment holds the
    # store URL ($PHASEGATE_STORE, perhaps with its password) and whatever else its unit
    # gives it, which no step should read.
    pass_env: tuple[str, ...] = ()
    # A run queued this many seconds for a lane slot gives its worker process back, keeping
    # its place; the scanner resumes it once its slot is granted (``worker --park-after``;
    # server/unpark.py). None: it keeps its process while it waits.
    park_after: float | None = 3.0
    # A parked monitoring run is resumed this long before its next check (``worker
    # --park-lead``; at most half of park_after, as under serve: server/workers.py ``_lead``).
    park_lead: float = 1.5

    @property
    def lead(self) -> float:
        after = self.park_after
        return self.park_lead if after is None else min(self.park_lead, after / 2)

    @property
    def scan_every(self) -> float:
        return max(0.2, self.takeover_within / 5)

    @property
    def heartbeat_every(self) -> float:
        return max(0.5, self.takeover_within / 6)

    @property
    def stalled_after(self) -> float:
        """A worker silent this long is dead: its jobs are delivered again (a late heartbeat
        of a live one only delivers a job twice, which the fence makes harmless)."""
        return max(1.5, self.takeover_within / 2)


async def execute(config: WorkerConfig, job: QueuedJob, *, secret: bool = False) -> int:
    """Run one job in a child process; its exit code (logged, never raised: a run's failure
    is the run's, and a job is not retried by the queue; takeovers are the scanner's).
    ``secret``: the run was started with secret variables (it never parks)."""
    run_id = str(job["run_id"])
    directory = config.state_dir / "runs" / run_id
    directory.mkdir(parents=True, exist_ok=True)
    env = {**run_environment(config.pass_env), "PHASEGATE_HOME": str(config.state_dir)}
    with open(directory / "worker.log", "ab") as out:
        proc = await asyncio.create_subprocess_exec(
            config.python,
            "-m",
            "phasegate.server.job",
            str(job["action"]),
            run_id,
            stdin=asyncio.subprocess.PIPE,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            cwd=config.plan_root,
            env=env,
            start_new_session=True,
        )
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(
                stdin_job(
                    state_dir=str(config.state_dir),
                    run_id=run_id,
                    action=str(job["action"]),
                    by=str(job["by"]),
                    overrides={},  # a queued job carries no values (server/queue.py)
                    extra=_parking(config, job.get("extra") or {}, secret=secret),
                    store_url=config.store_url,
                    die_with_parent=os.getpid(),
                )
            )
            await proc.stdin.drain()
            proc.stdin.close()
        code = await proc.wait()
    if code != 0:
        log.info("%s %s: exit %s (see runs/%s/worker.log)", job["action"], run_id, code, run_id)
    return code


def _parking(config: WorkerConfig, extra: JobOptions, *, secret: bool = False) -> JobOptions:
    """The job's options, with this worker's parking: a run queued for a lane slot and a
    monitoring run between checks give their child process back (every worker's scanner
    resumes parked queued runs, and a parked monitoring run's resume is a scheduled job:
    ``Takeover._park``), so any worker may park one. Not a run started with secret variables:
    the journal never stores their values, so no resume could give them again (as under
    serve, server/workers.py ``_parking``; the queue never carries one, but a run of a
    server's own pool may be taken over here)."""
    if config.park_after is None or secret:
        return extra
    merged: JobOptions = {
        **extra,
        "park_queued": config.park_after,
        "park_monitoring": config.park_after,
    }
    return merged


class Takeover:
    """The scanner: runs whose owner is gone get one resume job each."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._store: JournalStore | None = None
        self._dispatcher: Dispatcher | None = None
        self._queued: dict[str, float] = {}
        self._unparking: dict[str, float] = {}  # parked queued runs resumed (unpark.py)
        # Parked monitoring runs whose scheduled resume was made sure of: run id -> last_seq.
        self._reparked: dict[str, int] = {}
        # Set by the scanner's loop: a scheduled job was queued, due then (a wake timer).
        self.on_scheduled: Callable[[float], object] | None = None
        self._lock = threading.Lock()  # one thread at a time uses the store

    def _open(self) -> tuple[JournalStore, Dispatcher]:
        if self._store is None:
            self._store = PostgresStore(self.config.store_url, state_dir=self.config.state_dir)
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(self.config.store_url, self.config.location)
        return self._store, self._dispatcher

    def aftercare(self, run_id: str) -> tuple[list[str], float | None]:
        """After a job's child exited: the requests it left become the run's next jobs, an
        approval that came while it exited resumes the run (server/aftercare.py), and a run
        the child parked while monitoring gets its scheduled resume (``_park``; returned:
        when it is due)."""
        with self._lock:
            try:
                store, dispatcher = self._open()
                jobs, approved_by = leftover_jobs(store, run_id)
                if approved_by is not None:
                    resume = approved_resume(store, run_id, approved_by)
                    jobs += [resume] if resume is not None else []
                for job in jobs:
                    dispatcher.defer(payload(job.run_id, job.action, job.by, job.extra))
                record = store.get_run(run_id)
                at = self._park(store, dispatcher, record) if _parked_monitoring(record) else None
            except Exception:
                self._reset()
                raise
        return [job.action for job in jobs], at

    def prepare(self, job: QueuedJob) -> tuple[bool, bool]:
        """Before a job's child starts: ``(execute it, the run has secret variables)``. A
        parked monitoring run's scheduled resume (``park_slot``) is dropped when it is stale:
        the run is owned (another resume took it), no longer parked (aborted, finished), or
        its journal is past that slot (a second job for one slot, queued by a scanner that
        read the run just before the first resume evaluated it): one resume per due slot."""
        with self._lock:
            try:
                store, _ = self._open()
                record = store.get_run(str(job["run_id"]))
                secret = bool(record.options.get("secret_overrides"))
                slot = (job.get("extra") or {}).get("park_slot")
                if slot is None:
                    return True, secret
                if not _parked_monitoring(record):
                    return False, secret
                return _last_slot(store.load_state(record.id)) == slot, secret
            except Exception:
                self._reset()
                raise

    def _park(self, store: JournalStore, dispatcher: Dispatcher, record: RunRecord) -> float:
        """Queue the one resume of a parked monitoring run: a job scheduled ``lead`` before
        its next check (at once when nothing is left to wait for), keyed by the run and its
        last evaluated slot, so whoever queues it again for the same slot (the worker whose
        child parked it, any scanner) finds it queued. Returns when it is due (Unix time)."""
        state = store.load_state(record.id)
        now = time.time()
        at = postmonitor.resume_at(state, now) - self.config.lead
        last = _last_slot(state)
        started_by = str(record.options.get("started_by"))
        job = payload(record.id, "resume", started_by, {"park_slot": last})
        queued = dispatcher.defer(
            job, dedupe=f"park:{record.id}:{last}", serial=False, at=at if at > now else None
        )
        if queued is not None:
            when = datetime.fromtimestamp(at, UTC).strftime("%H:%M:%S")
            log.info("run %s: parked while monitoring, resume queued for %s", record.id, when)
        return at

    def scan(self) -> list[str]:
        """One pass (blocking: called in a thread). Returns the runs it queued."""
        with self._lock:
            try:
                return self._scan()
            except Exception:
                self._reset()
                raise

    def _scan(self) -> list[str]:
        store, dispatcher = self._open()
        now = time.monotonic()
        self._queued = {k: t for k, t in self._queued.items() if now - t < REQUEUE_AFTER}
        queued = []
        for record in store.abandoned():
            started_by = record.options.get("started_by")
            if not isinstance(started_by, str):
                continue  # `phasegate run`'s runs are resumed by whoever ran them
            if record.status == "queued" and record.owner is None:
                continue  # parked while queued: resumed once its slot is granted (below)
            if _parked_monitoring(record):
                continue  # parked between checks: its resume is a scheduled job (below)
            if record.id in self._queued:
                continue
            job = payload(record.id, "resume", started_by)
            dispatcher.defer(job, dedupe=f"takeover:{record.id}", serial=False)
            self._queued[record.id] = now
            owner = record.owner
            log.info(
                "run %s lost its owner (pid %s on %s): resume queued",
                record.id,
                owner.pid if owner else "?",
                owner.host if owner else "?",
            )
            queued.append(record.id)

        def unpark(record: RunRecord) -> None:
            started_by = str(record.options.get("started_by"))
            dispatcher.defer(payload(record.id, "resume", started_by), dedupe=f"unpark:{record.id}")
            log.info("run %s: its lane slot is granted, resume queued", record.id)

        def busy(run_id: str) -> bool:
            return dispatcher.pending(run_id) is not None

        queued += unpark_queued(store, busy, self._unparking, unpark)
        self._repark(store, dispatcher)
        return queued

    def unpark(self) -> list[str]:
        """The lane part of a scan alone (after a journal change: a slot may be free)."""
        with self._lock:
            try:
                store, dispatcher = self._open()

                def unpark(record: RunRecord) -> None:
                    started_by = str(record.options.get("started_by"))
                    job = payload(record.id, "resume", started_by)
                    dispatcher.defer(job, dedupe=f"unpark:{record.id}")
                    log.info("run %s: its lane slot is granted, resume queued", record.id)

                def busy(run_id: str) -> bool:
                    return dispatcher.pending(run_id) is not None

                return unpark_queued(store, busy, self._unparking, unpark)
            except Exception:
                self._reset()
                raise

    def _repark(self, store: JournalStore, dispatcher: Dispatcher) -> None:
        """Parked monitoring runs whose scheduled resume is missing (the worker that parked
        one died before queueing it, or it was parked before this version) get it: once per
        journal position of the run, the key deduplicating against a job already queued."""
        seen: dict[str, int] = {}
        for record in store.list_runs(status="monitoring", limit=100_000):
            if not _parked_monitoring(record):
                continue
            seen[record.id] = record.last_seq
            if self._reparked.get(record.id) == record.last_seq:
                continue
            state = store.load_state(record.id)
            if not dispatcher.holds(f"park:{record.id}:{_last_slot(state)}"):
                self._park(store, dispatcher, record)
        self._reparked = seen

    def upcoming(self, within: float) -> list[float]:
        """When the queue's scheduled jobs of the next ``within`` seconds are due."""
        with self._lock:
            try:
                _, dispatcher = self._open()
                return dispatcher.scheduled(within)
            except Exception:
                self._reset()
                raise

    def wake(self) -> None:
        with self._lock:
            try:
                _, dispatcher = self._open()
                dispatcher.wake()
            except Exception:
                self._reset()
                raise

    def _reset(self) -> None:
        """Drop the connections (the database may be back next time)."""
        with contextlib.suppress(Exception):
            self.close()
        self._store = self._dispatcher = None

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        if self._dispatcher is not None:
            self._dispatcher.close()


def _parked_monitoring(record: RunRecord) -> bool:
    """A monitoring run no process owns, started by a server or the queue: parked between
    checks (engine/postmonitor.py ``park``), not crashed (a dead owner stays recorded)."""
    return (
        record.status == "monitoring"
        and record.owner is None
        and isinstance(record.options.get("started_by"), str)
    )


def _last_slot(state: RunState) -> int:
    monitoring = state.monitoring
    return 0 if monitoring is None else int(monitoring["slot"])


async def _scan_forever(takeover: Takeover, app: procrastinate.App, config: WorkerConfig) -> None:
    """The full scan every ``scan_every`` seconds; between two, the lane part again at each
    journal change (PostgreSQL's NOTIFY, at most every ``UNPARK_GAP`` seconds): a run's end
    or a phase's frees a lane slot, and a parked run waiting for it is resumed at once
    instead of up to a scan later. Each pass also sets a timer for the queue's scheduled
    jobs due before the next one (a parked monitoring run's resume): ``wake`` then."""
    loop = asyncio.get_running_loop()
    armed: set[float] = set()
    waiter: PostgresStore | None = None  # its own connection: waits for journal changes
    last_full = -math.inf

    def arm(at: float) -> None:
        if at in armed:
            return
        armed.add(at)

        def ring() -> None:
            armed.discard(at)
            task = loop.create_task(asyncio.to_thread(takeover.wake))
            task.add_done_callback(_quiet)

        loop.call_later(max(at - time.time(), 0.0), ring)

    takeover.on_scheduled = lambda at: loop.call_soon_threadsafe(arm, at)
    try:
        while True:
            cursor = None
            try:
                if waiter is None:
                    waiter = await asyncio.to_thread(
                        PostgresStore, config.store_url, state_dir=config.state_dir
                    )
                cursor = await asyncio.to_thread(waiter.change_cursor)
            except Exception:  # the scan below says why (the same database)
                await _drop(waiter)
                waiter = None
            try:
                if time.monotonic() - last_full >= config.scan_every:
                    last_full = time.monotonic()
                    await asyncio.to_thread(takeover.scan)
                    await redeliver_stalled(app, config.stalled_after)
                    for at in await asyncio.to_thread(takeover.upcoming, 2 * config.scan_every):
                        arm(at)
                else:
                    await asyncio.to_thread(takeover.unpark)
            except Exception:  # a scanner must go on: the database may be back next time
                log.exception("cannot look for runs that lost their owner")
            left = max(config.scan_every - (time.monotonic() - last_full), UNPARK_GAP)
            if waiter is None or cursor is None:
                await asyncio.sleep(left)
                continue
            with contextlib.suppress(Exception):  # a lost listener: the timeout passes
                await asyncio.to_thread(waiter.wait_for_change, cursor, left)
            await asyncio.sleep(UNPARK_GAP)
    finally:
        takeover.on_scheduled = None
        await _drop(waiter)


async def _drop(waiter: PostgresStore | None) -> None:
    """Close the scanner's waiting store (None afterwards: opened again next time)."""
    if waiter is not None:
        with contextlib.suppress(Exception):
            waiter.stop_listening()
            await asyncio.to_thread(waiter.close)


def _quiet(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("cannot wake the queue for a scheduled job: %s", task.exception())


async def redeliver_stalled(app: procrastinate.App, seconds: float) -> list[int]:
    """Jobs a dead worker had taken (no heartbeat for ``seconds``) go back to the queue: a
    run it never got to claim (still pending, owned by nobody) is started by another worker.
    Delivering a job twice is safe: the run's claim is fenced."""
    manager = app.job_manager
    jobs = list(await manager.get_stalled_jobs(queue=QUEUE, seconds_since_heartbeat=seconds))
    for job in jobs:
        await manager.retry_job(job)
        log.info("job %s (%s) of a dead worker: delivered again", job.id, job.task_kwargs)
    await manager.prune_stalled_workers(seconds_since_heartbeat=seconds)
    return [int(job.id) for job in jobs if job.id is not None]


async def serve(config: WorkerConfig) -> None:
    """Run the worker until SIGINT/SIGTERM (procrastinate's handlers: running jobs are
    waited for; a second signal stops at once, and their runs are taken over elsewhere)."""
    await asyncio.to_thread(ensure_schema, config.store_url, config.location)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=config.store_url))

    takeover = Takeover(config)

    @app.task(name=TASK, queue=QUEUE)
    async def run_action(**job: Unpack[QueuedJob]) -> None:
        try:
            wanted, secret = await asyncio.to_thread(takeover.prepare, job)
        except Exception:  # unreadable now: executed, and never parked (never wrongly)
            log.exception("run %s: cannot read the run before its job", job["run_id"])
            wanted, secret = True, True
        if not wanted:
            log.info("run %s: a scheduled resume no longer due (resumed already)", job["run_id"])
            return
        await execute(config, job, secret=secret)
        try:
            _, at = await asyncio.to_thread(takeover.aftercare, str(job["run_id"]))
        except Exception:  # the job ran; what it left is read again by the next one
            log.exception("run %s: cannot settle the requests its worker left", job["run_id"])
            return
        if at is not None and takeover.on_scheduled is not None:
            takeover.on_scheduled(at)

    name = f"{socket.gethostname()}:{os.getpid()}"
    async with app.open_async():
        scanner = asyncio.create_task(_scan_forever(takeover, app, config))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                concurrency=config.max_runs,
                name=name,
                install_signal_handlers=True,
                # Jobs are never retried by the queue; a dead worker's runs are taken over
                # by the scanner, so a stalled job only needs to stop counting as running.
                update_heartbeat_interval=config.heartbeat_every,
                stalled_worker_timeout=config.stalled_after,
            )
        finally:
            scanner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await scanner
            await asyncio.to_thread(takeover.close)
