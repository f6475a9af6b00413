"""What the runner does with an operator's input: pure, next to ``decide``.

``respond(state, input, tasks, commands)`` reads the run's state and what is in flight (the
keys of the runner's tasks, and of those running a command) and returns ``Response``s
(engine/commands.py) for the runner to carry out in order; it journals nothing, spawns
nothing, sleeps never, so every rule below is tested over generated states and inputs
(tests/engine/test_respond.py):

- abort: on a run going forward, journals the request durably, then ends the commands
  running (the rollback follows from ``decide``: the run is failing); never starts anything.
  A run rolling back (or finished) is not aborted again.
- approve: journals the approval for an item that waits (or has not been reached, or runs:
  a manual check being asked); an item that has ended is refused.
- reject: each waiting (or not yet reached) item fails, durably, and ``decide`` rolls back;
  an item in flight or ended is refused (it finishes by itself).
- promote: ``--full`` journals the promotion (once) and cuts every hold short; otherwise the
  current holds end. Refused while rolling back, monitoring or finished.
- resume: only a paused or interrupted run continues; a live one is refused.
"""

from __future__ import annotations

from collections.abc import Collection

from phasegate.engine.commands import (
    CutShort,
    RecordEvent,
    Refuse,
    ReleaseHolds,
    Response,
    Say,
    StopCommands,
)
from phasegate.run.events import ApprovalGranted, ApprovalRejected, RunAbortRequested, RunPromoted
from phasegate.run.inputs import Abort, Approve, OperatorInput, Promote, Reject, Resume
from phasegate.run.state import RunState

# Seconds between SIGTERM and SIGKILL for the commands an abort ends (``abort --grace``).
ABORT_GRACE = 10.0
# Statuses of an item an approval still means something for.
APPROVABLE = ("pending", "running", "awaiting_approval", "retrying")
# ... and a rejection (an item in flight is left to finish).
REJECTABLE = ("pending", "awaiting_approval")
# The run statuses each journalled answer applies in (run/state.py refuses it otherwise).
ABORTABLE_RUN = ("running", "paused", "interrupted", "pending", "waiting", "monitoring")
DECIDABLE_RUN = ("running", "paused", "interrupted", "waiting")  # a reject, a full promote


def respond(
    state: RunState,
    given: OperatorInput,
    tasks: Collection[str] = (),
    commands: Collection[str] = (),
) -> list[Response]:
    """What to do for ``given``; ``tasks``: items in flight; ``commands``: those of them
    running a command now (an abort ends them)."""
    if state.terminal:
        return [Refuse(f"the run has finished ({state.status})")]
    match given:
        case Abort():
            return _abort(state, given, commands)
        case Approve():
            return _approve(state, given)
        case Reject():
            return _reject(state, given, tasks)
        case Promote():
            return _promote(state, given)
        case Resume():
            if state.status in ("paused", "interrupted"):
                return [Say(f"resumed by {given.by or 'operator'}", "cyan")]
            return [Refuse(f"the run is {state.status}, not paused: there is nothing to resume")]


def _abort(state: RunState, given: Abort, commands: Collection[str]) -> list[Response]:
    if state.mode != "forward":
        return [Refuse("abort ignored: the run is rolling back already")]
    if state.status not in ABORTABLE_RUN:
        return [Refuse(f"abort ignored: the run is {state.status}")]
    grace = 0.0 if given.force else given.grace if given.grace is not None else ABORT_GRACE
    ending = tuple(sorted(commands))
    event = RunAbortRequested(
        by=given.by,
        reason=given.reason,
        force=given.force,
        grace=grace,
        ending=ending,
        request=given.request,
    )
    how = "SIGKILL now" if given.force else f"SIGTERM, SIGKILL after {grace:g}s"
    note = f"; ending {', '.join(ending)} ({how})" if ending else ""
    return [
        RecordEvent(event, durable=True),
        StopCommands("abort", grace),
        Say(f"abort requested by {given.by}{note}", "red"),
    ]


def _approve(state: RunState, given: Approve) -> list[Response]:
    if given.request is not None and given.request in state.answered_requests:
        # Delivered again: the owner journalled it and died before consuming the request.
        return []
    item = state.items.get(given.key)
    if item is not None and item.status not in APPROVABLE:
        return [Refuse(f"approval of {given.key} ignored: it is {item.status}")]
    event = ApprovalGranted(
        key=given.key,
        by=given.by,
        required=given.required,
        comment=given.comment,
        var=given.var,
        choice=given.choice,
        request=given.request,
    )
    return [RecordEvent(event)]


def _reject(state: RunState, given: Reject, tasks: Collection[str]) -> list[Response]:
    if state.mode != "forward":
        return [Refuse("reject ignored: the run is rolling back already")]
    if state.status not in DECIDABLE_RUN:
        return [Refuse(f"reject ignored: the run is {state.status}")]
    out: list[Response] = []
    rejected: set[str] = set()
    for decision in given.decisions:
        key = decision.key
        item = state.items.get(key)
        if key in rejected:  # named twice: the first one failed it
            out.append(Refuse(f"reject of {key} ignored: rejected already"))
            continue
        if key in tasks or (item is not None and item.status not in REJECTABLE):
            status = item.status if item is not None else "running"
            out.append(Refuse(f"reject of {key} ignored: it is {status}"))
            continue
        event = ApprovalRejected(
            key=key,
            by=decision.by,
            comment=decision.comment,
            kind=decision.kind,
            phase=decision.phase,
            name=decision.name,
            action=decision.action,
        )
        rejected.add(key)
        out.append(RecordEvent(event, durable=True))
        out.append(Say(f"✗ {key} rejected by {decision.by}: {decision.comment}", "red"))
    return out


def _promote(state: RunState, given: Promote) -> list[Response]:
    if state.mode != "forward":
        return [Refuse("promote ignored: the run is rolling back")]
    if state.status == "monitoring":
        return [Refuse("promote ignored: the run has rolled out (no canary step is left)")]
    if not given.full:
        return [ReleaseHolds(given.by)]
    if state.status not in DECIDABLE_RUN:
        return [Refuse(f"promote ignored: the run is {state.status}")]
    out: list[Response] = []
    if state.promoted is None:
        out.append(RecordEvent(RunPromoted(by=given.by, full=True), durable=True))
    out.append(CutShort(f"promoted by {given.by}"))
    out.append(Say(f"⏩ promoted by {given.by}: remaining canary steps skipped", "cyan"))
    return out
