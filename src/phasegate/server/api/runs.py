"""``/api/v1/runs``: start, list, read, and the operator's actions.

Executing a run (starting, resuming, rolling back, aborting one nobody executes) is a job for
the worker pool; the answer comes at once (201/202) and the run's status tells the rest.
Approving, and aborting a run a live worker executes, are quick journal writes done here.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import threading
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response

from phasegate.engine import monitor_finish, operator, session
from phasegate.engine.postmonitor import FINISH_KEY
from phasegate.errors import RunStateError
from phasegate.policy import PolicyRefused, Verdict, admit, journal_admission, load_pack
from phasegate.report.data import build
from phasegate.report.logs import run_logs
from phasegate.report.owner import owner_info
from phasegate.run.inputs import Abort
from phasegate.run.state import TERMINAL
from phasegate.server.aftercare import Job, job_for, secrets_given
from phasegate.server.api.deps import config, idempotency_ledger, pool, store
from phasegate.server.api.estimates import run_estimate
from phasegate.server.api.models import (
    AbortRequest,
    ActionResult,
    ApproveRequest,
    Event,
    EventPage,
    FinishMonitoringRequest,
    LogEntry,
    ResumeRequest,
    RollbackRequest,
    RunDocument,
    RunEstimate,
    RunPage,
    RunSummary,
    StartRequest,
)
from phasegate.server.api.plans import check_loads, load_source, shown_name
from phasegate.server.auth import Identity, require
from phasegate.server.config import ServerConfig
from phasegate.server.errors import ERROR_RESPONSES, ApiError
from phasegate.server.idempotency import IdempotencyLedger, scoped, unscoped
from phasegate.server.job_payloads import JobOptions
from phasegate.server.sandbox import run_limited
from phasegate.server.workers import WorkerPool
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from phasegate.store.records import RunRecord

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], responses=ERROR_RESPONSES)

# Approvals and abort requests written by this process: one at a time, so two requests for
# one run never append to the journal from two stale copies of its state.
_in_process = threading.Lock()

viewer = Depends(require("viewer"))
operator_role = Depends(require("operator"))
the_store = Depends(store)
the_pool = Depends(pool)


def _live_elsewhere(record: RunRecord) -> bool:
    owner = record.owner
    return owner is not None and owner != Owner.me() and owner.alive() is not False


def summary(record: RunRecord, workers: WorkerPool) -> RunSummary:
    worker: Any = workers.state(record.id)
    if worker is None and record.status not in TERMINAL and _live_elsewhere(record):
        worker = "elsewhere"
    started_by = record.options.get("started_by")
    return RunSummary(
        id=record.id,
        plan=record.plan_name,
        status=record.status,
        created_at=record.created_at,
        updated_at=record.updated_at,
        finished_at=record.finished_at,
        idempotency_key=unscoped(
            started_by if isinstance(started_by, str) else None, record.idempotency_key
        ),
        started_by=started_by if isinstance(started_by, str) else None,
        worker=worker,
    )


# -- start ----------------------------------------------------------------------------------
@router.post(
    "",
    status_code=201,
    response_model=RunSummary,
    responses={200: {"model": RunSummary, "description": "an Idempotency-Key replay"}},
)
def start_run(
    body: StartRequest,
    response: Response,
    idempotency_key: str | None = Header(None, min_length=1, max_length=200),
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
    cfg: ServerConfig = Depends(config),  # noqa: B008
    ledger: IdempotencyLedger = Depends(idempotency_ledger),  # noqa: B008
) -> RunSummary:
    """Create the run (pending) and queue it for a worker. With ``Idempotency-Key``, the same
    key and body answer with the same run (200, ``Idempotent-Replay: true``); the same key
    with another body is a 409 conflict."""
    # A plan that crashes or exhausts the loader does so in a limited child, not here.
    run_limited(check_loads, cfg, body)

    _may_override(cfg, body, identity)

    def create() -> tuple[str, bool]:
        loaded = load_source(cfg, body, keep=True)
        verdict = None
        if cfg.policies is not None:  # admission: PolicyRefused answers 422 policy_violation
            verdict = _admit(cfg, body, loaded)
        options = session.RunOptions(
            overrides=dict(body.vars),
            idempotency_key=None
            if idempotency_key is None
            else scoped(identity.actor, idempotency_key),
            max_parallel=body.max_parallel,
            require_checked=body.require_checked,
            started_by=identity.actor,
            priority=body.priority,
            policies=None if cfg.policies is None else str(cfg.policies),
        )
        if verdict is None:
            return workers.start_run(journal, loaded, options)

        def admitted(run_id: str) -> None:
            journal_admission(
                journal,
                run_id,
                verdict,
                body.override_policies,
                body.override_reason,
                identity.actor,
            )

        return workers.start_run(journal, loaded, options, before_start=admitted)

    if idempotency_key is None:
        run_id, created = create()
    else:
        # A field left out is not part of the body: a key recorded before `priority` existed
        # still matches the same request (`None` is "not given", as the CLI's default).
        unset = {"priority"} if body.priority is None else set()
        canonical = json.dumps(body.model_dump(mode="json", exclude=unset), sort_keys=True)
        body_sha = hashlib.sha256(canonical.encode()).hexdigest()
        run_id, created = ledger.run_once(idempotency_key, body_sha, identity.actor, create)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    response.headers["Location"] = f"/api/v1/runs/{run_id}"
    return summary(journal.get_run(run_id), workers)


# -- read -----------------------------------------------------------------------------------
def _may_override(cfg: ServerConfig, body: StartRequest, identity: Identity) -> None:
    """Overriding a policy is the admin's call (an operator may start runs, not waive the
    rules they are held to); an override needs a pack to override and a reason."""
    if not body.override_policies:
        return
    if not identity.can("admin"):
        raise ApiError(
            403,
            "forbidden",
            "overriding a policy needs the admin role",
            hint="ask an admin to start the run with override_policies, or fix the plan",
        )
    if cfg.policies is None:
        raise ApiError(
            422,
            "invalid_request",
            "override_policies: this server has no policy pack to override",
            hint="omit override_policies (serve --policies DIR enables policies)",
        )
    if not body.override_reason.strip():
        raise ApiError(
            422,
            "invalid_request",
            "override_reason: an override needs a reason",
            hint="it is journalled with your name: say why the policy does not apply",
        )


def _admit(cfg: ServerConfig, body: StartRequest, loaded: Any) -> Verdict:
    """The server's policy pack on a plan to start (with the caller's overrides); violations
    name the plan as the caller did (``<plan>`` for a plan sent as text), never by the file
    the server keeps."""
    try:
        return admit(
            load_pack(cfg.policies or ""), loaded, body.override_policies, body.override_reason
        )
    except PolicyRefused as exc:
        shown = shown_name(cfg, body)
        violations = [dataclasses.replace(v, file=shown) for v in exc.violations]
        raise PolicyRefused(violations, exc.headline or "refused by policy") from None


def _decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4))
        created, run_id = json.loads(raw)
        return float(created), str(run_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            422, "invalid_request", "the cursor is not one this server gave", hint="omit it"
        ) from None


def _encode_cursor(record: RunRecord) -> str:
    raw = json.dumps([record.created_at, record.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@router.get("", response_model=RunPage)
def list_runs(
    status: str | None = Query(None, max_length=64),
    plan: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = Query(None, max_length=1000),
    _: Identity = viewer,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> RunPage:
    """Runs, newest first, by creation order: a page never repeats or skips a run, however
    many start meanwhile."""
    before = _decode_cursor(cursor) if cursor else None
    records = journal.runs_page(limit=limit + 1, plan=plan, status=status, before=before)
    more = len(records) > limit
    records = records[:limit]
    return RunPage(
        runs=[summary(r, workers) for r in records],
        next_cursor=_encode_cursor(records[-1]) if more and records else None,
    )


@router.get("/{run_id}", response_model=RunDocument)
def get_run(run_id: str, _: Identity = viewer, journal: JournalStore = the_store) -> Any:
    """The run as ``phasegate status RUN --json`` shows it."""
    record = journal.get_run(run_id)
    doc = build(journal, record.id)
    doc["run"]["owner"] = owner_info(record)  # alive False: crashed, resumable
    return doc


@router.get("/{run_id}/events", response_model=EventPage)
def events(
    run_id: str,
    after: int = Query(0, ge=0, le=2**62, description="only events with a greater seq"),
    limit: int = Query(1000, ge=1, le=10_000),
    _: Identity = viewer,
    journal: JournalStore = the_store,
) -> EventPage:
    """The journal's events of a run, oldest first (secrets were masked when written)."""
    record = journal.get_run(run_id)
    rows = journal.events_after(record.id, after, limit)
    found = [Event(seq=e.seq, ts=e.ts, type=e.type, data=e.data) for e in rows]
    return EventPage(events=found, last_seq=found[-1].seq if found else after)


