"""Dispatching run actions to ``phasegate worker`` processes on any host, through PostgreSQL.

The queue is procrastinate's (docs/dependencies.md says why), in the store's own database: a
job is one run action (start or resume, roll back, abort, promote, reject), the same payload
the server's local pool hands its child processes (server/job.py), minus anything secret: a
queue row is readable by whoever reads the database, so a job never carries a variable value
(the journal has the public ones; an action that needs a secret value runs on the server that
received it, server/workers.py).

Delivery is at least once, and that is enough: what makes a run single-writer is not the
queue but the store's fence (store/postgres/ownership.py). A job delivered twice, or a
takeover job for a run whose owner turns out alive, meets a claim that is refused, and ends.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import cast

import procrastinate
import psycopg
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Status
from procrastinate.schema import SchemaManager
from procrastinate.types import JSONDict

from phasegate.errors import StoreError
from phasegate.server.job_payloads import JobOptions, QueuedJob
from phasegate.store.postgres.connection import connect, translate

log = logging.getLogger("phasegate.server.queue")

QUEUE = "phasegate"
TASK = "phasegate.run_action"
# pg_advisory_xact_lock key while procrastinate's schema is created (store/postgres/schema.py
# keeps the store's own keys; this one is the queue's).
SCHEMA_KEY = 0x70686173_65000003
# procrastinate's notification channel of our queue (its schema's insert trigger).
NOTIFY_CHANNEL = f"procrastinate_queue_v1#{QUEUE}"


def ensure_schema(url: str, where: str) -> None:
    """Create procrastinate's tables in the store's database once (processes starting at once
    wait for the first). Its version is pinned with phasegate's; a newer procrastinate
    brings its own migrations, applied by whoever upgrades (docs/workers.md)."""
    conn = connect(url, where)
    try:
        with conn.transaction():
            conn.execute(b"SELECT pg_advisory_xact_lock(%s)", (SCHEMA_KEY,))
            found = conn.execute(b"SELECT to_regclass('procrastinate_jobs')").fetchone()
            if found is None or found[0] is None:
                schema = SchemaManager.get_schema()
                conn.execute(schema.encode())
    except psycopg.Error as exc:
        raise translate(exc, where, writing=True) from exc
    finally:
        conn.close()


def payload(run_id: str, action: str, by: str, extra: JobOptions | None = None) -> QueuedJob:
    """A job's arguments: JSON, nothing secret (see the module's docstring)."""
    return {"run_id": run_id, "action": action, "by": by, "extra": JobOptions(**(extra or {}))}


class Dispatcher:
    """Defers jobs from synchronous code (the server's threads, the CLI): one procrastinate
    app on a small connection pool, opened once."""

    def __init__(self, url: str, where: str) -> None:
        self.where = where
        ensure_schema(url, where)
        self._app = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=url, min_size=1, max_size=4)
        )
        try:
            self._app.open()
        except Exception as exc:  # procrastinate wraps psycopg's errors in its own
            raise StoreError(f"cannot open the job queue in {where}: {exc}") from exc

    def defer(
        self,
        job: QueuedJob,
        *,
        dedupe: str | None = None,
        serial: bool = True,
        at: float | None = None,
    ) -> int | None:
        """Queue ``job`` (``payload``); returns its id. The jobs of one run execute one at a
        time, in order (procrastinate's ``lock``, ``run_lock``), as in the server's own pool;
        ``serial=False`` for a takeover, which must not wait behind the job a dead worker
        still holds (the store's fence orders them instead). With ``dedupe``, a job with that
        key still waiting in the queue makes this a no-op (None): takeovers found by several
        workers at once queue one job. ``at`` (a Unix time): not executed before then (a
        parked monitoring run's resume, server/worker_host.py); such a job must not be
        ``serial``: a waiting job of a run holds back the run's later ones (an abort)."""
        lock = run_lock(str(job["run_id"])) if serial else None
        assert at is None or lock is None, "a scheduled job would hold back the run's others"
        when = None if at is None else datetime.fromtimestamp(at, UTC)
        deferrer = self._app.configure_task(
            name=TASK, queue=QUEUE, lock=lock, queueing_lock=dedupe, schedule_at=when
        )
        try:
            # A job's TypedDict holds JSON only; procrastinate's signature wants its own alias.
            return int(deferrer.defer(**cast(JSONDict, job)))
        except queue_errors.AlreadyEnqueued:
            return None
        except queue_errors.ProcrastinateException as exc:
            raise StoreError(f"cannot queue the job for run {job['run_id']}: {exc}") from exc

    def pending(self, run_id: str) -> str | None:
        """``executing`` while a worker executes a job of the run, ``queued`` while one
        waits, else None."""
        try:
            jobs = self._app.job_manager.list_jobs(lock=run_lock(run_id))
        except queue_errors.ProcrastinateException as exc:
            raise StoreError(f"cannot read the job queue in {self.where}: {exc}") from exc
        statuses = {job.status for job in jobs}
        if Status.DOING.value in statuses:
            return "executing"
        if Status.TODO.value in statuses:
            return "queued"
        return None

    def holds(self, dedupe: str) -> bool:
        """A job queued with this ``dedupe`` key waits (scheduled or not) or executes."""
        try:
            jobs = self._app.job_manager.list_jobs(queue=QUEUE, queueing_lock=dedupe)
        except queue_errors.ProcrastinateException as exc:
            raise StoreError(f"cannot read the job queue in {self.where}: {exc}") from exc
        return any(job.status in (Status.TODO.value, Status.DOING.value) for job in jobs)

    def scheduled(self, within: float) -> list[float]:
        """When the waiting jobs scheduled for the next ``within`` seconds are due (Unix
        times, ascending): the worker wakes the queue then (``wake``)."""
        try:
            jobs = self._app.job_manager.list_jobs(queue=QUEUE, status=Status.TODO.value)
        except queue_errors.ProcrastinateException as exc:
            raise StoreError(f"cannot read the job queue in {self.where}: {exc}") from exc
        now = datetime.now(UTC).timestamp()
        times = [job.scheduled_at.timestamp() for job in jobs if job.scheduled_at is not None]
        return sorted(t for t in times if t <= now + within)

    def wake(self) -> None:
        """Wake every worker of the queue now, as a new job does: procrastinate's worker
        looks for due jobs on its queue's notification (the one its insert trigger sends;
        procrastinate is pinned, docs/dependencies.md), and otherwise only every few
        seconds, so a scheduled job is taken when it is due, not up to a poll later."""
        note = json.dumps({"type": "job_inserted", "job_id": 0})
        try:
            self._app.connector.execute_query(
                "SELECT pg_notify(%(channel)s, %(note)s)", channel=NOTIFY_CHANNEL, note=note
            )
        except queue_errors.ProcrastinateException as exc:
            raise StoreError(f"cannot wake the job queue in {self.where}: {exc}") from exc

    def close(self) -> None:
        self._app.close()


def run_lock(run_id: str) -> str:
    return f"run:{run_id}"
