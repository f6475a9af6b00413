"""Post-rollout monitoring in the engine (plan ``monitor:``, docs/monitoring.md).

When the forward path has succeeded, ``decide`` asks for ``START`` instead of finishing: the
run journals ``monitoring.started`` (the schedule in seconds, anchored at the engine clock's
now) and is ``monitoring``. From then on ``decide`` asks for one ``CheckMonitor`` per due
slot; each evaluation is journalled (``monitoring.checked``, with its slot), so a resumed run
continues after the last slot evaluated. A failure takes the declared action: ``rollback``
(the fold records the failure and ``decide`` starts the run's rollback), ``pause`` (the run
pauses for a human; resume continues monitoring) or ``alert`` (a warning and a
``monitor.failed`` notification; monitoring goes on). When the last slot is evaluated the
run has ``succeeded``.

Not engine/monitors.py: those are the phases' background commands.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from phasegate.checks.base import CheckSpec
from phasegate.durations import written
from phasegate.engine.commands import CheckMonitor, Command, Finish, StartMonitoring
from phasegate.engine.gates import evaluate_gate
from phasegate.errors import LockHeld
from phasegate.plan.model import Plan
from phasegate.plan.postmonitor import as_json, expand_schedule
from phasegate.run import postmonitor as schedule
from phasegate.run.events import MonitoringChecked, MonitoringStarted, MonitorResult, RunPaused
from phasegate.run.state import RunState
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.engine.port import WatchPort
    from phasegate.run.records import MonitoringRecord

START = StartMonitoring()
TASK_KEY = "monitor:check"  # the one evaluation in flight (runner.tasks)
# The approval that ends monitoring early as succeeded (`phasegate monitor finish RUN`,
# engine/monitor_finish.py): journalled as ``approval.granted`` with who and why.
FINISH_KEY = "monitor:finish"


def decide(state: RunState, inflight: Collection[str], now: float | None) -> list[Command]:
    """While monitoring: evaluate the next slot when it is due, finish after the last, or
    at once (succeeded) when an operator ended monitoring early (``FINISH_KEY``)."""
    monitoring = state.monitoring
    assert monitoring is not None
    if inflight:
        return []
    if state.approvals.get(FINISH_KEY):
        return [Finish("succeeded")]
    due = schedule.due_offsets(monitoring["schedule"])
    clock = time.time() if now is None else now
    nxt = schedule.next_slot(due, float(monitoring["started_at"]), int(monitoring["slot"]), clock)
    if nxt is None:
        return [Finish("succeeded")]
    slot, missed, at = nxt
    if clock < at:
        return []
    return [CheckMonitor(slot, missed, at)]


def next_check_at(state: RunState, now: float) -> float | None:
    """When the monitoring run's next slot is due (``<= now``: due already); None when it
    is not monitoring or its schedule is done."""
    monitoring = state.monitoring
    if monitoring is None or not schedule.active(state):
        return None
    due = schedule.due_offsets(monitoring["schedule"])
    nxt = schedule.next_slot(due, float(monitoring["started_at"]), int(monitoring["slot"]), now)
    return None if nxt is None else nxt[2]


def resume_at(state: RunState, now: float) -> float:
    """When a parked run must be executing again: its next check's due time, or ``now``
    when it has nothing left to wait for (schedule done, ended early by an operator)."""
    if state.approvals.get(FINISH_KEY):
        return now
    at = next_check_at(state, now)
    return now if at is None else at


def park(runner: WatchPort) -> bool:
    """A server's worker (``park_monitoring``): with nothing in flight and the next check
    further away than that, the engine stops here. The run stays ``monitoring``; ending the
    process releases its owner (engine/session.py ``drive``), which is how the server tells
    a parked run from one whose worker died: it resumes it when the next check is due
    (server/workers.py ``resume_parked``), and sooner for a request (abort, monitor finish).
    The schedule is in the journal, so nothing else is kept: a resumed run continues after
    the last slot evaluated, as after a crash. True: stop now."""
    after = runner.ctx.park_monitoring
    state = runner.state
    if after is None or state.status != "monitoring" or runner.tasks:
        return False
    if state.approvals.get(FINISH_KEY):
        return False
    now = runner.ctx.clock()
    at = next_check_at(state, now)
    if at is None or at - now <= after:
        return False
    when = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    runner.ctx.console.note(
        f"monitoring: next check at {when}; this worker stops until then (a server or "
        "worker resumes the run)",
        "cyan",
    )
    return True


def named_checks(plan: Plan) -> list[tuple[str, CheckSpec]]:
    """What each evaluation looks at, by name: ``monitor.checks`` (their id, else
    ``check-N``), then the checks of the triggers ``monitor.triggers`` names."""
    monitor = plan.monitor
    assert monitor is not None
    out = [(c.id or f"check-{i + 1}", c) for i, c in enumerate(monitor.checks)]
    triggers = {t.name: t for t in plan.triggers}
    out += [(f"trigger:{name}", triggers[name].check) for name in monitor.triggers]
    return out


def begin(runner: WatchPort) -> None:
    """The forward path succeeded: journal ``monitoring.started`` (the run is ``monitoring``)."""
    plan = runner.ctx.plan
    monitor = plan.monitor
    assert monitor is not None
    segments = expand_schedule(monitor.schedule, runner.ctx.variables.expand)
    due = schedule.offsets(segments)
    now = runner.ctx.clock()
    started = MonitoringStarted(
        at=round(now, 6),
        schedule=tuple(as_json(segments)),
        checks=tuple(name for name, _ in named_checks(plan)),
        slots=len(due),
        ends_at=round(now + schedule.total(segments), 6),
        next_due=round(now + due[0], 6) if due else None,
        on_failure=monitor.on_failure,
        fail_after=monitor.fail_after,
        lock=monitor.lock,
    )
    runner.journal_many([*runner.halt_triggers(), started], durable=True)
    lock = "released" if monitor.lock == "release" else "kept"
    runner.ctx.console.note(
        f"✓ rollout succeeded; monitoring for {written(schedule.total(segments))} "
        f"({plural(len(due), 'check')}, on failure: {monitor.on_failure}; lock {lock})",
        "green",
    )


def dispatch(runner: WatchPort, command: CheckMonitor) -> None:
    runner.tasks[TASK_KEY] = asyncio.ensure_future(evaluate(runner, command))


async def evaluate(runner: WatchPort, command: CheckMonitor) -> None:
    """One scheduled evaluation: every check at once, journalled with its slot."""
    state = runner.state
    monitoring = state.monitoring
    assert monitoring is not None
    plan = runner.ctx.plan
    checks = named_checks(plan)
    ctx = runner.ctx.check_context(state)
    outcomes = await asyncio.gather(*(evaluate_gate(check, ctx) for _, check in checks))
    results: list[MonitorResult] = []
    for (name, check), outcome in zip(checks, outcomes, strict=True):
        obs = outcome.observation
        status = "passed" if obs.passed else "warned" if check.severity == "warn" else obs.status
        results.append(
            MonitorResult(check=name, status=status, message=obs.message, observed=obs.observed)
        )
    failing = [r for r in results if r.status not in ("passed", "warned")]
    consecutive = int(monitoring["consecutive"]) + 1 if failing else 0
    action = _action(runner, monitoring, consecutive) if failing else None
    message = "; ".join(f"{r.check}: {r.message}" for r in failing) or None
    due = schedule.due_offsets(monitoring["schedule"])
    start = float(monitoring["started_at"])
    next_due = round(start + due[command.slot], 6) if command.slot < len(due) else None
    checked = MonitoringChecked(
        slot=command.slot,
        at=round(runner.ctx.clock(), 6),
        status="failed" if failing else "passed",
        results=tuple(results),
        missed=command.missed,
        consecutive=consecutive,
        action=action,
        message=message,
        next_due=next_due,
    )
    events: list[Any] = [checked]
    if action == "pause":
        events.append(
            RunPaused(
                reason="monitor",
                message=f"monitor failed at check {command.slot}: {message} (on_failure: "
                "pause); `phasegate resume` continues monitoring, `phasegate rollback` undoes",
            )
        )
    # Where the schedule is must survive a crash: a resume continues after this slot.
    runner.journal_many(events, durable=action is not None)
    _say(runner, command, checked)
    runner.wake.set()


def _action(runner: WatchPort, monitoring: MonitoringRecord, consecutive: int) -> str | None:
    """What this failure does, or None (fewer than ``fail_after`` in a row; an alert already
    sent for this streak)."""
    fail_after = int(monitoring["fail_after"])
    wanted = str(monitoring["on_failure"])
    if consecutive < fail_after or (wanted == "alert" and consecutive > fail_after):
        return None
    return wanted


def lock_back(runner: WatchPort) -> bool:
    """Before a monitoring run rolls back (its monitor failed, or an abort): with ``lock:
    release`` the lock was given up, so take it back first. A newer run of the plan holding
    it means the rollback would undo that run's work beneath it: the run pauses instead (for
    a human: ``phasegate rollback RUN`` once the newer run is done). False: paused."""
    monitoring = runner.state.monitoring
    if monitoring is None or monitoring.get("lock") != "release":
        return True
    try:
        runner.store.acquire_lock(runner.state.run_id, runner.ctx.plan.lock_name)
    except LockHeld as exc:
        message = (
            f"the rollback would run beneath a newer run of the plan: {exc.message}; "
            f"`phasegate rollback {runner.state.run_id}` once it has finished"
        )
        runner.journal(RunPaused(reason="monitor", message=message), durable=True)
        runner.ctx.console.note(f"⏸ monitor cannot roll back: {message}", "red")
        return False
    return True


def _say(runner: WatchPort, command: CheckMonitor, checked: MonitoringChecked) -> None:
    console = runner.ctx.console
    missed = f" ({plural(command.missed, 'missed slot')} passed over)" if command.missed else ""
    if checked.status == "passed":
        console.note(f"monitor check {command.slot}: passed{missed}", "green")
        return
    acts = f" -> {checked.action}" if checked.action else ""
    console.note(f"monitor check {command.slot}: failed: {checked.message}{missed}{acts}", "red")