@router.get("/{run_id}/logs", response_model=list[LogEntry])
def logs(
    run_id: str,
    item: str | None = Query(None, max_length=500, description="keys containing this"),
    _: Identity = viewer,
    journal: JournalStore = the_store,
) -> list[LogEntry]:
    """The output of a run's steps and rollback actions (``phasegate logs RUN --json``)."""
    data = build(journal, journal.get_run(run_id).id)
    # From the store: a running step's log as far as the engine flushed it.
    found = run_logs(data, item, journal)
    if item and not found:
        raise ApiError(
            404,
            "not_found",
            f"no step or rollback action matching {item!r} ran in run {data['run']['id']}",
            hint="GET /api/v1/runs/{id} lists item keys",
        )
    return [
        LogEntry(key=e["key"], status=e["status"], exit_code=e["exit_code"], text=e["text"])
        for e in found
    ]


@router.get("/{run_id}/estimate", response_model=RunEstimate)
def estimate(run_id: str, _: Identity = viewer, journal: JournalStore = the_store) -> RunEstimate:
    """The run's remaining time with its 90 % interval: the plan's estimates (learned from
    the finished runs of the same plan its calibration rule admits) conditioned on how far
    this run got, human waits removed (docs/estimates.md); and its budgets' runways, each with
    its state and the projected total's 90 % interval, as the dashboard's runway panel shows
    them (docs/budgets.md)."""
    return run_estimate(journal, journal.get_run(run_id))


