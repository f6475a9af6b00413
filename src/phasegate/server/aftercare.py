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

from dataclasses import dataclass, field

from phasegate.engine import operator
from phasegate.run.state import TERMINAL
from phasegate.server.job_payloads import JobOptions
from phasegate.store.contract import JournalStore


@dataclass(frozen=True)
class Job:
    run_id: str
    action: str  # resume (which starts a pending run) | rollback | abort | promote | reject
    by: str  # the actor the journal records
    overrides: dict[str, str] = field(default_factory=dict)
    extra: JobOptions = field(default_factory=JobOptions)


def leftover_jobs(store: JournalStore, run_id: str) -> tuple[list[Job], str | None]:
    """Consume the run's unread requests: the jobs they become, and who approved (then
    ``approved_resume`` should be asked once the worker is gone), if anyone did."""
    jobs: list[Job] = []
    approved_by: str | None = None
    for request_id, kind, data in store.take_requests(run_id):
        store.consume_request(request_id)
        if store.get_run(run_id).status in TERMINAL:
            continue
        by = str(data.get("by", "operator"))
        if kind == "abort":
            jobs.append(Job(run_id, "abort", by, extra={"reason": str(data.get("reason") or "")}))
        elif kind == "promote":  # the worker exited before reading it: a job promotes
            jobs.append(Job(run_id, "promote", by, extra={"full": bool(data.get("full"))}))
        elif kind == "reject":  # the worker exited before reading it: a job rolls back
            for decision in data.get("decisions", [])[:1]:
                extra: JobOptions = {
                    "check": decision["key"],
                    "comment": decision.get("comment", ""),
                }
                jobs.append(Job(run_id, "reject", str(decision.get("by")), extra=extra))
        elif kind == "approve":
            operator.approve(store, run_id, check=str(data["key"]), by=by)
            approved_by = by
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
