"""Traffic changes: a ``set_weight`` step, the return to the baseline that opens a rollback, and
the re-application of the last weights when a run is resumed.

Every change the router confirms is journalled (``traffic.changed``: what was asked, what the
router says it applied, which item asked and why) before the run moves on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias, TypedDict

from phasegate.engine.canary import bake
from phasegate.engine.stepping import finish_step, start_command
from phasegate.run.events import (
    TrafficChanged,
    Warning,
    item_finished,
    item_record,
    item_started,
)
from phasegate.run.records import ItemBase, Number
from phasegate.traffic.base import RouterError, Weights, canary_weight, describe_weights

if TYPE_CHECKING:
    from phasegate.engine.port import CanaryPort


class Detection(TypedDict, total=False):
    """Detection-to-rollback latency, added to the ``traffic.changed`` that took the canary's
    weight to 0 (empty when nothing was detected or the canary still has traffic)."""

    detected_at: Number
    detection_latency: float
    detected_by: str


# A traffic step's outputs: the command's own (``promote`` with ``run``), and ``weights``, what
# the router applied.
StepOutputs: TypeAlias = dict[str, str | Weights | None]

BASELINE_KEY = "traffic:baseline"
PROMOTE_KEY = "promote:full"


async def apply_weights(
    runner: CanaryPort,
    weights: Weights,
    *,
    by: str,
    reason: str,
    extra: Callable[[Weights], Detection] | None = None,
) -> Weights:
    """Apply through the plan's router and journal the change; raises RouterError."""
    traffic = runner.ctx.plan.traffic
    if traffic is None or traffic.router is None:
        raise RouterError("the plan has no router (traffic.router)")
    started = time.monotonic()
    ctx = runner.ctx.check_context(runner.state)
    applied = await traffic.router.apply(dict(weights), ctx)
    runner.journal(
        TrafficChanged.model_validate(
            {
                "weights": dict(weights),
                "applied": applied,
                "by": by,
                "reason": reason,
                "duration": round(time.monotonic() - started, 6),
                **(extra(applied) if extra is not None else {}),
            }
        ),
        durable=True,
    )
    return applied


async def set_weight_step(runner: CanaryPort, key: str, base: ItemBase, attempt: int) -> None:
    """A ``set_weight`` step: journal the start, apply, confirm what the router applied."""
    step = runner.targets.step(key).step
    traffic = runner.ctx.plan.traffic
    assert step.set_weight is not None and traffic is not None
    weights = traffic.weights(step.set_weight)
    label = str(base["name"])
    while True:
        attempt += 1
        command = f"set weights: {describe_weights(weights)}"
        runner.journal(item_started(base, attempt=attempt, command=command), durable=True)
        runner.ctx.console.started_item("step", label)
        started = time.monotonic()
        item = runner.state.items[key]
        baking = item.data.get("until") is not None
        try:
            if baking and runner.state.traffic.get("weights") == weights:
                applied = weights  # resumed mid-bake: `restore` has just re-applied them
            else:
                applied = await asyncio.wait_for(
                    apply_weights(runner, weights, by=key, reason="step"),
                    step.timeout or None,
                )
        except (RouterError, TimeoutError) as exc:
            message = str(exc) or f"the router did not answer in {step.timeout:g}s"
            duration = round(time.monotonic() - started, 6)
            record = item_record(base, attempt=attempt, duration=duration)
            if attempt <= step.retries:
                delay = step.backoff * (2 ** (attempt - 1))
                runner.journal(item_finished(record, "retrying", delay=delay, message=message))
                await asyncio.sleep(delay)
                continue
            finish_step(runner, record, "failed", message=message)
            return
        message = f"applied {describe_weights(applied)}"
        if applied != weights:
            message += f" (asked {describe_weights(weights)})"
        if step.bake:
            ended = await bake(runner, key, step.bake, "bake")
            message += f", baked {step.bake:g}s" if ended is None else f"; bake cut short: {ended}"
        _succeeded(runner, base, attempt, started, {"weights": applied}, message)
        return


async def to_baseline(runner: CanaryPort, key: str) -> None:
    """The first action of a rollback: traffic back to the baseline, before any undo runs."""
    traffic = runner.ctx.plan.traffic
    assert traffic is not None
    await traffic_item(
        runner,
        key,
        "traffic to baseline",
        traffic.baseline_weights(),
        by=key,
        reason="rollback",
        extra=lambda applied: detection(runner, applied),
    )


async def traffic_item(
    runner: CanaryPort,
    key: str,
    name: str,
    weights: Weights,
    *,
    by: str,
    reason: str,
    extra: Callable[[Weights], Detection] | None = None,
) -> None:
    """A traffic change that is an item of its own (not a step): journal its start, apply,
    journal how it ended. A router failure is the item's failure, never a crash."""
    base: ItemBase = {"key": key, "kind": "traffic", "phase": None, "name": name}
    item = runner.state.items.get(key)
    attempt = (item.attempt if item is not None else 0) + 1
    command = f"set weights: {describe_weights(weights)}"
    runner.journal(item_started(base, attempt=attempt, command=command), durable=True)
    started = time.monotonic()
    try:
        applied = await apply_weights(runner, weights, by=by, reason=reason, extra=extra)
    except RouterError as exc:
        status, message = "failed", str(exc)
    else:
        status, message = "succeeded", f"applied {describe_weights(applied)}"
    duration = time.monotonic() - started
    runner.journal(
        item_finished(base, status, attempt=attempt, duration=round(duration, 6), message=message)
    )
    kind = "undo" if reason == "rollback" else "step"
    runner.ctx.console.item(kind, name, status, message, duration=duration)


