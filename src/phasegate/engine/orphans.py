"""After a crash: what became of the commands the dead engine had started.

A command the journal shows started but not finished may still be running (its process group
outlives the engine), may have finished while phasegate was dead, or may be truly lost. Before
anything is re-run or a human is asked, ``settle_crashed`` looks:

1. Its process group, found by the ``item.spawned`` record (pid + start time, so a reused pid
   never matches) or, if the engine died before journalling it, by the supervisor's command
   line. Still running: wait for it (bounded, saying so), or end it when the operator said
   ``--kill-orphans``. A second copy never runs beside the first.
2. Its supervisor's status file (executors/supervisor.py; Ansible's ``async`` status files are
   the model): exit 0 → journalled succeeded, noting it was recovered from the supervisor's
   record; exit 1-128 → failed (or retried, when the step has retries left); death by a
   signal → unknown (with no engine to read its output, a step dies of SIGPIPE: that says
   nothing about its work).
3. No record and no process: unknown, as before (``session.mark_unknown``): an idempotent step
   re-runs, any other waits for a human.

Temporal does the same for activities: a worker's outcome is what its heartbeat/completion
recorded, and an activity whose worker vanished without a record is retried only by policy.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
from typing import TYPE_CHECKING, cast

from phasegate.engine import program, shellstate
from phasegate.engine.outputs_file import read_outputs
from phasegate.errors import RunStateError
from phasegate.executors.supervisor import (
    StatusRecord,
    await_record,
    find_supervisor,
    read_status,
)
from phasegate.run.events import ItemRecord, Warning, item_finished, item_record
from phasegate.store.process import group_members, proc_stat, process_alive

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort
    from phasegate.run.records import ItemBase, ProcessRecord
    from phasegate.run.state import Item

POLL = 0.02
REQUEST_POLL = 0.2
KILL_GRACE = 5.0
ORDERED = "on the operator's word: resume --kill-orphans, or abort"


def settle_crashed(runner: RunPort) -> dict[str, str]:
    """Settle the running command items of a crashed run where the world says how they ended.
    Returns, for items left unknown, why (for the ``item.unknown`` event)."""
    state = runner.state
    if state.status not in ("running", "rolling_back"):
        return {}  # interrupted or paused: phasegate itself stopped its commands
    unknown_why: dict[str, str] = {}
    for key, item in list(state.items.items()):
        if item.status != "running" or not _is_command(runner, key):
            continue
        status_file = runner.ctx.status_path(key, item.attempt)
        record = read_status(status_file)
        timed_out = False
        if record is None:
            group = _live_group(item, str(status_file))
            if group is not None:
                if runner.ctx.kill_orphans:
                    _kill_group(runner, key, group, ORDERED)
                else:
                    timed_out = _wait_group(runner, key, group, _timeout(runner, key))
            # The run's supervisor appends the record just before it reaps the command: a
            # group seen gone may have its record a moment later.
            record = await_record(status_file)
        if timed_out and (record is None or record.signal is not None):
            _timed_out(runner, key, item)
            continue
        if record is None:
            continue
        child = program.is_child_step(runner, key)
        if child or program.is_child_rollback(runner, key):
            # A child run's exit status says less than its journal (exit 4: it paused, it
            # did not fail): left to run again, which re-attaches and reads the child's state
            # (engine/program.py); both are idempotent.
            continue
        why = _recover(runner, key, item, record)
        if why is not None:
            unknown_why[key] = why
    return unknown_why


def _is_command(runner: RunPort, key: str) -> bool:
    """Plain commands only: canary actions (weights, pauses, analyses, promote) are settled by
    their own resume logic and are harmless to repeat."""
    if key in runner.targets.steps:
        step = runner.targets.steps[key].step
        return step.action == "run"
    return key in runner.targets.undos


def _live_group(item: Item, status_file: str) -> int | None:
    """The process group of the item's last attempt, if anything in it still runs."""
    process = cast("ProcessRecord", item.data.get("process") or {})
    group = process.get("pgid")
    if process.get("attempt") == item.attempt and group:
        pgid = int(group)
        start = process.get("start")
        if process_alive(pgid, start):
            return pgid
        leader = proc_stat(pgid)
        if leader is not None and leader.start != start and leader.state not in ("Z", "X"):
            return None  # the pid now names another process: the group is long gone
        # The supervisor is gone but a child of the step may go on in its group.
        return pgid if group_members(pgid) else None
    # The engine died between spawning the command and journalling its pid.
    pid = find_supervisor(status_file)
    return pid


def _timeout(runner: RunPort, key: str) -> float | None:
    """The command's own timeout: with its engine dead nobody enforced it, so resume does."""
    if key in runner.targets.steps:
        timeout = runner.targets.steps[key].step.timeout
    else:
        timeout = runner.targets.undos[key][0].timeout
    return timeout if timeout is not None else runner.ctx.plan.defaults.timeout