# -- act ------------------------------------------------------------------------------------
def _not_finished(record: RunRecord) -> None:
    if record.status in TERMINAL:
        raise RunStateError(f"run {record.id} has finished ({record.status})")


# A run that has finished in its journal may still have its worker exiting for a moment.
EXITING_GRACE = 10.0


def _not_executing(record: RunRecord, workers: WorkerPool, what: str) -> None:
    if record.status in TERMINAL and workers.busy(record.id):
        workers.settle(record.id, EXITING_GRACE)
    if workers.busy(record.id) or _live_elsewhere(record):
        raise RunStateError(
            f"run {record.id} is executing; it cannot {what} now",
            hint="POST …/abort asks it to stop and roll back",
        )


@router.post("/{run_id}/approve", response_model=ActionResult)
def approve(
    run_id: str,
    body: ApproveRequest | None = None,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """Approve a manual check, a ``pause: approve`` step or an inconclusive analysis (all
    waiting, or ``check``). Approvals count distinct approvers; a check with
    ``prevent_self_review`` refuses the run's starter (403). A paused run whose last
    approval arrives is resumed by a worker."""
    record = journal.get_run(run_id)
    if body is not None and body.break_glass:
        return _break_glass(record, body, identity, journal, workers)
    with _in_process:
        before = journal.load_state(record.id)
        waiting = {k for k, i in before.items.items() if i.status == "awaiting_approval"}
        _, keys = operator.approve(
            journal,
            record.id,
            check=body.check if body else None,
            by=identity.actor,
            comment=body.comment.strip() if body else "",
            choose=body.choose if body else None,
        )
    if waiting & set(keys):
        workers.after_approval(record.id, identity.actor, journal)
    fresh = journal.get_run(record.id)
    return ActionResult(
        run=summary(fresh, workers), action="approve", outcome="approved", keys=keys
    )


def _break_glass(
    record: RunRecord,
    body: ApproveRequest,
    identity: Identity,
    journal: JournalStore,
    workers: WorkerPool,
) -> ActionResult:
    """``break_glass``: the phase a waiting run is held at starts outside its window (409 when
    the run is not waiting for one, 422 without a comment saying why)."""
    if body.check is not None or body.choose is not None:
        raise ApiError(
            422,
            "invalid_request",
            "break_glass approves the change window a run waits for, not a check",
            hint="leave out check and choose",
        )
    with _in_process:
        glass = operator.break_glass(journal, record.id, by=identity.actor, reason=body.comment)
    started_by = record.options.get("started_by")
    if not glass.delivered and isinstance(started_by, str) and not workers.busy(record.id):
        # Nobody executes the waiting run this server started (its worker died): a worker
        # continues it now. A run the CLI started is the CLI's to resume.
        workers.submit(Job(record.id, "resume", started_by))
    return ActionResult(
        run=summary(journal.get_run(record.id), workers),
        action="approve",
        outcome="approved",
        keys=[glass.key],
    )


@router.post("/{run_id}/monitoring/finish", response_model=ActionResult)
def finish_monitoring(
    run_id: str,
    body: FinishMonitoringRequest,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """End the run's post-rollout monitoring now as succeeded (docs/monitoring.md): journalled
    with who and why (``approval.granted`` of ``monitor:finish``). 409 when the run is not
    monitoring; 422 without a reason. The worker executing it finishes it; a run this server
    started that nobody executes is resumed by a worker, which finishes it."""
    record = journal.get_run(run_id)
    with _in_process:
        done = monitor_finish.finish_monitoring(
            journal, record.id, by=identity.actor, reason=body.reason
        )
    outcome: Literal["approved", "requested", "queued"] = "requested"
    started_by = record.options.get("started_by")
    if not done.delivered:
        outcome = "approved"
        if isinstance(started_by, str) and not workers.busy(record.id):
            workers.submit(Job(record.id, "resume", started_by))
            outcome = "queued"
    return ActionResult(
        run=summary(journal.get_run(record.id), workers),
        action="finish_monitoring",
        outcome=outcome,
        keys=[FINISH_KEY],
    )


@router.post("/{run_id}/abort", response_model=ActionResult, status_code=202)
def abort(
    run_id: str,
    body: AbortRequest | None = None,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """Stop a run and roll it back: a worker executing it is asked (it ends the running steps,
    SIGTERM then SIGKILL after ``grace`` seconds, or at once with ``force``, and rolls back);
    otherwise a worker is queued to roll it back."""
    body = body or AbortRequest()
    record = journal.get_run(run_id)
    _not_finished(record)
    given = Abort(by=identity.actor, reason=body.reason, force=body.force, grace=body.grace)
    outcome: Literal["requested", "queued"]
    if workers.busy(record.id) or _live_elsewhere(record):
        with _in_process:
            operator.ask(journal, record.id, given)
            workers.after_request(record.id, journal)
        outcome = "requested"
    else:
        secrets_given(record, dict(body.vars))
        job = job_for(record.id, given, dict(body.vars))
        assert job is not None
        workers.submit(job)
        outcome = "queued"
    return ActionResult(
        run=summary(journal.get_run(record.id), workers), action="abort", outcome=outcome
    )


@router.post("/{run_id}/rollback", response_model=ActionResult, status_code=202)
def rollback(
    run_id: str,
    body: RollbackRequest | None = None,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """Roll a run back (also a finished, successful one); a worker executes it."""
    body = body or RollbackRequest()
    record = journal.get_run(run_id)
    if record.status == "rolled_back":
        raise RunStateError(f"run {record.id} is already rolled back")
    _not_executing(record, workers, "be rolled back")
    secrets_given(record, dict(body.vars))
    workers.submit(Job(record.id, "rollback", identity.actor, dict(body.vars)))
    return ActionResult(
        run=summary(journal.get_run(record.id), workers), action="rollback", outcome="queued"
    )


@router.post("/{run_id}/resume", response_model=ActionResult, status_code=202)
def resume(
    run_id: str,
    body: ResumeRequest | None = None,
    identity: Identity = operator_role,
    journal: JournalStore = the_store,
    workers: WorkerPool = the_pool,
) -> ActionResult:
    """Continue a paused, interrupted or crashed run; a worker executes it."""
    body = body or ResumeRequest()
    record = journal.get_run(run_id)
    _not_finished(record)
    _not_executing(record, workers, "be resumed")
    secrets_given(record, dict(body.vars))
    extra: JobOptions = {"retry": body.retry, "skip": body.skip, "mark_done": body.mark_done}
    workers.submit(Job(record.id, "resume", identity.actor, dict(body.vars), extra))
    return ActionResult(
        run=summary(journal.get_run(record.id), workers), action="resume", outcome="queued"
    )
