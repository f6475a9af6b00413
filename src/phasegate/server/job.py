"""One worker process: ``python -m phasegate.server.job < job.json``.

The server's pool starts one per run action (start, resume, roll back, abort, promote,
reject). The job arrives on stdin, not in argv, because it may carry secret variables (argv
is readable by every user through /proc). The process owns the run while it drives it, exactly as
``phasegate resume`` would, and outlives a server that stops: the journal is the only link.
Its output (masked, like the terminal's) goes to ``runs/<id>/worker.log``.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from pathlib import Path

from phasegate import identity
from phasegate.engine import operator
from phasegate.engine.session import RunOptions
from phasegate.errors import PhasegateError, RunStateError
from phasegate.run.state import EXIT_CODES
from phasegate.server.job_payloads import ChildSettings, JobOptions, StdinJob
from phasegate.store.backends import open_journal

PR_SET_PDEATHSIG = 1  # linux/prctl.h
ACTIONS = ("resume", "rollback", "abort", "promote", "reject")
# The server may hold a run for a few milliseconds (recording an approval): wait that out.
CLAIM_ATTEMPTS = 100
# A worker that resumes a run whose previous worker died waits for the step that worker left
# running as long as the step may run: its own timeout bounds the wait (engine/orphans.py), and
# an abort ends it. Nobody stands at a terminal to say --kill-orphans.
ORPHAN_WAIT = 24 * 3600.0


def stdin_job(
    *,
    state_dir: str,
    run_id: str,
    action: str,
    by: str,
    overrides: dict[str, str],
    extra: JobOptions,
    store_url: str | None,
    die_with_parent: int | None = None,
) -> bytes:
    """What this process reads on stdin, as the server's pool (server/workers.py) and a
    ``phasegate worker`` (server/worker_host.py) write it. The store URL may hold the
    database password, and overrides may hold secret values: stdin keeps them out of argv
    (readable by every user through /proc/PID/cmdline) and out of the steps' environment."""
    settings = ChildSettings()
    if store_url:
        settings["store_url"] = store_url
    if die_with_parent is not None:
        settings["die_with_parent"] = die_with_parent
    job = StdinJob(
        state_dir=state_dir,
        run_id=run_id,
        action=action,
        by=by,
        overrides=overrides,
        **extra,
        **settings,
    )
    return json.dumps(job).encode()


def execute(job: StdinJob) -> str:
    store = open_journal(Path(job["state_dir"]), url=job.get("store_url") or None)
    options = RunOptions(
        overrides=dict(job.get("overrides") or {}),
        console_stream=sys.stdout,
        orphan_wait=ORPHAN_WAIT,
        park_monitoring=job.get("park_monitoring"),
        park_queued=job.get("park_queued"),
    )
    run_id, action, by = str(job["run_id"]), str(job["action"]), str(job["by"])
    # The server authenticated `by` (a token); the run's `run.started` entry records it.
    identity.assume(by)
    for attempt in range(CLAIM_ATTEMPTS):
        try:
            if action == "resume":
                return operator.resume(
                    store,
                    run_id,
                    options,
                    retry=list(job.get("retry") or []),
                    skip=list(job.get("skip") or []),
                    mark_done=list(job.get("mark_done") or []),
                )[1]
            if action == "rollback":
                return operator.rollback(store, run_id, options, by=by)[1]
            if action == "reject":  # POST …/reject (or the dashboard's Reject) of a paused run
                return (
                    operator.reject(
                        store,
                        run_id,
                        options,
                        check=job.get("check"),
                        by=by,
                        comment=str(job.get("comment") or ""),
                    )[2]
                    or "requested"
                )
            if action == "promote":  # the dashboard's Promote of a paused canary
                full = bool(job.get("full"))
                return operator.promote(store, run_id, options, full=full, by=by)[1] or "requested"
            grace = job.get("grace")
            status = operator.abort(
                store,
                run_id,
                options,
                by=by,
                reason=str(job.get("reason") or ""),
                grace=float(grace) if grace is not None else None,
                force=bool(job.get("force")),
            )[1]
            return status or "requested"
        except RunStateError as exc:
            if "being executed" not in exc.message or attempt == CLAIM_ATTEMPTS - 1:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


def die_with_parent(parent: int) -> bool:
    """Be killed (SIGKILL) when the process that started this one dies: a ``phasegate
    worker``'s runs go down with it, as on a lost host, and are taken over elsewhere. False
    when the parent is already gone (this process must not start the run)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    return os.getppid() == parent


def main() -> int:
    job = json.loads(sys.stdin.read())
    parent = job.get("die_with_parent")
    if isinstance(parent, int) and not die_with_parent(parent):
        print(f"{job.get('action')} {job.get('run_id')}: its worker is gone", file=sys.stderr)
        return 75
    if job.get("action") not in ACTIONS:
        print(f"unknown job action {job.get('action')!r}", file=sys.stderr)
        return 2
    try:
        status = execute(job)
    except PhasegateError as exc:
        print(f"{job['action']} {job['run_id']}: error: {exc.render()}", file=sys.stderr)
        return exc.exit_code
    print(f"{job['action']} {job['run_id']}: {status}", flush=True)
    return EXIT_CODES.get(status, 0)


if __name__ == "__main__":
    sys.exit(main())
