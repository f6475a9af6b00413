"""What follows a worker's exit, wherever it ran (the server's pool, server/workers.py, or a
``phasegate worker``, server/worker_host.py): the requests it never read, and the approval
that arrived while it was exiting.

A worker reads operator requests while it drives the run. One that exits (the run paused,
finished or died) may leave some unread: an approval is recorded here, an abort, a promote or
a reject becomes the run's next job. And a paused run whose last missing approval arrived
while its worker was still exiting is resumed once the worker is gone, so an approval never
falls between "the worker is busy" and "the worker is gone".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from phasegate.engine import operator
from phasegate.errors import RunStateError, UsageError
from phasegate.run.inputs import (
    Abort,
    Approve,
    MalformedRequest,
    OperatorInput,
    Promote,
    Reject,
    Resume,
    from_request,
)
from phasegate.run.state import TERMINAL
from phasegate.server.job_payloads import JobOptions
from phasegate.store.contract import JournalStore
from phasegate.store.records import RunRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    run_id: str
    action: str  # resume (which starts a pending run) | rollback | abort | promote | reject
    by: str  # the actor the journal records
    overrides: dict[str, str] = field(default_factory=dict)
    extra: JobOptions = field(default_factory=JobOptions)


def secrets_given(record: RunRecord, overrides: dict[str, str]) -> None:
    """Refuse, before anything is queued, a job that continues a run no process executes
    without the secret variables the run was started with: the journal never stores their
    values, so the worker would refuse the job (engine/session.py ``attach``) and the action
    (an abort, a rollback) would be "queued" and never happen."""
    missing = [k for k in record.options.get("secret_overrides", []) if k not in overrides]
    if missing:
        names = ", ".join(missing)
        raise UsageError(
            f"run {record.id} needs the secret {names} again to continue: it was given when "
            "the run started and the journal never stores it, so no worker can act without it",
            hint=f"give it in the request's \"vars\" (the API), in the action's secret field "
            f"(the dashboard), or `phasegate resume|abort|rollback {record.id} --var "
            f"{missing[0]}=…` on a host with the state",
        )


def job_for(
    run_id: str, given: OperatorInput, overrides: dict[str, str] | None = None
) -> Job | None:
    """The job that answers ``given`` for a run no worker executes: the same verb the CLI
    runs (engine/operator.py), which gives the same input to the same ``respond``. None for
    an approval (recorded where it is made, ``operator.deliver_approval``)."""
    vars_ = dict(overrides or {})
    match given:
        case Abort():
            extra: JobOptions = {"reason": given.reason or "", "force": given.force}
            if given.grace is not None:
                extra["grace"] = given.grace
            return Job(run_id, "abort", given.by or "operator", vars_, extra)
        case Promote():
            return Job(run_id, "promote", given.by, vars_, {"full": given.full})
        case Reject(decisions=decisions) if decisions:
            # One decision: its item; several: every item waiting, as they were chosen.
            check = decisions[0].key if len(decisions) == 1 else None
            extra = {"check": check, "comment": decisions[0].comment or ""}
            return Job(run_id, "reject", decisions[0].by, vars_, extra)
        case Resume():
            return Job(run_id, "resume", given.by or "operator", vars_)
    return None


def leftover_jobs(store: JournalStore, run_id: str) -> tuple[list[Job], str | None]:
    """Consume the run's unread requests: the jobs they become, and who approved (then
    ``approved_resume`` should be asked once the worker is gone), if anyone did. Each is read
    as its typed input (run/inputs.py), as the owner would have read it."""
    jobs: list[Job] = []
    approved_by: str | None = None
    for request_id, kind, data in store.take_requests(run_id):
        store.consume_request(request_id)
        if store.get_run(run_id).status in TERMINAL:
            continue
        try:
            given = from_request(kind, data, request_id)
        except MalformedRequest as exc:
            log.warning("run %s: request #%s ignored: %s", run_id, request_id, exc)
            continue
        if isinstance(given, Approve):
            try:
                operator.deliver_approval(store, run_id, given)
            except RunStateError as exc:  # the item ended meanwhile
                log.info("run %s: %s", run_id, exc.message)
                continue
            approved_by = given.by
        elif (job := job_for(run_id, given)) is not None:
            jobs.append(job)
    return jobs, approved_by


def approved_resume(store: JournalStore, run_id: str, by: str) -> Job | None:
    """The resume a paused run needs once no approval it waits for is missing, else None."""
    state = store.load_state(run_id)
    pause = state.pause
    waited_for = [k for k in pause["items"] if k in state.items] if pause is not None else []
    if state.status != "paused" or not waited_for:
        return None
    if any(state.items[k].status == "awaiting_approval" for k in waited_for):
        return None
    return Job(run_id, "resume", by)
