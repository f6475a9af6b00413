"""A program phase's child run: start it (or re-attach to it), and roll it back.

The child is a real run of its own: a ``phasegate`` process (``python -m
phasegate.cli.child``) started as the phase's ``child`` step, with its own journal in the
same store, its own lock and its own rollback. Why a process and not a second runner in this
loop: a step's process is what the engine already makes crash-safe. Its start is durable
before it is spawned, its process group outlives a parent killed with SIGKILL, ``resume``
waits for it (engine/orphans.py) and reads its exit status from the supervisor's record.

The order that makes a resume find the child instead of starting another:

1. ``child.linked`` (the child's run id, chosen here) is journalled durably first;
2. then the step's start (durable), then the child process, which creates the run with that
   id (and an idempotency key naming parent and phase) or, when it exists, re-attaches to it:
   waits while another process drives it, resumes it when nobody does, or reports how it
   ended. So re-running the step never runs a child step twice: the child's journal says
   which of its steps already ran.

Readiness (``ready:``) is evaluated right before, every time; not ready fails the step with
``action: pause``: the program pauses for a human with the blockers in the message, and
``resume`` evaluates it again.
"""

from __future__ import annotations

import secrets
import sys
import time
from typing import TYPE_CHECKING

from phasegate.engine import readiness, work
from phasegate.engine.work import finish_stopped, start_command, succeeded
from phasegate.errors import RunNotFound, StoreError
from phasegate.plan.model import Action, Phase
from phasegate.plan.program import CHILD_STEP, child_plan_path, is_program
from phasegate.run.events import ChildEnded, ChildLinked, ItemRecord, item_finished, item_record
from phasegate.run.records import ItemBase

if TYPE_CHECKING:
    from phasegate.engine.actions import ActionResult
    from phasegate.engine.port import RunPort, UndoPort

CHILD_MODULE = "phasegate.cli.child"
# The child process's exit codes (docs/cli.md): 4 paused, 130 interrupted.
_PAUSED, _INTERRUPTED = 4, 130


def _location(runner: UndoPort) -> tuple[list[str], dict[str, str]]:
    """How the child process finds this run's store: the state directory, and a PostgreSQL
    store's URL through the environment (never on a command line others can read)."""
    args = ["--state-dir", str(runner.store.state_dir)]
    url = getattr(runner.store, "url", None)
    env = {"PHASEGATE_STORE": str(url)} if isinstance(url, str) and url else {}
    return args, env


def child_id(runner: UndoPort, phase: Phase) -> tuple[str, bool]:
    """The child's run id: the one journalled for the phase, else a new one (and whether it
    is new, to be journalled before anything starts)."""
    linked = runner.state.children.get(phase.id)
    if linked and linked.get("run"):
        return str(linked["run"]), False
    # The shape of session.new_run_id (which this module cannot import: session imports the
    # runner, which imports this).
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3), True


def is_child_step(runner: RunPort, key: str) -> bool:
    target = runner.targets.steps.get(key)
    return target is not None and is_program(target.phase) and key.endswith(f"/{CHILD_STEP}")


def is_child_rollback(runner: RunPort, key: str) -> bool:
    if not key.startswith("rollback:") or key not in runner.targets.undos:
        return False
    return is_program(runner.ctx.plan.phase(runner.targets.undos[key][1]))


async def run_step(runner: UndoPort, key: str) -> None:
    """A step of the plan: a program phase's child, or any other (engine/work.py)."""
    if is_child_step(runner, key):
        await run_child(runner, key)
    else:
        await work.run_step(runner, key)


async def run_undo(runner: UndoPort, key: str) -> None:
    if is_child_rollback(runner, key):
        await rollback_child(runner, key)
    else:
        await work.run_undo(runner, key)


