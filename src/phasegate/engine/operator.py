"""Operator actions on existing runs: resume, rollback, abort, approve.

Each owns the run it touches for its duration (``claim`` through ``attach``), and a run
executing in another process is asked through the journal's request table instead.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from phasegate.engine.commands import RecordEvent, Refuse
from phasegate.engine.decide import rollback_order
from phasegate.engine.port import AnswerPort, RunPort
from phasegate.engine.respond import respond
from phasegate.engine.session import (
    RunOptions,
    attached,
    drive,
    journal_started,
    mark_unknown,
    reload_plan,
    warn_shifted_clock,
)
from phasegate.engine.targets import Targets
from phasegate.engine.windowing import window_key
from phasegate.errors import RunStateError, UsageError
from phasegate.plan.program import no_go_action
from phasegate.run.events import (
    RollbackEntry,
    RollbackStarted,
    RunAbortRequested,
    RunResumed,
)
from phasegate.run.inputs import (
    Abort,
    Approve,
    OperatorInput,
    Promote,
    Reject,
    Rejection,
    to_request,
)
from phasegate.run.state import RunState
from phasegate.store.contract import JournalStore
from phasegate.store.process import Owner
from phasegate.store.records import RunRecord, started_by
from phasegate.suggest import did_you_mean


def resume(
    store: JournalStore,
    run_ref: str,
    options: RunOptions,
    *,
    retry: list[str],
    skip: list[str],
    mark_done: list[str],
) -> tuple[str, str]:
    record = store.get_run(run_ref)
    if record.status in ("succeeded", "rolled_back", "failed", "rollback_failed"):
        raise RunStateError(
            f"run {record.id} has finished ({record.status}); there is nothing to resume",
            hint="`phasegate rollback RUN` undoes a finished run",
        )
    with attached(store, record, options) as (runner, owner):
        state = runner.state
        mark_unknown(runner)
        _validate_choices(runner, retry + skip + mark_done)
        retry, skip, mark_done = (_still_open(runner, keys) for keys in (retry, skip, mark_done))
        crashed = state.status in ("running", "rolling_back", "monitoring")
        # A monitoring run nobody owns was parked between checks by a server's worker
        # (engine/postmonitor.py ``park``), a queued one while it waited for its lane slot
        # (engine/laning.py ``parkable``); a dead owner's is a crash.
        parked = state.status in ("monitoring", "queued") and record.owner is None
        state_note = "parked" if parked else "crashed" if crashed else state.status
        resumed = RunResumed(
            pid=owner.pid,
            host=owner.host,
            retry=tuple(retry),
            skip=tuple(skip),
            mark_done=tuple(mark_done),
            after=state_note,
        )
        if (
            state.failure is not None
            and state.mode == "forward"
            and state.pause
            and (state.pause.get("reason") == "failure")
        ):
            failed = state.failure.get("item")
            retried = resumed.retry
            if failed and failed not in skip and failed not in retry and failed in state.items:
                retried = (*retry, failed)
            resumed = RunResumed(
                pid=owner.pid,
                host=owner.host,
                retry=retried,
                skip=tuple(skip),
                mark_done=tuple(mark_done),
                after=state_note,
                clear_failure=True,
            )
        if state.status == "pending":  # killed between creating the run and starting it
            journal_started(runner, owner, record.plan_path)
        else:
            runner.journal(resumed, durable=True)
            warn_shifted_clock(runner, "resume")
        runner.ctx.console.headline(f"resuming run {record.id} ({state_note})")
    return record.id, drive(runner, store, owner)


def _still_open(runner: RunPort, keys: list[str]) -> list[str]:
    """The operator's choices minus items that settled meanwhile: a step the crashed engine
    left running may have finished (its supervisor's record says so) while resume waited, and
    a succeeded item needs no --retry-step, --skip-step or --mark-done."""
    kept = []
    for key in keys:
        if runner.state.items[key].status == "succeeded":
            runner.ctx.console.note(f"{key} succeeded meanwhile: nothing to choose for it", "cyan")
        else:
            kept.append(key)
    return kept


def _validate_choices(runner: RunPort, keys: list[str]) -> None:
    known = runner.state.items
    for key in keys:
        if key not in known:
            raise UsageError(
                f"run {runner.state.run_id} has no item {key!r}", hint=did_you_mean(key, known)
            )


def rollback(store: JournalStore, run_ref: str, options: RunOptions, *, by: str) -> tuple[str, str]:
    record = store.get_run(run_ref)
    if record.status == "rolled_back":
        raise RunStateError(f"run {record.id} is already rolled back")
    if record.owner is not None and record.owner.alive() and record.owner != Owner.me():
        raise RunStateError(
            f"run {record.id} is being executed by pid {record.owner.pid}",
            hint=f"`phasegate abort {record.id}` asks it to roll back",
        )
    with attached(store, record, options) as (runner, owner):
        mark_unknown(runner)

        state: RunState = runner.state
        if not state.holds_lock and not state.terminal:
            # Monitoring with `lock: release` gave it up: a rollback takes it back, and is
            # refused (LockHeld) while a newer run of the plan holds it.
            store.acquire_lock(record.id, runner.ctx.plan.lock_name)
        if state.status == "rolling_back":
            runner.journal(
                RunResumed(pid=owner.pid, host=owner.host, after="crashed"), durable=True
            )
        else:
            order = (
                list(state.rollback["order"])
                if state.status == "rollback_failed" and (state.rollback)
                else list(rollback_order(runner.ctx.plan, state))
            )
            runner.journal(
                RollbackStarted(
                    order=tuple(RollbackEntry.model_validate(entry) for entry in order),
                    by=by,
                    reason=f"requested by {by}",
                    budget=runner.ctx.plan.budget.rollback,
                ),
                durable=True,
            )
        runner.ctx.console.headline(f"rolling back run {record.id}")
    return record.id, drive(runner, store, owner)


def request(
    store: JournalStore, run_ref: str, given: OperatorInput
) -> tuple[RunRecord, int | None]:
    """Deliver an input to the process executing the run, if any (its stored shape, run/
    inputs.py ``to_request``). Returns (record, request id) where an id means a live process
    will act on it; None: nobody executes the run, and the caller answers it (``answer``)."""
    record = store.get_run(run_ref)
    if record.status in ("succeeded", "rolled_back", "failed", "rollback_failed"):
        raise RunStateError(f"run {record.id} has finished ({record.status})")
    if _executing_elsewhere(record):
        return record, ask(store, record.id, given)
    return record, None


def _executing_elsewhere(record: RunRecord) -> bool:
    """Another process owns the run and may be alive: on this host its pid says; on another
    host (a worker elsewhere on a shared store) it cannot be told from here, so it is asked
    (a dead one's successor takes the request when it takes the run over)."""
    owner = record.owner
    return owner is not None and owner != Owner.me() and owner.alive() is not False


def _owner_gone(store: JournalStore, record: RunRecord) -> bool:
    """The owner a request was posted to no longer executes the run: its process ended, or
    it released the run (a paused run's worker lives on to take other runs) or lost it."""
    owner = record.owner
    assert owner is not None
    if owner.alive() is False:
        return True
    return store.get_run(record.id).owner != owner


def ask(store: JournalStore, run_id: str, given: OperatorInput) -> int:
    """Queue ``given`` for the run's owner (the CLI, the API, the dashboard): the request id."""
    kind, data = to_request(given)
    return store.add_request(run_id, kind, data)


def answer(runner: AnswerPort, given: OperatorInput) -> list[str]:
    """Answer ``given`` for a run this process has taken over (nobody else executes it): what
    the owner's runner does with a request (engine/runner.py ``_poll_requests``), the same
    pure ``respond`` carried out by the same ``carry_out``, so each input journals the same
    decision on every path. Returns why it was refused, if it was (also said)."""
    responses = respond(runner.state, given, runner.tasks.keys(), runner.stops.keys())
    runner.carry_out(responses)
    return [r.why for r in responses if isinstance(r, Refuse)]


def approve(
    store: JournalStore,
    run_ref: str,
    *,
    check: str | None,
    by: str,
    comment: str = "",
    choose: str | None = None,
) -> tuple[str, list[str]]:
    record = store.get_run(run_ref)
    state = store.load_state(record.id)
    targets = Targets(reload_plan(record).plan)
    keys = _decided_keys(record, state, targets, check, "approve")
    _refuse_self_review(store, record, targets, keys, by)
    choices = _choices(record, targets, keys, choose)
    for key in keys:
        var, choice = choices.get(key, (None, None))
        given = Approve(
            key=key,
            by=by,
            required=_approvers(targets, key),
            comment=comment or None,
            var=var,
            choice=choice,
        )
        deliver_approval(store, record.id, given)
    return record.id, keys


def deliver_approval(store: JournalStore, run_id: str, given: Approve) -> bool:
    """Journal an approval: asked of the live process executing the run (True), else
    answered here as that process would (``respond``); refused (RunStateError) when the item
    has ended. A process that lets the run go without taking the approval (it paused, or
    ended) has it withdrawn, and whoever holds the run then is asked in turn, or it is
    answered here: an approval is never left pending with nobody to act on it."""
    for attempt in range(DELIVERY_ATTEMPTS):
        rec, request_id = request(store, run_id, given)
        if request_id is not None:
            if _await_taken(store, rec, request_id, APPROVE_WAIT) is not False:
                return True
            continue  # withdrawn: ask whoever holds the run now, or answer it here
        owner = Owner.me()
        try:
            store.claim(rec.id, owner)
        except RunStateError:
            if attempt + 1 == DELIVERY_ATTEMPTS:
                raise
            continue  # another process took the run between the two reads: ask it
        try:
            # The state read before may be stale: the owner may have journalled more and
            # exited between that read and this claim. Appending from it would reuse
            # sequence numbers, so read it again now that nobody else writes.
            fresh = store.load_state(rec.id)
            responses = respond(fresh, given)
            refused = [r.why for r in responses if isinstance(r, Refuse)]
            if refused:
                raise RunStateError(f"run {rec.id}: {refused[0]}")
            events = [r.event for r in responses if isinstance(r, RecordEvent)]
            store.append(fresh, [(event, time.time()) for event in events], durable=True)
        finally:
            store.release(rec.id, owner=owner)
        return False
    raise RunStateError(f"run {run_id} changed hands {DELIVERY_ATTEMPTS} times; approve again")


@dataclass(frozen=True)
class BreakGlass:
    """A break-glass approval: the run may start ``phase`` (None: its rollback) outside its
    change window."""

    run_id: str
    key: str
    phase: str | None
    delivered: bool  # a live process executing the run was asked; else `resume` continues


def break_glass(store: JournalStore, run_ref: str, *, by: str, reason: str) -> BreakGlass:
    """Approve starting (or continuing) outside a change window: exactly the phase the run
    waits for, journalled with who and why (``approval.granted`` on ``window:PHASE``)."""
    if not reason.strip():
        raise UsageError(
            "a break-glass approval needs a reason",
            hint='say why, e.g. --reason "hotfix for INC-1234, approved by the CAB"',
        )
    record = store.get_run(run_ref)
    state = store.load_state(record.id)
    if state.status != "waiting" or state.wait is None:
        raise RunStateError(
            f"run {record.id} is {state.status}, not waiting for a change window",
            hint="break-glass lets a run waiting for a window start outside it",
        )
    phase = state.wait.get("phase")
    key = window_key(phase if isinstance(phase, str) else None)
    given = Approve(key=key, by=by, required=1, comment=reason.strip())
    delivered = deliver_approval(store, record.id, given)
    return BreakGlass(record.id, key, phase if isinstance(phase, str) else None, delivered)


def _decided_keys(
    record: RunRecord, state: RunState, targets: Targets, check: str | None, verb: str
) -> list[str]:
    """The items an approve or reject is about: ``check`` (a manual check's id or key, or a
    waiting item's key), else every item waiting for a decision."""
    if check is None:
        keys = [k for k, i in state.items.items() if i.status == "awaiting_approval"]
        if not keys and state.status == "waiting" and verb == "approve":
            raise UsageError(
                f"run {record.id} is waiting for a change window, not for an approval",
                hint=f'`phasegate approve {record.id} --break-glass --reason "…"` starts it '
                "outside the window; otherwise it continues by itself when the window opens",
            )
        if not keys:
            raise UsageError(
                f"run {record.id} is not waiting for an approval",
                hint=f"name a manual check to {verb} it in advance",
            )
        return keys
    else:
        matches = [k for k in targets.gates if k == check or k.endswith(f"/gate:{check}")]
        waiting = [k for k, i in state.items.items() if i.status == "awaiting_approval"]
        matches += [k for k in waiting if check in (k, k.rsplit("/", 1)[-1])]
        if not matches:
            manual = [k for k, t in targets.gates.items() if t.check.kind == "manual"]
            raise UsageError(
                f"no manual check {check!r} in run {record.id}",
                hint=did_you_mean(check, manual + waiting),
            )
        return sorted(set(matches))


class SelfApproval(UsageError):
    """The run's starter approved a check that says ``prevent_self_review: true``."""


def starter(store: JournalStore, record: RunRecord) -> str | None:
    """Who started a run (store/records.py ``started_by``)."""
    return started_by(record, store.events)


def _same_actor(by: str, who: str) -> bool:
    # The CLI attributes actions to ``user@host``; ``run.started`` records the bare user.
    return by == who or by.rsplit("@", 1)[0] == who


def _refuse_self_review(
    store: JournalStore, record: RunRecord, targets: Targets, keys: list[str], by: str
) -> None:
    guarded = [
        k
        for k in keys
        if k in targets.gates and getattr(targets.gates[k].check, "prevent_self_review", False)
    ]
    if not guarded:
        return
    who = starter(store, record)
    if who is not None and _same_actor(by, who):
        raise SelfApproval(
            f"{by} started run {record.id} and cannot approve {', '.join(guarded)}: "
            "the check says prevent_self_review",
            hint="someone else approves it",
        )


def _choices(
    record: RunRecord, targets: Targets, keys: list[str], choose: str | None
) -> dict[str, tuple[str, str]]:
    """key -> (variable, option) for the decisions among ``keys``. A decision is never
    approved without its choice (approving would otherwise run none of the options, or the
    wrong one), and a choice is never recorded for an approval that offers none."""
    offered = {
        key: pause.choose
        for key in keys
        if key in targets.steps
        and (pause := targets.steps[key].step.pause) is not None
        and pause.choose is not None
    }
    # a phase's rollback decision, asked when the rollback reaches it (engine/rollback_choice)
    offered.update(
        {
            key: targets.rollback_decisions[key][0]
            for key in keys
            if key in targets.rollback_decisions
        }
    )
    if choose is None:
        if offered:
            key, decision = next(iter(offered.items()))
            raise UsageError(
                f"{key} is a decision: approve it with one of its options",
                hint=f"phasegate approve {record.id} {key} --choose OPTION; its options: "
                + ", ".join(decision.options),
            )
        return {}
    if not offered:
        raise UsageError(
            f"--choose {choose!r}: nothing run {record.id} waits for offers a choice",
            hint="approve without --choose",
        )
    if len(offered) > 1 and len(keys) > 1:
        raise UsageError(
            f"run {record.id} waits for {len(offered)} decisions: approve them one at a time",
            hint="name the decision: phasegate approve RUN KEY --choose OPTION; waiting: "
            + ", ".join(offered),
        )
    found: dict[str, tuple[str, str]] = {}
    for key, decision in offered.items():
        if choose not in decision.options:
            raise UsageError(
                f"{choose!r} is not an option of {key}",
                hint="choose one of: " + ", ".join(decision.options),
            )
        found[key] = (decision.var, choose)
    return found


def _approvers(targets: Targets, key: str) -> int:
    if key in targets.gates:
        return int(getattr(targets.gates[key].check, "approvers", 1))
    if key in targets.steps:
        pause = targets.steps[key].step.pause
        return pause.approvers if pause is not None else 1
    return 1  # an inconclusive analysis: one human decides


def promote(
    store: JournalStore, run_ref: str, options: RunOptions, *, full: bool, by: str
) -> tuple[str, str | None]:
    """``promote``: end the current pause or bake (approve a pause waiting for approval);
    ``--full``: skip every canary step and analysis left and promote now. A run executing in
    another process is asked; a paused or crashed run continues here. Returns (run id, final
    status or None when a live process was asked)."""
    given = Promote(by=by, full=full)
    found = store.get_run(run_ref)
    if found.summary.get("monitoring") is not None and found.summary.get("mode") == "forward":
        raise RunStateError(
            f"run {found.id} has rolled out and is monitoring (post-rollout `monitor:`): "
            "there is no canary step left to promote",
            hint="it succeeds when its schedule ends; `phasegate abort` rolls it back",
        )
    record, delivered = request(store, run_ref, given)
    if delivered is not None:
        return record.id, None
    state = store.load_state(record.id)
    if state.mode != "forward":
        raise RunStateError(f"run {record.id} is rolling back; it cannot be promoted")
    if not full:
        waiting = [k for k, i in state.items.items() if i.status == "awaiting_approval"]
        if not waiting:
            raise RunStateError(
                f"run {record.id} is not paused at a canary step",
                hint="`phasegate promote RUN --full` skips the canary steps left",
            )
        approve(store, record.id, check=None, by=by)
    with attached(store, record, options) as (runner, owner):
        mark_unknown(runner)
        runner.journal(_resumed_for(owner, runner.state.status, "promote"), durable=True)
        if full:
            refused = answer(runner, given)
            if refused:
                raise RunStateError(f"run {record.id}: {refused[0]}")
        runner.ctx.console.headline(
            f"promoting run {record.id}" + (": canary steps left are skipped" if full else "")
        )
    return record.id, drive(runner, store, owner)


# How long `abort` waits for a live owner to acknowledge it, so that what it prints is true.
ACK_WAIT = 5.0
# How long `reject` waits for a live owner to take the rejection (it polls every 0.2 s).
REJECT_WAIT = 10.0
# How long an approval waits for the executing process to take it before saying "requested"
# (it polls every 0.2 s; the wait ends at once when that process ends or lets the run go).
APPROVE_WAIT = 10.0
DELIVERY_ATTEMPTS = 3


@dataclass(frozen=True)
class AbortNotice:
    """What became of an abort delivered to the run's live owner."""

    owner_pid: int
    acknowledged: bool  # the owner took the request within ACK_WAIT
    ending: tuple[str, ...] = ()  # the steps it is ending (SIGTERM, SIGKILL after grace)
    grace: float | None = None
    force: bool = False
    already_rolling_back: bool = False


def abort(
    store: JournalStore,
    run_ref: str,
    options: RunOptions,
    *,
    by: str,
    reason: str,
    grace: float | None = None,
    force: bool = False,
    ack_wait: float = ACK_WAIT,
) -> tuple[str, str | None, AbortNotice | None]:
    """Abort a run: its running steps are ended and it rolls back. A live owner is asked
    (and its acknowledgement awaited); otherwise the rollback runs here. Returns (run id,
    final status or None when the owner does it, what the owner said)."""
    given = Abort(by=by, reason=reason, force=force, grace=grace)
    record, request_id = request(store, run_ref, given)
    if request_id is not None:
        assert record.owner is not None
        notice = _await_ack(store, record, request_id, ack_wait)
        if notice is not None:
            return record.id, None, notice
        record = store.get_run(record.id)  # the owner died before taking it: roll back here
    # An abort stops work: a step that the dead owner left running is ended (SIGTERM, then
    # SIGKILL), as a live owner would have ended it, instead of being waited for.
    options = dataclasses.replace(options, kill_orphans=True)
    with attached(store, record, options) as (runner, owner):
        mark_unknown(runner)
        state = runner.state
        if state.status in (
            "paused",
            "interrupted",
            "running",
            "rolling_back",
            "waiting",
            "queued",
        ):
            runner.journal(_resumed_for(owner, state.status, "abort"), durable=True)
        answer(runner, given)  # refused only when rolling back already: it goes on
        runner.ctx.console.headline(f"aborting run {record.id}: no live owner, rolling back here")
    return record.id, drive(runner, store, owner), None


def _await_taken(
    store: JournalStore, record: RunRecord, request_id: int, wait: float
) -> bool | None:
    """Wait for the run's owner to take a request: True once taken; False when the owner
    ended without taking it (the request is then withdrawn, so nobody acts on it later);
    None when it is still alive and has not taken it after ``wait`` seconds."""
    owner = record.owner
    assert owner is not None
    deadline = time.monotonic() + wait
    while not store.request_taken(request_id):
        if _owner_gone(store, record):
            if store.request_taken(request_id):  # taken just before it ended
                return True
            store.consume_request(request_id)
            return False
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
    return True


def _await_ack(
    store: JournalStore, record: RunRecord, request_id: int, wait: float
) -> AbortNotice | None:
    """The owner's answer to an abort: None when it died before taking the request (which
    is then withdrawn)."""
    owner = record.owner
    assert owner is not None
    taken = _await_taken(store, record, request_id, wait)
    if taken is False:
        return None
    if taken is None:
        return AbortNotice(owner.pid, acknowledged=False)
    for _, _, etype, data in reversed(store.events(record.id)):
        if etype != RunAbortRequested.type:
            continue
        abort = RunAbortRequested.model_validate(data)
        if abort.request == request_id:
            grace = float(abort.grace) if abort.grace is not None else None
            return AbortNotice(
                owner.pid, acknowledged=True, ending=abort.ending, grace=grace, force=abort.force
            )
    # The owner took it without acting: the run was rolling back already.
    return AbortNotice(owner.pid, acknowledged=True, already_rolling_back=True)


def prepare_reject(
    store: JournalStore, run_ref: str, *, check: str | None, by: str, comment: str
) -> tuple[RunRecord, list[str], Reject]:
    """Check that a rejection applies to the run now, and build its input; raises
    RunStateError/UsageError (the CLI's message, the API's 409/400) before anything changes."""
    record = store.get_run(run_ref)
    if record.status in ("succeeded", "rolled_back", "failed", "rollback_failed"):
        raise RunStateError(
            f"run {record.id} has finished ({record.status}); there is nothing to reject",
            hint="`phasegate rollback RUN` undoes a finished run",
        )
    state = store.load_state(record.id)
    if state.mode != "forward":
        raise RunStateError(f"run {record.id} is rolling back; there is nothing to reject")
    targets = Targets(reload_plan(record).plan)
    keys = _decided_keys(record, state, targets, check, "reject")
    for key in keys:
        item = state.items.get(key)
        if item is not None and item.status not in ("pending", "awaiting_approval"):
            raise RunStateError(
                f"{key} is {item.status} in run {record.id}; only a waiting (or not yet reached) "
                "check can be rejected",
                hint=f"`phasegate abort {record.id}` stops the run and rolls it back",
            )
    return record, keys, Reject(tuple(_rejection(targets, key, by, comment) for key in keys))


def reject(
    store: JournalStore,
    run_ref: str,
    options: RunOptions,
    *,
    check: str | None,
    by: str,
    comment: str,
) -> tuple[str, list[str], str | None]:
    """A no-go: the gate (or ``pause: approve`` step, or inconclusive analysis) fails and the
    run rolls back, recorded with who and why (GitHub environments' "reject"). A live process
    executing the run is asked through the request table and rolls back itself; a paused or
    crashed run is rolled back here. Returns (run id, keys, final status or None when a live
    process was asked)."""
    record, keys, given = prepare_reject(store, run_ref, check=check, by=by, comment=comment)
    live, request_id = request(store, record.id, given)
    if request_id is not None:
        if _await_taken(store, live, request_id, REJECT_WAIT) is not False:
            return live.id, keys, None
        # The executing process ended (paused, or died) without taking it: reject here.
        record, keys, given = prepare_reject(store, run_ref, check=check, by=by, comment=comment)
    with attached(store, record, options) as (runner, owner):
        mark_unknown(runner)
        if runner.state.status in ("paused", "interrupted", "running", "waiting", "queued"):
            runner.journal(_resumed_for(owner, runner.state.status, "reject"), durable=True)
        refused = answer(runner, given)
        if refused:  # prepare_reject checked it: only a state changed meanwhile refuses it
            raise RunStateError(f"run {record.id}: {refused[0]}")
        runner.ctx.console.headline(
            f"run {record.id}: {', '.join(keys)} rejected by {by}: rolling back"
        )
    return record.id, keys, drive(runner, store, owner)


def _resumed_for(owner: Owner, after: str, purpose: str) -> RunResumed:
    """An operator verb (promote, abort, reject) continuing a run no live process owns."""
    return RunResumed(pid=owner.pid, host=owner.host, after=after, purpose=purpose)


def _rejection(targets: Targets, key: str, by: str, comment: str) -> Rejection:
    phase = key.partition("/")[0]
    action = None
    if key in targets.gates:
        kind, name = "gate", targets.gates[key].check.describe()
        # a program's go/no-go: its `on_no_go`
        action = no_go_action(targets.gates[key].phase, key.partition("/gate:")[2])
    elif key in targets.steps:
        kind, name = "step", targets.steps[key].step.label
    else:
        kind, name = "analysis", key
    return Rejection(
        key=key, by=by, comment=comment, kind=kind, phase=phase, name=name, action=action
    )
