"""Background watchers for plan-level triggers.

A trigger journals only when its state changes (healthy -> failing, failing -> healthy, tripped)
and a summary when the watch stops, so a long run does not fill the journal with samples.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from phasegate.engine.gates import observe_once
from phasegate.engine.tasks import cancel_all
from phasegate.plan.model import Trigger
from phasegate.run.events import TriggerState, TriggerTripped
from phasegate.words import plural

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort


class TriggerWatch:
    def __init__(self, runner: RunPort) -> None:
        self.runner = runner
        self.tasks: list[asyncio.Task[None]] = []
        self.stats: dict[str, dict[str, Any]] = {}
        self.stopped = False

    def start(self) -> None:
        for trigger in self.runner.ctx.plan.triggers:
            self.stats[trigger.name] = {
                "evaluations": 0,
                "failures": 0,
                "consecutive": 0,
                "status": "healthy",
                "last": None,
            }
            self.tasks.append(asyncio.ensure_future(self._watch(trigger)))

    def halt(self) -> list[TriggerState]:
        """Stop watching; return the summary events to journal (once)."""
        self.stopped = True
        for task in self.tasks:
            task.cancel()
        events = [
            TriggerState.model_validate({"trigger": name, **stats, "watching": False})
            for name, stats in self.stats.items()
        ]
        self.stats.clear()
        return events

    async def stop(self) -> None:
        self.stopped = True
        await cancel_all(self.tasks)
        self.tasks.clear()

    async def _watch(self, trigger: Trigger) -> None:
        runner = self.runner
        stats = self.stats[trigger.name]
        await asyncio.sleep(trigger.initial_delay)
        while not self.stopped:
            if trigger.during and not any(
                runner.state.phases[p].status == "running" for p in trigger.during
            ):
                await asyncio.sleep(trigger.every)  # not watching outside its phases
                continue
            ctx = runner.ctx.check_context(runner.state)
            observation = await observe_once(trigger.check, ctx)
            if self.stopped:
                return  # halted while observing: the run has moved on
            stats["evaluations"] += 1
            stats["last"] = {
                "status": observation.status,
                "message": observation.message,
                "observed": observation.observed,
            }
            if observation.passed:
                if stats["consecutive"] or stats["status"] != "healthy":
                    fired = stats["status"] == "tripped"
                    stats.update(consecutive=0, status="healthy")
                    runner.journal(TriggerState.model_validate({"trigger": trigger.name, **stats}))
                    if fired:  # only an alert keeps watching after it fires
                        runner.ctx.console.note(f"⚡ trigger {trigger.name} recovered", "green")
            else:
                stats["failures"] += 1
                stats["consecutive"] += 1
                if stats["consecutive"] == 1:
                    # Detection: the first evaluation of this streak to cross the condition.
                    stats["failing_since"] = time.time()
                if stats["status"] == "tripped":
                    # An alert that has fired stays fired, silently, until the check passes
                    # again: it is reported when its state changes, not on every evaluation.
                    pass
                elif stats["consecutive"] >= trigger.fail_after:
                    stats["status"] = "tripped"
                    tripped = {
                        "trigger": trigger.name,
                        "action": trigger.action,
                        "message": observation.message,
                        "detected_at": stats["failing_since"],
                        **stats,
                    }
                    runner.journal(TriggerTripped.model_validate(tripped))
                    streak = plural(stats["consecutive"], "consecutive failure")
                    runner.ctx.console.note(
                        f"⚡ trigger {trigger.name} tripped after {streak}: "
                        f"{observation.message} -> {trigger.action}",
                        "red",
                    )
                    runner.wake.set()
                    if trigger.action != "alert":
                        return
                elif stats["consecutive"] == 1:
                    stats["status"] = "failing"
                    runner.journal(TriggerState.model_validate({"trigger": trigger.name, **stats}))
            await asyncio.sleep(trigger.every)