def detection(runner: CanaryPort, applied: Weights) -> Detection:
    """Detection-to-rollback latency: from the first evaluation that crossed the failure
    condition (or the abort) to the router confirming the canary's weight is 0."""
    failure = runner.state.failure
    detected = failure.get("detected_at") if failure is not None else None
    traffic = runner.ctx.plan.traffic
    if failure is None or detected is None or traffic is None:
        return {}
    if canary_weight(applied, traffic.backends) != 0:
        return {}
    return {
        "detected_at": detected,
        "detection_latency": round(time.time() - float(detected), 6),
        "detected_by": failure["item"] or failure["reason"],
    }


async def promote_step(runner: CanaryPort, key: str, base: ItemBase) -> None:
    """``promote``: all traffic to the canary; then, with ``run``, the user's command that
    makes stable the new version, and traffic back on the (now new) stable backend."""
    step = runner.targets.step(key).step
    traffic = runner.ctx.plan.traffic
    assert traffic is not None
    item = runner.state.items.get(key)
    attempt = (item.attempt if item is not None else 0) + 1
    full = traffic.weights(100)
    started = time.monotonic()
    label = str(base["name"])
    if step.run is None:
        command = f"set weights: {describe_weights(full)}"
        runner.journal(item_started(base, attempt=attempt, command=command), durable=True)
        runner.ctx.console.started_item("step", label)
    try:
        if runner.state.traffic.get("weights") != full:
            await apply_weights(runner, full, by=key, reason="promote")
        if step.bake and step.run is None:
            await bake(runner, key, step.bake, "bake")
    except RouterError as exc:
        if step.run is not None:
            runner.journal(item_started(base, attempt=attempt, command="promote"), durable=True)
        record = item_record(base, attempt=attempt, duration=round(time.monotonic() - started, 6))
        finish_step(runner, record, "failed", message=f"promote: {exc}")
        return
    messages = [f"applied {describe_weights(full)}"]
    outputs: StepOutputs = {}
    if step.run is not None:
        result = await start_command(runner, key, base, step, attempt, "step")
        record = item_record(
            base,
            attempt=attempt,
            exit_code=result.process.exit_code,
            log=result.log,
            duration=round(time.monotonic() - started, 6),
        )
        if not result.ok:
            finish_step(runner, record, "failed", message=f"promote: {result.message()}")
            return
        outputs = dict(result.outputs)
        try:
            applied = await apply_weights(
                runner, traffic.baseline_weights(), by=key, reason="promoted"
            )
        except RouterError as exc:
            finish_step(runner, record, "failed", message=f"promote: {exc}")
            return
        messages.append(f"stable is the new version; applied {describe_weights(applied)}")
    outputs = {**outputs, "weights": runner.state.traffic.get("weights")}
    _succeeded(runner, base, attempt, started, outputs, "; ".join(messages))


def _succeeded(
    runner: CanaryPort,
    base: ItemBase,
    attempt: int,
    started: float,
    outputs: StepOutputs,
    message: str,
) -> None:
    duration = time.monotonic() - started
    runner.journal(
        item_finished(
            base,
            "succeeded",
            attempt=attempt,
            duration=round(duration, 6),
            outputs=outputs,
            message=message,
        )
    )
    runner.ctx.console.item("step", str(base["name"]), "succeeded", message, duration=duration)


async def promote_full(runner: CanaryPort, key: str) -> None:
    """``promote --full`` on a plan with no ``promote`` step: all traffic to the canary now."""
    traffic = runner.ctx.plan.traffic
    assert traffic is not None
    promoted = runner.state.promoted
    by = (promoted["by"] if promoted is not None else None) or "operator"
    await traffic_item(
        runner,
        key,
        "promote --full",
        traffic.weights(100),
        by=f"promote --full ({by})",
        reason="promote",
    )


async def restore(runner: CanaryPort) -> bool:
    """On resume, before anything else: make the journal's last weights live again.

    A crash may have left the router anywhere (a change half made, or made and not journalled);
    the journal's last confirmed weights are the truth the run continues from. False when the
    router refused: the caller pauses the run for a human rather than guess.
    """
    last = runner.state.traffic.get("weights")
    if runner.state.status not in ("running", "rolling_back"):
        return True
    if not last or runner.ctx.plan.traffic is None or runner.ctx.plan.traffic.router is None:
        return True
    try:
        applied = await apply_weights(runner, dict(last), by="resume", reason="restore")
    except RouterError as exc:
        runner.journal(Warning(item="traffic", message=f"could not restore weights: {exc}"))
        return False
    runner.ctx.console.note(f"traffic restored: {describe_weights(applied)}", "cyan")
    return True
