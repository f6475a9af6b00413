"""One command of a plan as an item: its start journalled durably before it spawns, where it
runs, and its end (succeeded, failed, stopped by phasegate).

Shared by the modules that run commands (work.py's steps and undos, traffic.py's router
steps, canary.py's holds that end a step, program.py's child runs); none of them imports
another for it, so the effect modules form no import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from phasegate.engine import shellstate
from phasegate.engine.actions import ActionResult, run_action
from phasegate.executors.stopping import StopRequest
from phasegate.plan.model import Action, Step
from phasegate.plugin import describe_command
from phasegate.run.events import (
    FinishDetails,
    ItemRecord,
    ItemSpawned,
    Killed,
    item_finished,
    item_started,
)
from phasegate.run.records import ItemBase
from phasegate.store.process import proc_stat

if TYPE_CHECKING:
    from phasegate.engine.port import CommandPort, RunPort


async def start_command(
    runner: CommandPort, key: str, base: ItemBase, command: Step | Action, attempt: int, kind: str
) -> ActionResult:
    """Journal the start durably, then (and only then) spawn the command."""
    assert command.run is not None
    runner.journal(
        item_started(base, attempt=attempt, command=describe_command(command.run)), durable=True
    )
    runner.ctx.console.started_item(kind, str(base["name"]))

    def spawned(pid: int) -> None:
        # Where the command runs, as soon as it runs: a resume after a crash finds its process
        # group by this (pid, start time) pair, which a reused pid cannot match. The run's
        # supervisor read the start when it spawned the command (a quick one is gone by now).
        start_of = getattr(runner.ctx.executor, "start_of", None)
        start: str | None = start_of(pid) if start_of is not None else None
        if start is None:
            stat = proc_stat(pid)
            start = stat.start if stat is not None else None
        runner.journal(ItemSpawned(key=key, attempt=attempt, pid=pid, pgid=pid, start=start))

    session = None
    if runner.ctx.plan.shell_session:
        session = shellstate.restore(runner.ctx, runner.state.shell)
    return await run_action(
        runner.ctx,
        key,
        run=command.run,
        cwd=command.cwd,
        env=command.env,
        timeout=command.timeout,
        shell=command.shell,
        attempt=attempt,
        stop=runner.stops.get(key),
        on_spawn=spawned,
        session=session,
    )


def succeeded(
    runner: RunPort,
    record: ItemRecord,
    result: ActionResult,
    status: str = "succeeded",
    **details: Unpack[FinishDetails],
) -> None:
    """Journal a command's success; with a shell session change, durably before its dumps go
    (a crash in between leaves them for resume to read: engine/orphans.py). Otherwise it need
    not be urgent: the command ran under a supervisor, whose record resume reads if a crash
    lost this event (docs/crash-safety.md), so it rides with the next step's start."""
    if result.shell:
        details["shell"] = result.shell
    event = item_finished(record, status, **details)
    runner.journal(event, durable=bool(result.shell), recorded=True)
    shellstate.discard(result.capture)


def finish_step(
    runner: RunPort, record: ItemRecord, status: str, *, message: str, tolerated: bool = False
) -> None:
    phase = runner.ctx.plan.phase(str(record["phase"]))
    action = phase.on_failure or runner.ctx.plan.on_failure
    runner.journal(
        item_finished(record, status, message=message, tolerated=tolerated, action=action)
    )
    note = " (continue_on_error)" if tolerated else ""
    runner.ctx.console.item(
        "step", str(record["name"]), status, message + note, duration=record.get("duration")
    )


def finish_stopped(runner: RunPort, record: ItemRecord, stop: StopRequest) -> None:
    """A command phasegate itself ended. On ``abort`` the step failed (and the rollback
    starts at once); at a signal to phasegate it is ``interrupted``: its outcome is known (it
    did not succeed), so ``resume`` re-runs it instead of asking about an unknown."""
    how = stop.describe()
    killed = Killed(by="phasegate", on=stop.reason, signals=tuple(name for name, _ in stop.sent))
    record = {**record, "killed": killed}
    if stop.reason == "abort":
        finish_step(runner, record, "failed", message=f"killed by phasegate on abort ({how})")
        return
    message = f"killed by phasegate at {stop.reason} ({how}); `phasegate resume` re-runs it"
    runner.journal(item_finished(record, "interrupted", message=message))
    runner.ctx.console.item(
        str(record["kind"]),
        str(record["name"]),
        "interrupted",
        message,
        duration=record.get("duration"),
    )
