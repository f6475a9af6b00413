"""Canary steps that hold or watch: ``pause``, ``analysis``, ``promote``, and the bake after
``set_weight``.

Holding is journalled with its deadline (``item.waiting``), so a run resumed after a crash
waits only for what is left. Every hold ends early when the run starts failing (fast rollback:
nothing waits for a bake or an analysis to finish), and when an operator promotes.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import TYPE_CHECKING, TypedDict, Unpack

from phasegate.analysis.measure import Measurement
from phasegate.analysis.run import AnalysisRun
from phasegate.analysis.verdict import TallySummary, Verdict, VerdictStatus
from phasegate.engine.stepping import finish_step
from phasegate.plan.analysis import Analysis
from phasegate.run.events import (
    AnalysisMeasured,
    ItemFinished,
    ItemWaiting,
    item_finished,
    item_record,
    item_started,
)
from phasegate.run.records import ItemBase
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.engine.port import CanaryPort


async def bake(runner: CanaryPort, key: str, seconds: float, what: str) -> str | None:
    """Hold for ``seconds`` from the first time this item started holding (a resumed run
    continues the same bake); journalled durably so the deadline survives a crash."""
    if runner.state.failure is not None:
        return "the run is failing"  # a router call in flight when it failed: no bake
    if runner.state.promoted is not None:
        return f"promoted by {runner.state.promoted.get('by')}"
    item = runner.state.items[key]
    until = item.data.get("until")
    if until is None:
        until = time.time() + seconds
        runner.journal(ItemWaiting(key=key, until=until, what=what), durable=True)
    left = float(until) - time.time()
    if left > 0:
        runner.ctx.console.note(f"  … {what} {left:.0f}s", "dim")
    return await runner.holds.hold(key, left)


class StepDetails(TypedDict, total=False):
    """What a pause or analysis step's ``item.finished`` may add (``FinishDetails``)."""

    choice: str
    observed: VerdictObserved
    detected_at: float | None


def _finish(
    runner: CanaryPort, base: ItemBase, status: str, message: str, **extra: Unpack[StepDetails]
) -> None:
    started = runner.state.items[base["key"]].started_at
    duration = round(time.time() - started, 6) if started else None
    record = item_record(base, duration=duration, **extra)
    if status == "failed":
        finish_step(runner, record, "failed", message=message)
        return
    runner.journal(item_finished(record, status, message=message))
    runner.ctx.console.item("step", str(base["name"]), status, message, duration=duration)


def _start(runner: CanaryPort, base: ItemBase, what: str) -> None:
    item = runner.state.items.get(base["key"])
    attempt = (item.attempt if item is not None else 0) + 1
    runner.journal(item_started(base, attempt=attempt, command=what), durable=True)
    runner.ctx.console.started_item("step", str(base["name"]))


async def pause_step(runner: CanaryPort, key: str, base: ItemBase) -> None:
    step = runner.targets.step(key).step
    pause = step.pause
    assert pause is not None
    approvals = runner.state.approvals.get(key, [])
    if pause.until == "approve":
        choice = runner.state.choices.get(pause.choose.var) if pause.choose else None
        chosen = pause.choose is None or choice in pause.choose.options
        if len(approvals) >= pause.approvers and chosen:
            _start(runner, base, "pause until approved")
            said = f"approved by {', '.join(approvals)}"
            if pause.choose is not None:
                said += f"; chose {pause.choose.var}={choice}"
            chose: StepDetails = {"choice": choice} if choice else {}
            _finish(runner, base, "succeeded", said, **chose)
            return
        message = f"{len(approvals)}/{pause.approvers} approvals"
        if pause.choose is not None and not chosen:
            # Approved some other way (promote, an in-process request) without a choice: the
            # run waits again rather than run none of the options.
            message += (
                f"; a decision: `phasegate approve {runner.state.run_id} {key} --choose OPTION`"
                f" (options: {', '.join(pause.choose.options)})"
            )
        runner.journal(item_finished(base, "awaiting_approval", message=message))
        runner.ctx.console.item(
            "step",
            str(base["name"]),
            "awaiting_approval",
            f"phasegate approve {runner.state.run_id}",
        )
        return
    assert pause.duration is not None
    _start(runner, base, pause.words())
    ended = await bake(runner, key, pause.duration, "pause")
    message = f"paused {pause.duration:g}s" if ended is None else f"pause ended early: {ended}"
    _finish(runner, base, "succeeded", message)


