"""``POST /api/v1/runs/{id}/promote`` and ``…/reject``: the canary's go-ahead and the no-go.

Both are operator actions, like approve and abort: a run a live process executes is asked
through the journal's request table (its engine acts at its next decision, as for the CLI);
a paused run is continued (promote) or rolled back (reject) by a worker, never in the
server's own process.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends

from phasegate.engine import operator
from phasegate.errors import RunStateError
from phasegate.run.inputs import Promote
from phasegate.server.aftercare import Job, job_for, secrets_given
from phasegate.server.api.deps import pool, store
from phasegate.server.api.models import ActionResult, PromoteRequest, RejectRequest
from phasegate.server.api.runs import _in_process, _live_elsewhere, _not_finished, summary
from phasegate.server.auth import Identity, require
from phasegate.server.errors import ERROR_RESPONSES
from phasegate.server.job_payloads import JobOptions
from phasegate.server.workers import WorkerPool
from phasegate.store.contract import JournalStore

Queued = Literal["requested", "queued"]
router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=ERROR_RESPONSES)

operator_role = Depends(require("operator"))
the_store = Depends(store)
the_pool = Depends(pool)


def request_promote(
    run_id: str,
    full: bool,
    by: str,
    journal: JournalStore,
    workers: WorkerPool,
    overrides: dict[str, str] | None = None,
) -> Queued:
    """What `phasegate promote [--full]` does, for the API and the dashboard: "requested"
    (a live process will act) or "queued" (a worker continues the paused run)."""
    record = journal.get_run(run_id)
    _not_finished(record)
    state = journal.load_state(record.id)
    if state.mode != "forward":
        raise RunStateError(f"run {record.id} is rolling back; it cannot be promoted")
    if workers.busy(record.id) or _live_elsewhere(record):
        with _in_process:
            operator.ask(journal, record.id, Promote(by=by, full=full))
            workers.after_request(record.id, journal)
        return "requested"
    if not full and not any(i.status == "awaiting_approval" for i in state.items.values()):
        raise RunStateError(
            f"run {record.id} is not paused at a canary step",
            hint='POST …/promote {"full": true} skips the canary steps left',
        )
    secrets_given(record, overrides or {})
    job = job_for(record.id, Promote(by=by, full=full), overrides)
    assert job is not None
    workers.submit(job)
    return "queued"


@router.post("/{run_id}/promote", response_model=ActionResult, status_code=202)
def promote(
    run_id: str,
    body: PromoteRequest | None = None,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """Promote the run's canary: end the current pause or bake (a pause waiting for approval
    is approved), or with ``full`` skip every canary step left and promote now. Operator."""
    body = body or PromoteRequest()
    outcome = request_promote(run_id, body.full, identity.actor, journal, workers, dict(body.vars))
    record = journal.get_run(run_id)
    return ActionResult(run=summary(record, workers), action="promote", outcome=outcome)


def request_reject(
    run_id: str,
    check: str | None,
    comment: str,
    by: str,
    journal: JournalStore,
    workers: WorkerPool,
    overrides: dict[str, str],
) -> tuple[list[str], Queued]:
    """What `phasegate reject` does, for the API and the dashboard: checked at once (a
    finished run or an unknown check is refused before anything changes); a live process is
    asked, a paused run is rolled back by a worker, never in the server's own process."""
    with _in_process:
        record, keys, given = operator.prepare_reject(
            journal, run_id, check=check, by=by, comment=comment.strip()
        )
        if workers.busy(record.id) or _live_elsewhere(record):
            operator.ask(journal, record.id, given)
            workers.after_request(record.id, journal)
            return keys, "requested"
        secrets_given(record, overrides)
        extra: JobOptions = {"check": check, "comment": comment.strip()}
        workers.submit(Job(record.id, "reject", by, overrides, extra))
        return keys, "queued"


@router.post("/{run_id}/reject", response_model=ActionResult, status_code=202)
def reject(
    run_id: str,
    body: RejectRequest,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """A no-go: the item waiting for approval (or ``check``, also one not reached yet) fails
    and the run rolls back, recorded with who and ``comment``
    (``phasegate reject RUN [GATE] --comment``). Operator."""
    keys, outcome = request_reject(
        run_id, body.check, body.comment, identity.actor, journal, workers, dict(body.vars)
    )
    fresh = journal.get_run(run_id)
    return ActionResult(
        run=summary(fresh, workers),
        action="reject",
        outcome=outcome,
        keys=keys,
    )