async def run_child(runner: UndoPort, key: str) -> None:
    phase = runner.targets.step(key).phase
    assert phase.run_plan is not None
    ctx = runner.ctx
    label = ctx.variables.expand(runner.targets.step(key).step.label)
    base: ItemBase = {"key": key, "kind": "step", "phase": phase.id, "name": label}
    if phase.ready is not None:
        result = await readiness.evaluate(
            phase.ready,
            plan_file=ctx.loaded.path,
            shell=ctx.plan.defaults.shell,
            expand=ctx.variables.expand,
            check_context=ctx.check_context(runner.state),
        )
        runner.journal(result.as_event(phase.id), durable=True)
        if not result.ready:
            message = (
                f"child {phase.id} is not ready ({result.words()}); fix the evidence, then "
                f"`phasegate resume {runner.state.run_id}` evaluates it again"
            )
            _pause_for_human(runner, item_record(base), message)
            return
    plan_path = child_plan_path(str(ctx.loaded.path), ctx.variables.expand(phase.run_plan))
    run_id, new = child_id(runner, phase)
    if new:
        runner.journal(ChildLinked(phase=phase.id, run=run_id, plan=str(plan_path)), durable=True)
    args, env = _location(runner)
    argv = [sys.executable, "-m", CHILD_MODULE, *args, "start"]
    argv += ["--parent", runner.state.run_id, "--phase", phase.id, "--child", run_id]
    argv += ["--plan", str(plan_path)]
    for name, value in phase.vars.items():
        argv += ["--var", f"{name}={ctx.variables.expand(str(value))}"]
    if ctx.policies:
        argv += ["--policies", ctx.policies]
    action = Action(run=argv, env=env, idempotent=True)
    item = runner.state.items.get(key)
    attempt = (item.attempt if item is not None else 0) + 1
    outcome = await start_command(runner, key, base, action, attempt, "step")
    status = _child_status(runner, run_id)
    runner.journal(ChildEnded(phase=phase.id, run=run_id, status=status))
    record = _child_record(base, attempt, outcome, run_id, status)
    if outcome.ok:
        message = f"child run {run_id} succeeded"
        succeeded(runner, record, outcome, message=message)
        ctx.console.item("step", label, "succeeded", message, duration=outcome.process.duration)
        return
    stop = runner.stops.get(key)
    if stop is not None and stop.ended_it:
        finish_stopped(runner, record, stop)
        return
    code = outcome.process.exit_code
    if code in (_PAUSED, _INTERRUPTED) or status in ("paused", "interrupted", "waiting"):
        message = (
            f"child run {run_id} is {status}: see `phasegate status {run_id}`; once it can go "
            f"on, `phasegate resume {runner.state.run_id}` resumes it"
        )
        _pause_for_human(runner, record, message)
        return
    action_on_failure = phase.on_failure or ctx.plan.on_failure
    message = f"child run {run_id} ended {status} (exit {code})"
    runner.journal(item_finished(record, "failed", message=message, action=action_on_failure))
    ctx.console.item("step", label, "failed", message, duration=outcome.process.duration)


def _pause_for_human(runner: UndoPort, record: ItemRecord, message: str) -> None:
    """The step fails with ``action: pause``, whatever the plan's ``on_failure``: a child
    that is not ready, or that waits for a human, holds the program; ``resume`` retries."""
    runner.journal(item_finished(record, "failed", message=message, action="pause"))
    runner.ctx.console.item("step", str(record["name"]), "failed", message)


def _child_status(runner: UndoPort, run_id: str) -> str:
    try:
        return runner.store.get_run(run_id).status
    except (RunNotFound, StoreError):
        return "unknown"


async def rollback_child(runner: UndoPort, key: str) -> None:
    """``rollback:PHASE/1`` of a program phase: the child run's own rollback, once. A child
    never created, or already rolled back, has nothing to undo (the child process says so)."""
    action, phase_id, name = runner.targets.undo(key)
    base: ItemBase = {"key": key, "kind": "rollback", "phase": phase_id, "name": name}
    linked = runner.state.children.get(phase_id) or {}
    item = runner.state.items[key]
    attempt = item.attempt + 1
    if not linked.get("run"):
        runner.journal(item_finished(base, "succeeded", attempt=attempt, message="no child run"))
        runner.ctx.console.item("undo", name, "succeeded", "no child run started")
        return
    run_id = str(linked["run"])
    args, env = _location(runner)
    argv = [sys.executable, "-m", CHILD_MODULE, *args, "rollback"]
    argv += ["--parent", runner.state.run_id, "--phase", phase_id, "--child", run_id]
    command = Action(run=argv, env=env, idempotent=True, timeout=action.timeout)
    outcome = await start_command(runner, key, base, command, attempt, "undo")
    status = _child_status(runner, run_id)
    record = _child_record(base, attempt, outcome, run_id, status)
    stop = runner.stops.get(key)
    if not outcome.ok and stop is not None and stop.ended_it:
        finish_stopped(runner, record, stop)
        return
    verdict = "succeeded" if outcome.ok else "failed"
    message = f"child run {run_id} is {status}"
    if outcome.ok:
        succeeded(runner, record, outcome, verdict, message=message)
    else:
        runner.journal(item_finished(record, verdict, message=message))
    runner.ctx.console.item("undo", name, verdict, message, duration=outcome.process.duration)


def _child_record(
    base: ItemBase, attempt: int, outcome: ActionResult, run_id: str, status: str
) -> ItemRecord:
    """The item's record of a child command (start or rollback): how the command ended and
    the child run it was about."""
    return item_record(
        base,
        attempt=attempt,
        exit_code=outcome.process.exit_code,
        duration=round(outcome.process.duration, 6),
        log=outcome.log,
        outputs={"child_run": run_id, "child_status": status},
    )