async def analysis_step(runner: CanaryPort, key: str, base: ItemBase) -> None:
    """An inline analysis: measures ``count`` times, then passes, fails (the run rolls back)
    or is inconclusive (the run pauses for a human: approve continues, abort rolls back)."""
    step = runner.targets.step(key).step
    assert step.analysis is not None
    item = runner.state.items.get(key)
    approvals = runner.state.approvals.get(key, [])
    if item is not None and item.data.get("inconclusive") and approvals:
        _start(runner, base, "analysis (approved)")
        message = f"inconclusive analysis approved by {', '.join(approvals)}"
        _finish(runner, base, "succeeded", message)
        return
    analysis = runner.ctx.plan.analysis(step.analysis)
    _start(runner, base, f"analysis: {plural(len(analysis.metrics), 'metric')}")
    verdict = await analyse(runner, key, prepare(runner, key, analysis))
    observed = verdict_record(verdict)
    why = runner.stopping.pop(key, None)
    if why is not None:
        _finish(runner, base, "skipped", f"analysis stopped: {why}", observed=observed)
    elif verdict.status in ("passed", "warning"):
        _finish(runner, base, "succeeded", verdict.message, observed=observed)
    elif verdict.status == "failed":
        detected = verdict.detected_at
        _finish(runner, base, "failed", verdict.message, detected_at=detected, observed=observed)
    elif verdict.status == "inconclusive":
        runner.journal(
            item_finished(
                base,
                "awaiting_approval",
                observed=observed,
                inconclusive=True,
                message=f"{verdict.message}; a human decides: `phasegate approve "
                f"{runner.state.run_id}` continues, `phasegate abort` rolls back",
            )
        )
        runner.ctx.console.item("step", str(base["name"]), "awaiting_approval", verdict.message)
    else:
        _finish(runner, base, "failed", f"analysis ended {verdict.status}: {verdict.message}")


def prepare(runner: CanaryPort, key: str, analysis: Analysis) -> AnalysisRun:
    """An analysis run journalling every measurement, registered so it can be stopped."""

    def measured(measurement: Measurement, verdict: Verdict) -> None:
        event = AnalysisMeasured(
            key=key,
            metric=measurement.metric,
            status=measurement.status,
            value=measurement.value,
            at=measurement.at,
            message=measurement.message,
        )
        if verdict.status != "running":  # only a decided analysis names its verdict
            event = event.model_copy(update={"verdict": verdict.status})
        runner.journal(event)
        if verdict.status in ("failed", "inconclusive"):
            runner.wake.set()

    run = AnalysisRun(
        analysis, lambda: runner.ctx.check_context(runner.state), on_measurement=measured
    )
    runner.analyses[key] = run
    return run


async def analyse(runner: CanaryPort, key: str, run: AnalysisRun) -> Verdict:
    """Run one prepared analysis until it decides or is stopped."""
    try:
        return await run.run()
    finally:
        runner.analyses.pop(key, None)


def stop_analyses(runner: CanaryPort, why: str, keys: list[str] | None = None) -> None:
    """End running analyses now (the run fails, or is promoted, or a phase is done)."""
    for key, run in list(runner.analyses.items()):
        if keys is None or key in keys:
            runner.stopping.setdefault(key, why)
            run.stop()


class VerdictObserved(TypedDict):
    """An analysis item's ``observed``: the verdict without its message (the item's message
    already says it), its status as ``verdict``."""

    reason: str
    detected_at: float | None
    score: float | None
    metric: str | None
    metrics: dict[str, TallySummary]
    verdict: VerdictStatus


class Concluded(TypedDict, total=False):
    """What a background analysis's ``item.finished`` adds to its base."""

    observed: VerdictObserved
    inconclusive: bool
    action: str
    detected_at: float


def verdict_record(verdict: Verdict) -> VerdictObserved:
    return {
        "reason": verdict.reason,
        "detected_at": verdict.detected_at,
        "score": verdict.score,
        "metric": verdict.metric,
        "metrics": dict(verdict.metrics),
        "verdict": verdict.status,
    }


def analysis_key(phase_id: str) -> str:
    return f"{phase_id}/analysis"