def _wait_group(runner: RunPort, key: str, pgid: int, timeout: float | None) -> bool:
    """Wait for the group to end. Returns True when its own timeout ran out first and the
    group was ended for it (as its engine would have). An abort requested meanwhile ends it
    too, and the runner then takes the request as usual."""
    wait = runner.ctx.orphan_wait
    item = runner.state.items[key]
    timeout_at = (item.started_at or time.time()) + timeout if timeout is not None else math.inf
    message = (
        f"{key}: its process group {pgid}, left running by the crashed engine, is still "
        f"running; pid {os.getpid()} waits up to {wait:g}s for it to end before resuming "
        "(`resume --kill-orphans` ends it)"
    )
    # Journalled: whoever looks at the run meanwhile sees who took it over and why it waits.
    runner.journal(Warning(item=key, message=message), durable=True)
    runner.ctx.console.note(message, "yellow")
    deadline = time.monotonic() + wait
    polled = 0.0
    while _group_running(pgid):
        if time.time() >= timeout_at:
            _kill_group(runner, key, pgid, f"its timeout of {timeout:g}s ran out")
            return True
        if time.monotonic() - polled >= REQUEST_POLL:
            polled = time.monotonic()
            if _abort_requested(runner):
                _kill_group(runner, key, pgid, "abort requested while resume waited for it")
                return False
        if time.monotonic() >= deadline:
            raise RunStateError(
                f"{key} is still running in process group {pgid}, started by the engine that "
                f"crashed; resuming now would run it twice (waited {wait:g}s)",
                hint="wait for it and resume again, or `phasegate resume RUN --kill-orphans` "
                "to end it (its outcome is then unknown)",
            )
        time.sleep(POLL)
    return False


def _abort_requested(runner: RunPort) -> bool:
    # Not consumed here: the runner's loop takes it and rolls back, as for any abort.
    requests = runner.store.take_requests(runner.state.run_id)
    return any(kind == "abort" for _, kind, _ in requests)


def _group_running(pgid: int) -> bool:
    # The leader (the supervisor) first, cheaply; the whole group once it has gone.
    stat = proc_stat(pgid)
    if stat is not None and stat.state not in ("Z", "X"):
        return True
    return bool(group_members(pgid))


def _kill_group(runner: RunPort, key: str, pgid: int, why: str) -> None:
    """SIGTERM the group, SIGKILL what is left after a grace period; journalled."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + KILL_GRACE
    while _group_running(pgid) and time.monotonic() < deadline:
        time.sleep(POLL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    message = f"{key}: killed its process group {pgid}, left running by the crashed engine ({why})"
    runner.journal(Warning(item=key, message=message), durable=True)
    runner.ctx.console.note(message, "yellow")


def _base(item: Item, key: str) -> ItemRecord:
    ref: ItemBase = {"key": key, "kind": item.kind, "phase": item.phase, "name": item.name}
    return item_record(ref, attempt=item.attempt)


def _timed_out(runner: RunPort, key: str, item: Item) -> None:
    timeout = _timeout(runner, key)
    message = (
        f"timed out after {timeout:g}s while phasegate was not running; resume ended its "
        "process group"
    )
    base: ItemRecord = {**_base(item, key), "exit_code": None, "recovered": "timeout"}
    _failed(runner, key, item, base, message)


def _recover(runner: RunPort, key: str, item: Item, record: StatusRecord) -> str | None:
    """Journal the outcome the supervisor recorded; return why it stays unknown, if it does."""
    ended = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(record.ended_at))
    if record.signal is not None:
        return (
            f"killed by signal {record.signal} at {ended} while phasegate was not running "
            "(the supervisor's record)"
        )
    base: ItemRecord = {
        **_base(item, key),
        "exit_code": record.status,
        "recovered": "supervisor",
        "ended_at": record.ended_at,
    }
    if item.started_at is not None:
        base["duration"] = round(max(record.ended_at - item.started_at, 0.0), 6)
    if runner.store.read_log(runner.state.run_id, key, -1).data:
        base["log"] = runner.ctx.logs.location(key)
    note = f"at {ended} while phasegate was not running (recovered from the supervisor's record)"
    if record.status == 0:
        if item.kind == "step":
            output_path = runner.ctx.output_path(key)
            base["outputs"] = read_outputs(output_path)
            output_path.unlink(missing_ok=True)
        message = f"exit 0 {note}"
        capture = shellstate.capture_of(runner.ctx, key, item.attempt)
        change = None
        if capture is not None and runner.ctx.plan.shell_session:
            # What the step left in the session, from its own dumps: the next step sees it.
            change = shellstate.collect(runner.ctx, capture, succeeded=True)
        if change:
            base["shell"] = change
        runner.journal(item_finished(base, "succeeded", message=message), durable=bool(change))
        shellstate.discard(capture)
        runner.ctx.console.item(item.kind, item.name, "succeeded", message)
        return None
    _failed(runner, key, item, base, f"exit {record.status} {note}")
    return None


def _failed(runner: RunPort, key: str, item: Item, base: ItemRecord, message: str) -> None:
    """A failure found after the crash, journalled as the engine would have: the next attempt
    when the step has retries left, else failed (following ``on_failure``)."""
    shellstate.discard(shellstate.capture_of(runner.ctx, key, item.attempt))  # carries nothing
    if item.kind == "step":
        step = runner.targets.steps[key].step
        if item.attempt <= step.retries:
            runner.journal(item_finished(base, "retrying", delay=0, message=message))
            runner.ctx.console.item("step", item.name, "retrying", message)
            return
        phase = runner.ctx.plan.phase(str(item.phase))
        runner.journal(
            item_finished(
                base,
                "failed",
                message=message,
                tolerated=step.continue_on_error,
                action=phase.on_failure or runner.ctx.plan.on_failure,
            )
        )
    else:
        runner.journal(item_finished(base, "failed", message=message))
    runner.ctx.console.item(item.kind, item.name, "failed", message)
