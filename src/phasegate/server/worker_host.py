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

Takeover time is bounded by: the owner's session ending (a killed process: at once; a lost
host: TCP keepalives, ~10 s, ownership.py), plus one scan interval, plus a child's start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Unpack

import procrastinate

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


async def execute(config: WorkerConfig, job: QueuedJob) -> int:
    """Run one job in a child process; its exit code (logged, never raised: a run's failure
    is the run's, and a job is not retried by the queue; takeovers are the scanner's)."""
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
                    extra=_parking(config, job.get("extra") or {}),
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


def _parking(config: WorkerConfig, extra: JobOptions) -> JobOptions:
    """The job's options, with this worker's parking of queued runs: every worker's scanner
    resumes parked runs, so any of them may park one. (A monitoring run keeps its worker
    here: the scanner does not resume it at its next check's time.)"""
    if config.park_after is None:
        return extra
    merged: JobOptions = {**extra, "park_queued": config.park_after}
    return merged


class Takeover:
    """The scanner: runs whose owner is gone get one resume job each."""

    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._store: JournalStore | None = None
        self._dispatcher: Dispatcher | None = None
        self._queued: dict[str, float] = {}
        self._unparking: dict[str, float] = {}  # parked queued runs resumed (unpark.py)
        self._lock = threading.Lock()  # one thread at a time uses the store

    def _open(self) -> tuple[JournalStore, Dispatcher]:
        if self._store is None:
            self._store = PostgresStore(self.config.store_url, state_dir=self.config.state_dir)
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(self.config.store_url, self.config.location)
        return self._store, self._dispatcher

    def aftercare(self, run_id: str) -> list[str]:
        """After a job's child exited: the requests it left become the run's next jobs, and
        an approval that came while it exited resumes the run (server/aftercare.py)."""
        with self._lock:
            try:
                store, dispatcher = self._open()
                jobs, approved_by = leftover_jobs(store, run_id)
                if approved_by is not None:
                    resume = approved_resume(store, run_id, approved_by)
                    jobs += [resume] if resume is not None else []
                for job in jobs:
                    dispatcher.defer(payload(job.run_id, job.action, job.by, job.extra))
            except Exception:
                self._reset()
                raise
        return [job.action for job in jobs]

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
        return queued

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


async def _scan_forever(takeover: Takeover, app: procrastinate.App, config: WorkerConfig) -> None:
    while True:
        try:
            await asyncio.to_thread(takeover.scan)
            await redeliver_stalled(app, config.stalled_after)
        except Exception:  # a scanner must go on: the database may be back next time
            log.exception("cannot look for runs that lost their owner")
        await asyncio.sleep(config.scan_every)


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
        await execute(config, job)
        try:
            await asyncio.to_thread(takeover.aftercare, str(job["run_id"]))
        except Exception:  # the job ran; what it left is read again by the next one
            log.exception("run %s: cannot settle the requests its worker left", job["run_id"])

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