class Background:
    """Phases' background analyses: started with the phase, watched across all its steps,
    concluded when the phase's steps and gates are done. A failure fails the run at once; an
    inconclusive verdict holds the phase for a human."""

    def __init__(self, runner: CanaryPort) -> None:
        self.runner = runner
        self.tasks: dict[str, asyncio.Task[Verdict]] = {}

    def start(self, phase_id: str) -> None:
        runner = self.runner
        phase = runner.ctx.plan.phase(phase_id)
        if phase.analysis is None:
            return
        key = analysis_key(phase_id)
        item = runner.state.items.get(key)
        if item is not None and item.status not in ("pending", "running"):
            return  # concluded already, or waiting for a human
        base = self._base(key, phase_id)
        approvals = runner.state.approvals.get(key, [])
        if item is not None and item.data.get("inconclusive") and approvals:
            _start(runner, base, "background analysis (approved)")
            message = f"inconclusive analysis approved by {', '.join(approvals)}"
            runner.journal(item_finished(base, "passed", message=message))
            return
        if item is None or item.status == "pending":
            attempt = (item.attempt if item is not None else 0) + 1
            runner.journal(item_started(base, attempt=attempt, command="analysis"))
        analysis = runner.ctx.plan.analysis(phase.analysis)
        task = asyncio.ensure_future(analyse(runner, key, prepare(runner, key, analysis)))
        task.add_done_callback(functools.partial(self._concluded, key))
        self.tasks[key] = task
        runner.ctx.console.note(f"  ◎ background analysis of {phase_id} started", "dim")

    def _base(self, key: str, phase_id: str) -> ItemBase:
        return {"key": key, "kind": "analysis", "phase": phase_id, "name": f"analysis {phase_id}"}

    def _concluded(self, key: str, task: asyncio.Task[Verdict]) -> None:
        self.tasks.pop(key, None)
        runner = self.runner
        why = runner.stopping.pop(key, None)
        if task.cancelled() or runner.state.status not in ("running", "rolling_back"):
            return
        item = runner.state.items.get(key)
        if item is None or item.status != "running":
            return
        if task.exception() is not None:
            verdict_status, message = "error", f"the analysis crashed: {task.exception()}"
            record: Concluded = {}
            verdict = None
        else:
            verdict = task.result()
            verdict_status, message = verdict.status, verdict.message
            record = {"observed": verdict_record(verdict)}
        phase_id = str(item.phase)
        base = self._base(key, phase_id)
        phase = runner.ctx.plan.phase(phase_id)
        action = phase.on_failure or runner.ctx.plan.on_failure
        if why is not None and why != "phase done":
            status, message = "skipped", f"analysis stopped: {why}"
        elif verdict_status in ("passed", "warning"):
            status = "passed" if verdict_status == "passed" else "warned"
        elif verdict_status == "inconclusive":
            status = "awaiting_approval"
            record["inconclusive"] = True
            message += (
                f"; a human decides: `phasegate approve {runner.state.run_id}` continues, "
                "`phasegate abort` rolls back"
            )
        else:
            status = "failed"
            record["action"] = action
            if verdict is not None and verdict.detected_at is not None:
                record["detected_at"] = verdict.detected_at
        runner.journal(item_finished(base, status, **record, message=message))
        runner.ctx.console.item("analysis", phase_id, status, message)
        runner.wake.set()

    async def conclude(self, key: str) -> None:
        """The phase is done: stop watching and record the verdict."""
        task = self.tasks.get(key)
        if task is None:
            phase_id = key.rsplit("/", 1)[0]
            self.start(phase_id)  # a resumed run whose analysis never restarted
            task = self.tasks.get(key)
            if task is None:
                return
        stop_analyses(self.runner, "phase done", [key])
        await asyncio.wait([task])

    def settle(self) -> list[ItemFinished]:
        """The run ends now (finished or rolled back): a background analysis asked to stop
        that has not concluded yet (its measurement still runs) is recorded as skipped in the
        run's last write, and its watch cancelled, so that a finished run never shows one
        running. One stopped for a pause is left alone (a resumed run watches again)."""
        runner = self.runner
        settled: list[ItemFinished] = []
        for key, task in self.tasks.items():
            item = runner.state.items.get(key)
            why = runner.stopping.get(key)
            if task.done() or why is None or item is None or item.status != "running":
                continue
            task.cancel()  # its done-callback journals nothing for a cancelled watch
            message = f"analysis stopped: {why}"
            base = self._base(key, str(item.phase))
            settled.append(item_finished(base, "skipped", message=message))
            runner.ctx.console.item("analysis", str(item.phase), "skipped", message)
        return settled

    async def halt(self) -> None:
        """The run stops here (paused, finished, interrupted): cancel, journal nothing; a
        resumed run starts the watch again."""
        tasks = list(self.tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        self.tasks.clear()
