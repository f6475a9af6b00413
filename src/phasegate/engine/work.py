"""What the runner does for each item: run a step (with retries), judge a gate, approve a
manual check, run an undo or a rollback action, verify a rollback. Each journals its outcome
through the runner; none decides what comes next."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from phasegate.checks.manual import ManualCheck
from phasegate.engine import readiness, rollback_choice, shellstate
from phasegate.engine.canary import analysis_step, pause_step
from phasegate.engine.gates import evaluate_gate, gate_record
from phasegate.engine.stepping import finish_step, finish_stopped, start_command, succeeded
from phasegate.engine.traffic import BASELINE_KEY, promote_step, set_weight_step, to_baseline
from phasegate.expr import ExprError, truthy
from phasegate.plan.program import ScoredChecks, no_go_action
from phasegate.run.events import (
    ItemFinished,
    item_finished,
    item_record,
)
from phasegate.run.records import ItemBase
from phasegate.words import names

if TYPE_CHECKING:
    from phasegate.engine.port import CanaryPort, UndoPort

# finish_step, finish_stopped, start_command and succeeded live in stepping.py (canary and
# traffic use them too); program.py imports them from here still.
__all__ = [
    "finish_step",
    "finish_stopped",
    "manual_gate",
    "run_gate",
    "run_step",
    "run_undo",
    "run_verify",
    "skip_promoted",
    "start_command",
    "succeeded",
    "unchecked_gate",
]


async def run_step(runner: CanaryPort, key: str) -> None:
    target = runner.targets.step(key)
    step, phase = target.step, target.phase
    label = runner.ctx.variables.expand(step.label)
    base: ItemBase = {"key": key, "kind": "step", "phase": phase.id, "name": label}
    if step.when is not None:
        try:
            run_it = truthy(step.when, runner.ctx.activation(runner.state))
        except ExprError as exc:
            finish_step(runner, item_record(base), "failed", message=f"when: {exc.message}")
            return
        if not run_it:
            runner.journal(item_finished(base, "skipped", message=f"when: {step.when} is false"))
            runner.ctx.console.item("step", label, "skipped")
            return
    item = runner.state.items.get(key)
    attempt = item.attempt if item is not None else 0
    action = step.action
    if action == "set_weight":
        await set_weight_step(runner, key, base, attempt)
        return
    if action == "pause":
        await pause_step(runner, key, base)
        return
    if action == "analysis":
        await analysis_step(runner, key, base)
        return
    if action == "promote":
        await promote_step(runner, key, base)
        return
    while True:
        attempt += 1
        result = await start_command(runner, key, base, step, attempt, "step")
        stop = runner.stops.get(key)
        record = item_record(
            base,
            attempt=attempt,
            exit_code=result.process.exit_code,
            duration=round(result.process.duration, 6),
            log=result.log,
            outputs=result.outputs,
            message=result.message(),
        )
        if result.ok:
            succeeded(runner, record, result)
            runner.ctx.console.item("step", label, "succeeded", duration=result.process.duration)
            return
        shellstate.discard(result.capture)
        if stop is not None and stop.ended_it:
            finish_stopped(runner, record, stop)
            return
        if attempt <= step.retries:
            delay = step.backoff * (2 ** (attempt - 1))
            runner.journal(item_finished(record, "retrying", delay=delay))
            runner.ctx.console.item(
                "step", label, "retrying", f"{result.message()}; next attempt in {delay:g}s"
            )
            if stop is not None and await stop.pause(delay):
                finish_stopped(runner, record, stop)
                return
            if stop is None:
                await asyncio.sleep(delay)
            continue
        finish_step(
            runner, record, "failed", message=result.message(), tolerated=step.continue_on_error
        )
        return


def skip_promoted(runner: CanaryPort, key: str, phase_id: str) -> None:
    """``promote --full``: the canary steps left, and background analyses, are skipped."""
    if key in runner.targets.steps:
        kind, label = "step", runner.ctx.variables.expand(runner.targets.step(key).step.label)
    else:
        kind, label = "analysis", f"analysis {phase_id}"
    promoted = runner.state.promoted
    by = (promoted["by"] if promoted is not None else None) or "operator"
    runner.journal(
        ItemFinished(
            key=key,
            kind=kind,
            phase=phase_id,
            name=label,
            status="skipped",
            message=f"skipped: promoted by {by} (promote --full)",
        ),
    )
    runner.ctx.console.item(kind, label, "skipped", f"promoted by {by}")


async def run_gate(runner: CanaryPort, key: str) -> None:
    target = runner.targets.gate(key)
    check, phase = target.check, target.phase
    label = runner.ctx.variables.expand(check.describe())
    base: ItemBase = {"key": key, "kind": "gate", "phase": phase.id, "name": label}
    when = target.step.when if target.step is not None else None
    if when is not None:  # a pre-gate belongs to its step: not checked when the step is skipped
        try:
            check_it = truthy(when, runner.ctx.activation(runner.state))
        except ExprError:
            check_it = True  # the step reports the broken condition; the gate still guards it
        if not check_it:
            message = f"when: {when} is false (its step is skipped)"
            runner.journal(item_finished(base, "skipped", message=message))
            runner.ctx.console.item("gate", label, "skipped")
            return
    if isinstance(check, ManualCheck):
        manual_gate(runner, key, check, base)
        return
    started = time.time()
    context = runner.ctx.check_context(runner.state)
    if isinstance(check, ScoredChecks):  # a program's go/no-go score: its named checks
        outcome = await readiness.score_gate(check, context)
    else:
        outcome = await evaluate_gate(check, context)
    obs = outcome.observation
    if obs.passed:
        status = "passed"
    elif check.severity == "warn":
        status = "warned"
    else:
        status = obs.status
    gate_id = key.partition("/gate:")[2]
    action = no_go_action(phase, gate_id) or phase.on_failure or runner.ctx.plan.on_failure
    details = gate_record(check, outcome, runner.ctx.variables.expand)
    runner.journal(item_finished(base, status, **details, started_at=started, action=action))
    runner.ctx.console.item(
        "gate", label, status, "" if obs.passed else obs.message, duration=outcome.duration
    )


def manual_gate(runner: CanaryPort, key: str, check: ManualCheck, base: ItemBase) -> None:
    label = str(base["name"])
    approvals = runner.state.approvals.get(key, [])
    if check.checked or len(approvals) >= check.approvers:
        by = approvals or ["plan (checked)"]
        runner.journal(
            item_finished(
                base,
                "passed",
                observed={"approved_by": by},
                expectation=check.expectation(),
                message=f"approved by {', '.join(by)}",
            )
        )
        runner.ctx.console.item("gate", label, "passed", f"approved by {names(by)}")
        return
    if runner.ctx.require_checked:
        unchecked_gate(runner, key, base)
        return
    runner.journal(
        item_finished(
            base,
            "awaiting_approval",
            expectation=check.expectation(),
            message=f"{len(approvals)}/{check.approvers} approvals",
        )
    )
    runner.ctx.console.item(
        "gate",
        label,
        "awaiting_approval",
        f"phasegate approve {runner.state.run_id} --check {key}",
    )


def unchecked_gate(runner: CanaryPort, key: str, base: ItemBase) -> None:
    """``--require-checked``: a box left unticked in the plan is a failed gate, not a pause;
    the run follows ``on_failure`` as for any other failed gate."""
    label = str(base["name"])
    phase = runner.ctx.plan.phase(str(base["phase"]))
    message = (
        f"manual check {label!r} ({key}) is not checked in the plan, and the run requires "
        "checked manual checks (--require-checked)"
    )
    runner.journal(
        item_finished(
            base,
            "failed",
            observed={"checked": False},
            expectation="checked in the plan (--require-checked)",
            message=message,
            action=phase.on_failure or runner.ctx.plan.on_failure,
        )
    )
    runner.ctx.console.item("gate", label, "failed", message)


async def run_undo(runner: UndoPort, key: str) -> None:
    if key == BASELINE_KEY:
        await to_baseline(runner, key)
        return
    if key not in runner.targets.undos and "@" in key:  # maybe a fleet step's undo
        from phasegate.engine.fleet_hosts import run_host_undo, split_host_key

        if split_host_key(key.removeprefix("undo:")):
            await run_host_undo(runner, key)  # a fleet step's undo, on its host
            return
    if key in runner.targets.rollback_decisions:
        rollback_choice.decide_on_rollback(runner, key)
        return
    action, phase_id, name = runner.targets.undo(key)
    base: ItemBase = {
        "key": key,
        "kind": "undo" if key.startswith("undo:") else "rollback",
        "phase": phase_id,
        "name": name,
    }
    if rollback_choice.skipped_by_when(runner, key, base, action):
        return
    item = runner.state.items[key]
    attempt = item.attempt + 1
    result = await start_command(runner, key, base, action, attempt, "undo")
    status = "succeeded" if result.ok else "failed"
    record = item_record(
        base,
        attempt=attempt,
        exit_code=result.process.exit_code,
        duration=round(result.process.duration, 6),
        log=result.log,
    )
    stop = runner.stops.get(key)
    if not result.ok and stop is not None and stop.ended_it:
        shellstate.discard(result.capture)
        finish_stopped(runner, record, stop)
        return
    if result.ok:
        succeeded(runner, record, result, status, message=result.message())
    else:
        shellstate.discard(result.capture)
        runner.journal(item_finished(record, status, message=result.message()))
    runner.ctx.console.item(
        "undo",
        name,
        status,
        "" if result.ok else result.message(),
        duration=result.process.duration,
    )


async def run_verify(runner: CanaryPort, key: str) -> None:
    check = runner.targets.verify(key)
    label = runner.ctx.variables.expand(check.describe())
    started = time.time()
    context = runner.ctx.check_context(runner.state)
    if isinstance(check, ScoredChecks):  # a program's go/no-go score: its named checks
        outcome = await readiness.score_gate(check, context)
    else:
        outcome = await evaluate_gate(check, context)
    obs = outcome.observation
    status = "passed" if obs.passed else ("warned" if check.severity == "warn" else obs.status)
    base: ItemBase = {"key": key, "kind": "verify", "phase": None, "name": label}
    details = gate_record(check, outcome, runner.ctx.variables.expand)
    runner.journal(item_finished(base, status, **details, started_at=started))
    runner.ctx.console.item(
        "verify",
        label,
        status,
        "" if obs.passed else obs.message,
        duration=outcome.duration,
    )
