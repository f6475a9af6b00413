"""The worker pool: run actions execute in child processes, at most ``size`` at once.

Why processes: a run owns its journal entry through its process (``store.process.Owner``),
its steps' process groups and its signals, exactly as under the CLI; a run is not tied to the
server's life. A server that stops leaves its children running (they own their runs and
finish them); a server that starts resumes its runs whose owner died (``resume_orphans``).

A worker can also die while the server is up (OOM, ``kill -9``), or the worker of an earlier
server can: a monitor thread looks every ``MONITOR_EVERY`` seconds for the server's in-flight
runs whose owner is dead (gone, a reused pid, or a zombie) and resumes them, as a Kubernetes
controller re-reconciles instead of reacting once at start-up. A run whose resume keeps
failing is retried with a growing back-off, then left for a human with a logged error.

One action per run at a time: a job for a run that is executing waits for it, so a resume
and a rollback of the same run never race for the claim.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable

from phasegate.engine import postmonitor, session
from phasegate.plan.loader import LoadedPlan
from phasegate.server.aftercare import Job, approved_resume, leftover_jobs
from phasegate.server.config import ServerConfig
from phasegate.server.environment import run_environment
from phasegate.server.job import stdin_job
from phasegate.server.job_payloads import JobOptions
from phasegate.server.queue import Dispatcher, payload
from phasegate.server.unpark import unpark_queued
from phasegate.store.backends import open_journal
from phasegate.store.contract import JournalStore
from phasegate.store.postgres.connection import mask
from phasegate.store.records import IN_FLIGHT, RunRecord

log = logging.getLogger("phasegate.server.workers")

MONITOR_EVERY = 1.0
# The shortest wait of the watch for a parked monitoring run due (a run still busy when due
# is looked at again this often, not in a spin).
WAKE_FLOOR = 0.05
# Parking (``ServerConfig.park_after``, ``serve --park-after``): a run in post-rollout
# monitoring whose next check is further off gives its worker back until then
# (engine/postmonitor.py ``park``): a 24 h monitor must not hold one of ``serve --workers N``
# for 24 h. It is resumed ``park_lead`` before the check is due. A run queued that long for a
# lane slot gives its worker back too (engine/laning.py ``parkable``), keeping its place, and
# is resumed once its slot is granted (``resume_queued``).
# Automatic resumes of one run before it is left for a human; the n-th waits 2**n seconds.
MAX_AUTO_RESUMES = 5


class WorkerPool:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._queue: deque[Job] = deque()
        self._active: dict[str, subprocess.Popen[bytes]] = {}
        self._cond = threading.Condition()
        self._stopping = False
        # Runs approved while their worker was still exiting: checked once it has exited.
        self._recheck: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self._monitor: threading.Thread | None = None
        self._follower: threading.Thread | None = None  # wakes the monitor (``_follow``)
        self._halt = threading.Event()
        self._wake = threading.Event()  # the watch looks now (a worker exited, _reap)
        # When the soonest parked monitoring run is to be resumed (time.time()), or None.
        self._next_parked: float | None = None
        # Automatic resumes per run: (how many so far, not before this time.monotonic()).
        self._auto: dict[str, tuple[int, float]] = {}
        # ``dispatch: queue``: jobs go to `phasegate worker`s through the store's queue.
        self._dispatcher: Dispatcher | None = None
        self._checks: JournalStore | None = None  # reads the runs' secret names (submit)
        # Parked monitoring runs: run id -> (the journal's last seq, when to resume it).
        self._parked: dict[str, tuple[int, float]] = {}
        # Parked queued runs whose resume was submitted: not submitted again until a worker
        # took the run (owned) or this long (time.monotonic()) has passed.
        self._unparking: dict[str, float] = {}
        self._checks_lock = threading.Lock()

    # -- the API's side ---------------------------------------------------------------------
    def start_run(
        self,
        store: JournalStore,
        loaded: LoadedPlan,
        options: session.RunOptions,
        before_start: Callable[[str], None] | None = None,
    ) -> tuple[str, bool]:
        """Create a run (pending, unowned) and queue its start: how the API's ``POST
        /runs`` and the scheduler's fires start runs. Returns ``(run id, created)``; an
        idempotency replay queues nothing. ``before_start`` writes into a created run's
        journal before any worker can pick it up (what policy admission let through)."""
        run_id, created = session.create(store, loaded, options)
        if created and before_start is not None:
            before_start(run_id)
        if created:
            by = options.started_by or "server"
            self.submit(Job(run_id, "resume", by, overrides=dict(options.overrides)))
        return run_id, created

    def submit(self, job: Job) -> None:
        if self._dispatcher is not None and not self._carries_secrets(job):
            # The journal has the run's public variables: the job carries none.
            self._dispatcher.defer(payload(job.run_id, job.action, job.by, job.extra))
            return
        with self._cond:
            self._queue.append(job)
            self._cond.notify_all()

    def _carries_secrets(self, job: Job) -> bool:
        """A job given a secret variable's value runs here: a queue row is no place for it."""
        if not job.overrides:
            return False
        with self._checks_lock:
            if self._checks is None:
                self._checks = open_journal(self.config.state_dir, url=self.config.store_url)
            record = self._checks.get_run(job.run_id)
        public = record.options.get("overrides") or {}
        return any(public.get(name) != value for name, value in job.overrides.items())

    def busy(self, run_id: str) -> bool:
        """A job for this run is executing or queued (here, or in the store's queue)."""
        return self.state(run_id) is not None

    def settle(self, run_id: str, timeout: float) -> bool:
        """Wait (bounded) until no job for this run is executing or queued: a run whose
        journal says it finished may still have its worker exiting. True when idle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            idle = self._cond.wait_for(
                lambda: (
                    run_id not in self._active and not any(j.run_id == run_id for j in self._queue)
                ),
                timeout,
            )
        if not idle or self._dispatcher is None:
            return idle
        while self._dispatcher.pending(run_id) is not None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def state(self, run_id: str) -> str | None:
        with self._cond:
            if run_id in self._active:
                return "executing"
            if any(j.run_id == run_id for j in self._queue):
                return "queued"
        if self._dispatcher is not None:
            return self._dispatcher.pending(run_id)
        return None

    def after_request(self, run_id: str, store: JournalStore) -> None:
        """A request was just recorded for a run this pool counted as busy: if its worker
        exited meanwhile (its reaper may have looked before the request came), the request
        is settled here, so none is left unread."""
        if self._dispatcher is not None or self.busy(run_id):
            return
        owner = store.get_run(run_id).owner
        if owner is not None and owner.alive() is not False:
            return  # a live process owns the run (another server's worker, a CLI): it reads it
        self._settle(run_id, store)

    def after_approval(self, run_id: str, by: str, store: JournalStore) -> None:
        """Resume a run paused for approvals once none is missing. A worker still executing
        the run (perhaps exiting, paused) is waited for: the check then runs as it is reaped,
        so an approval never falls between "the worker is busy" and "the worker is gone"."""
        with self._cond:
            if run_id in self._active:
                self._recheck[run_id] = by
                return
        self._resume_if_approved(run_id, by, store)

    def _resume_if_approved(self, run_id: str, by: str, store: JournalStore) -> None:
        job = approved_resume(store, run_id, by)
        if job is None:
            return
        if self._dispatcher is not None:
            # The store's queue runs a run's jobs one at a time, in order: a resume queued
            # behind a job still marked executing (the worker that paused the run may not
            # have marked its job done yet when the approval lands) runs after it; one
            # already waiting resumes the run itself.
            if self._dispatcher.pending(run_id) != "queued":
                self.submit(job)
            return
        if not self.busy(run_id):
            self.submit(job)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, *, monitor: bool = True) -> None:
        if self.config.dispatch == "queue":
            assert self.config.store_url is not None
            self._dispatcher = Dispatcher(self.config.store_url, mask(self.config.store_url))
            monitor = False  # `phasegate worker`s take over runs whose owner died
        self._thread = threading.Thread(target=self._dispatch, name="phasegate-pool", daemon=True)
        self._thread.start()
        if monitor:
            self._monitor = threading.Thread(
                target=self._watch, name="phasegate-orphans", daemon=True
            )
            self._monitor.start()
            self._follower = threading.Thread(
                target=self._follow, name="phasegate-follow", daemon=True
            )
            self._follower.start()

    def stop(self) -> None:
        """Stop starting jobs. Children keep running: they own their runs."""
        self._halt.set()
        self._wake.set()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in (self._thread, self._monitor, self._follower):
            if thread is not None:
                thread.join(timeout=5)
        if self._dispatcher is not None:
            self._dispatcher.close()
        if self._checks is not None:
            self._checks.close()

    def join(self, timeout: float) -> bool:
        """Wait until nothing is queued or executing (for tests and orderly shutdowns)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._active, timeout)

    def resume_orphans(self, store: JournalStore, *, unowned: bool = True) -> list[str]:
        """Queue a resume for each run this server started whose worker is gone.

        ``unowned``: also runs that no process owns (a server that died between creating a run
        and starting its worker). The monitor leaves those out: the API creates a run unowned
        and submits its job a moment later, and that job is the one to start it."""
        found: list[str] = []
        if self.config.dispatch == "queue":
            return found  # `phasegate worker`s take over runs whose owner died
        for status in IN_FLIGHT:
            for record in store.list_runs(status=status, limit=100_000):
                started_by = record.options.get("started_by")
                if not isinstance(started_by, str):
                    continue  # the CLI's runs are the CLI's to resume
                if record.owner is None and not unowned:
                    continue
                if record.owner is None and record.status in ("monitoring", "queued"):
                    continue  # parked: resume_parked / resume_queued resume it when due
                if record.owner is not None and record.owner.alive() is not False:
                    continue  # alive, or on another host: not ours to judge
                if self.busy(record.id) or not self._due(record.id):
                    continue
                log.info("resuming run %s (its worker is gone)", record.id)
                self.submit(Job(record.id, "resume", started_by))
                found.append(record.id)
        return found

    def resume_parked(self, store: JournalStore) -> list[str]:
        """Queue a resume for each monitoring run this server started that no process owns
        (its worker parked it: engine/postmonitor.py ``park``) once its next check is due
        within ``park_lead`` (at once when it has nothing left to wait for). The due time is read
        from the journal once per journal change, not at every look."""
        found: list[str] = []
        if self.config.dispatch == "queue":
            return found
        now = time.time()
        soonest: float | None = None
        for record in store.list_runs(status="monitoring", limit=100_000):
            started_by = record.options.get("started_by")
            if not isinstance(started_by, str) or record.owner is not None:
                continue
            if self.busy(record.id):
                continue
            cached = self._parked.get(record.id)
            if cached is None or cached[0] != record.last_seq:
                at = postmonitor.resume_at(store.load_state(record.id), now)
                cached = self._parked[record.id] = (record.last_seq, at)
            if cached[1] > now + self._lead():
                due = cached[1] - self._lead()
                soonest = due if soonest is None else min(soonest, due)
                continue
            del self._parked[record.id]
            log.info("resuming run %s (monitoring: its next check is due)", record.id)
            self.submit(Job(record.id, "resume", started_by))
            found.append(record.id)
        self._next_parked = soonest
        return found

    def _lead(self) -> float:
        """How long before its next check a parked monitoring run is resumed: ``park_lead``,
        at most half of ``park_after``, so the resumed run (its check then closer than
        ``park_after``) waits for it instead of parking again at once."""
        after = self.config.park_after
        lead = self.config.park_lead
        return lead if after is None else min(lead, after / 2)

    def resume_queued(self, store: JournalStore) -> list[str]:
        """Queue a resume for each run a server started that its worker parked while it was
        queued for a lane slot (engine/laning.py ``parkable``: status ``queued``, no owner)
        once none of its tickets is queued any more: its slot was granted (or its ticket is
        gone, and the resumed run asks again). Nobody else asks for grants on behalf of
        parked runs, so this asks (``lane_grant``), which also applies a cap changed at
        runtime. Any server on the store may resume a parked run; the claim is fenced, so a
        run never has two owners (two servers submitting one resume: one claims, the other's
        worker finds the run owned and ends)."""
        if self.config.dispatch == "queue":
            return []  # `phasegate worker`s do it (server/worker_host.py)
        return unpark_queued(store, self.busy, self._unparking, self._submit_unparked)

    def _submit_unparked(self, record: RunRecord) -> None:
        started_by = record.options.get("started_by")
        assert isinstance(started_by, str)
        log.info("resuming run %s (queued: its lane slot is granted)", record.id)
        self.submit(Job(record.id, "resume", started_by))

    def _due(self, run_id: str) -> bool:
        """Counts an automatic resume of ``run_id``; False while it must wait (back-off) or
        once it has had MAX_AUTO_RESUMES (a resume that fails every time needs a human)."""
        now = time.monotonic()
        with self._cond:
            count, not_before = self._auto.get(run_id, (0, 0.0))
            if now < not_before or count > MAX_AUTO_RESUMES:
                return False
            if count == MAX_AUTO_RESUMES:
                self._auto[run_id] = (count + 1, now)
                log.error(
                    "run %s: %d automatic resumes did not keep a worker alive; "
                    "`phasegate resume %s` by hand (see runs/%s/worker.log)",
                    run_id,
                    count,
                    run_id,
                    run_id,
                )
                return False
            self._auto[run_id] = (count + 1, now + 2.0 ** (count + 1))
            return True

    def _watch(self) -> None:
        """The monitor: notice dead workers while the server is up (not only at start-up).
        It looks every ``MONITOR_EVERY`` seconds; parked runs are looked at sooner too: at
        once when one of this pool's workers exits or the journal changes (a run's end
        frees the lane slot a parked run waits for: ``_reap``, ``_follow``), and when the
        next parked monitoring run is due (``resume_parked``), not a tick later."""
        store: JournalStore | None = None
        wait = MONITOR_EVERY
        tick = time.monotonic() + MONITOR_EVERY
        try:
            while True:
                self._wake.wait(wait)
                self._wake.clear()
                if self._halt.is_set():
                    break
                try:
                    if store is None:
                        store = open_journal(self.config.state_dir, url=self.config.store_url)
                    if time.monotonic() >= tick:
                        tick = time.monotonic() + MONITOR_EVERY
                        self.resume_orphans(store, unowned=False)
                    self.resume_parked(store)
                    self.resume_queued(store)
                except Exception:  # a monitor must go on: log, never die
                    log.exception("cannot look for runs whose worker died")
                # Until the next tick, or the next parked monitoring run due if sooner.
                wait = max(tick - time.monotonic(), WAKE_FLOOR)
                if self._next_parked is not None:
                    wait = min(wait, max(self._next_parked - time.time(), WAKE_FLOOR))
        finally:
            if store is not None:
                store.close()

    def _follow(self) -> None:
        """Wake the watch at each journal change (PostgreSQL's NOTIFY; SQLite's poll of the
        journal's head, store/changes.py), at most every ``WAKE_FLOOR`` seconds: the watch
        then looks at parked runs only (``resume_parked``, ``resume_queued``: one query each
        when none is parked)."""
        store: JournalStore | None = None
        try:
            while not self._halt.is_set():
                try:
                    if store is None:
                        store = open_journal(self.config.state_dir, url=self.config.store_url)
                    cursor = store.change_cursor()
                    if store.wait_for_change(cursor, MONITOR_EVERY):
                        self._wake.set()
                except Exception:  # the watch's tick still looks: log, go on
                    log.exception("cannot follow the journal's changes")
                    if store is not None:
                        store.close()
                    store = None
                    self._halt.wait(MONITOR_EVERY)
                self._halt.wait(WAKE_FLOOR)
        finally:
            if store is not None:
                store.close()

    # -- the dispatcher ---------------------------------------------------------------------
    def _next(self) -> Job | None:
        for job in self._queue:
            if job.run_id not in self._active:
                self._queue.remove(job)
                return job
        return None

    def _dispatch(self) -> None:
        with self._cond:
            while not self._stopping:
                job = self._next() if len(self._active) < self.config.workers else None
                if job is None:
                    self._cond.wait()
                    continue
                try:
                    self._active[job.run_id] = self._spawn(job)
                except OSError as exc:
                    log.error("cannot start a worker for run %s: %s", job.run_id, exc)
                    continue
                threading.Thread(
                    target=self._reap, args=(job.run_id,), name=f"reap-{job.run_id}", daemon=True
                ).start()

    def _parking(self, job: Job) -> JobOptions:
        """A worker parks a waiting run only where someone resumes it: this pool's watch
        thread (resume_parked, resume_queued). Without it (``serve`` not resuming orphans),
        or with ``--park-after never``, a waiting run keeps its worker; so does a run
        started with secret variables, whose values no resume could give again (the journal
        never stores them). (With dispatch: queue the `phasegate worker`s park waiting runs
        themselves: server/worker_host.py; a run with secrets never goes through the queue.)"""
        after = self.config.park_after
        if self._monitor is None or after is None or self._has_secrets(job.run_id):
            return JobOptions()
        return JobOptions(park_monitoring=after, park_queued=after)

    def _has_secrets(self, run_id: str) -> bool:
        """Read in the dispatching thread, with a store of its own (a SQLite connection
        belongs to the thread that opened it); a worker's start costs far more."""
        try:
            store = open_journal(self.config.state_dir, url=self.config.store_url)
            try:
                record = store.get_run(run_id)
            finally:
                store.close()
        except Exception:  # unreadable now: the run keeps its worker (never parked wrongly)
            log.exception("run %s: cannot read whether it has secrets; it will not park", run_id)
            return True
        return bool(record.options.get("secret_overrides"))

    def _spawn(self, job: Job) -> subprocess.Popen[bytes]:
        state_dir = self.config.state_dir
        directory = state_dir / "runs" / job.run_id
        directory.mkdir(parents=True, exist_ok=True)
        # Who the worker acts for travels in the job (stdin), not in the environment: the CLI
        # ignores environment identities (phasegate.identity). Of the server's environment,
        # only the allow-listed part (``serve --pass-env``).
        env = {**run_environment(self.config.pass_env), "PHASEGATE_HOME": str(state_dir)}
        stdin = stdin_job(
            state_dir=str(state_dir),
            run_id=job.run_id,
            action=job.action,
            by=job.by,
            overrides=job.overrides,
            extra={**job.extra, **self._parking(job)},
            store_url=self.config.store_url,
        )
        with open(directory / "worker.log", "ab") as out:
            proc = subprocess.Popen(
                [self.config.python, "-m", "phasegate.server.job", job.action, job.run_id],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.config.plan_root,
                env=env,
                # Its own session: a Ctrl-C or SIGTERM for the server is not the run's.
                start_new_session=True,
                umask=-1 if self.config.run_umask is None else self.config.run_umask,
            )
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # it died at once; _reap records the exit
        return proc

    def _reap(self, run_id: str) -> None:
        with self._cond:
            proc = self._active.get(run_id)
        if proc is None:
            return
        code = proc.wait()
        if code != 0:
            log.info("worker for run %s exited %s (see runs/%s/worker.log)", run_id, code, run_id)
        store = open_journal(self.config.state_dir, url=self.config.store_url)
        try:
            self._settle(run_id, store)
            with self._cond:
                if self._active.get(run_id) is proc:
                    del self._active[run_id]
                by = self._recheck.pop(run_id, None)
                if code == 0:
                    self._auto.pop(run_id, None)
                self._cond.notify_all()
            if by is not None:
                self._resume_if_approved(run_id, by, store)
            elif code != 0:
                self._after_failed_worker(run_id, store)
            # A request the API recorded after the first look, while this worker still
            # counted as busy: nobody else will read it now that it is gone.
            self.after_request(run_id, store)
            with self._cond:
                by = self._recheck.pop(run_id, None)
            if by is not None:
                self._resume_if_approved(run_id, by, store)
        except Exception:  # a reaper must reap: log, never die
            log.exception("cannot settle the requests left for run %s", run_id)
        finally:
            with self._cond:
                # Only this worker's entry: a job _settle queued may already have started the
                # next worker for the run, which its own reaper reaps.
                if self._active.get(run_id) is proc:
                    del self._active[run_id]
                self._cond.notify_all()
            store.close()
            self._wake.set()  # a lane slot it held may be free: the watch looks now

    def _after_failed_worker(self, run_id: str, store: JournalStore) -> None:
        """A worker that died (killed, crashed, or gave up with an error) left its run in
        flight: resume it at once (with back-off), rather than wait for the monitor's tick."""
        record = store.get_run(run_id)
        started_by = record.options.get("started_by")
        if record.status not in IN_FLIGHT:
            with self._cond:
                self._auto.pop(run_id, None)  # it settled: a later crash starts afresh
            return
        if not isinstance(started_by, str):
            return
        if record.owner is not None and record.owner.alive() is not False:
            return
        if not self.busy(run_id) and self._due(run_id):
            log.info("resuming run %s (its worker exited, the run is %s)", run_id, record.status)
            self.submit(Job(run_id, "resume", started_by))

    def _settle(self, run_id: str, store: JournalStore) -> None:
        """Requests the worker never read (server/aftercare.py)."""
        jobs, approved_by = leftover_jobs(store, run_id)
        for job in jobs:
            self.submit(job)
        if approved_by is not None:
            with self._cond:
                self._recheck[run_id] = approved_by
