"""Phases' background monitors: started with their phase, ended with it (plan/monitor.py).

A monitor's command runs like a step's (its own process group, under the step supervisor of
executors/supervisor.py, output masked into ``logs/PHASE_monitor_NAME.log``) but has no
timeout: phasegate ends it, with ``executors/stopping.py``'s SIGTERM to the group and SIGKILL
after ``MONITOR_GRACE``, when

- its phase finishes (succeeded or failed), or the run starts rolling back (a failure, an
  abort, a rejection): observation of the forward path ends with it;
- the run pauses, finishes or is interrupted (a signal to phasegate): the engine process is
  about to exit, and nothing of a run outlives its engine on purpose.

Journal: ``monitor.started`` (durable, before the spawn, like a step: a resume after a crash
knows which supervisor to look for), ``monitor.spawned`` (pid, pgid, the pid's start time) and
``monitor.finished`` (``stopped`` by phasegate with the reason and signals, ``exited`` by
itself with its exit code or signal, ``error`` when it could not start). A monitor's end never
fails anything.

After a crash (``kill -9`` of the engine) a monitor's group may go on; ``end_stale`` runs when
an engine takes the run over (resume, rollback) and ends every monitor the journal shows
running, found by its journalled pid and start time (a reused pid never matches) or by its
supervisor's command line; then the phases still running start their monitors again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phasegate.engine import shellstate
from phasegate.engine.steplog import StepLog
from phasegate.executors.base import ProcessResult
from phasegate.executors.local import LocalExecutor
from phasegate.executors.stopping import KILL_GRACE, StopRequest
from phasegate.executors.supervisor import find_supervisor
from phasegate.plan.monitor import Monitor
from phasegate.plugin import command_argv, describe_command
from phasegate.run.events import MonitorFinished, MonitorSpawned, MonitorStarted
from phasegate.run.records import MonitorRecord
from phasegate.store.process import group_members, proc_stat, process_alive

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort

MONITOR_GRACE = KILL_GRACE  # between a monitor's SIGTERM and its SIGKILL
_POLL = 0.05
# `every`: one shell loop in the monitor's process group, so the group (one pid, journalled
# once) is the whole monitor and ending it ends the loop, its sleep and the command at once.
_EVERY_LOOP = 'e=$1; shift; while :; do "$@"; sleep "$e"; done'
# The watchdog: beside the monitor (a child of this shell) a background loop checks every
# second that its engine (pid $1) still lives; when it is gone (kill -9, an OOM kill) it ends
# the whole group, so a monitor outlives its engine by about a second even if nobody resumes
# the run. The shell waits for the monitor in the foreground (a trapped signal interrupts
# `wait`, hence the loop) and exits with the monitor's own status; phasegate's SIGTERM to the
# group reaches the monitor directly. Why a shell loop: one `sleep` a second, where a Python
# watcher would cost an interpreter per monitor; prctl(PR_SET_PDEATHSIG) would only reach the
# supervisor, not the group.
WATCHDOG_POLL = 1.0
_WATCHDOG = (
    'p=$1; shift; "$@" & c=$!; '
    f'(while kill -0 "$p" 2>/dev/null; do sleep {WATCHDOG_POLL:g}; done; kill -TERM 0) '
    ">/dev/null 2>&1 & w=$!; "
    "trap 'kill -TERM \"$c\" 2>/dev/null' TERM INT HUP; "
    'wait "$c"; s=$?; while kill -0 "$c" 2>/dev/null; do wait "$c"; s=$?; done; '
    'kill "$w" 2>/dev/null; exit "$s"'
)


def monitor_key(phase_id: str, name: str) -> str:
    return f"{phase_id}/monitor:{name}"


@dataclass
class _Watch:
    phase: str
    stop: StopRequest
    task: asyncio.Task[None]


class Monitors:
    """The monitors this engine runs, by key."""

    def __init__(self, runner: RunPort) -> None:
        self.runner = runner
        self.watching: dict[str, _Watch] = {}

    # -- starting ----------------------------------------------------------------------------
    def start(self, phase_id: str) -> None:
        """Start the phase's monitors (those not running under this engine already)."""
        runner = self.runner
        if runner.state.status != "running" or runner.state.mode != "forward":
            return
        for monitor in runner.ctx.plan.phase(phase_id).monitors:
            key = monitor_key(phase_id, monitor.name)
            if key in self.watching:
                continue
            previous = runner.state.monitors.get(key) or {}
            attempt = int(previous.get("attempt") or 0) + 1
            command = describe_command(monitor.run)
            # Durable before the spawn, as a step's start: after a crash, resume knows which
            # supervisor (by its status file) may still be running.
            runner.journal(
                MonitorStarted(
                    key=key,
                    phase=phase_id,
                    name=monitor.name,
                    attempt=attempt,
                    command=command,
                    log=runner.ctx.logs.location(key),
                ),
                durable=True,
            )
            runner.ctx.console.note(
                f"  ◎ monitor {monitor.name} of {phase_id} started: {command}", "dim"
            )
            stop = StopRequest()
            task = asyncio.ensure_future(self._watch(key, monitor, attempt, stop))
            self.watching[key] = _Watch(phase_id, stop, task)
            task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: str, _task: asyncio.Task[None]) -> None:
        self.watching.pop(key, None)

    async def _watch(self, key: str, monitor: Monitor, attempt: int, stop: StopRequest) -> None:
        runner = self.runner
        ctx = runner.ctx
        command = describe_command(monitor.run)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        log = StepLog(
            ctx.logs,
            ctx.masker,
            key,
            f"=== {key} attempt {attempt} at {stamp}\n$ {command}\n",
            ctx.plan.defaults.log_limit,
        )
        # shell_session: the terminal as the steps before the phase left it (its variables and
        # its `cd`), read once at the start; a monitor's own changes are not carried on.
        session = shellstate.restore(ctx, runner.state.shell) if ctx.plan.shell_session else None
        env = dict(ctx.base_env if session is None else session.env)
        env.update({k: ctx.variables.expand(v) for k, v in monitor.env.items()})
        argv = command_argv(monitor.run, ctx.shell(monitor.shell), ctx.variables.values)
        if monitor.every is not None:
            argv = ["/bin/sh", "-c", _EVERY_LOOP, "monitor", f"{monitor.every:g}", *argv]
        if isinstance(ctx.executor, LocalExecutor):  # the engine's pid means nothing elsewhere
            argv = ["/bin/sh", "-c", _WATCHDOG, "monitor", str(os.getpid()), *argv]
        workdir = ctx.variables.expand(monitor.cwd) if monitor.cwd else ctx.plan_dir
        if session is not None and not monitor.cwd and session.cwd:
            workdir = session.cwd
        if not os.path.isabs(workdir):
            workdir = os.path.join(ctx.plan_dir, workdir)
        masker = ctx.masker

        def sink(stream: str, line: str) -> None:
            clean = masker.text(line)
            log.write(clean + "\n" if stream == "stdout" else f"[stderr] {clean}\n")

        def spawned(pid: int) -> None:
            stat = proc_stat(pid)
            runner.journal(
                MonitorSpawned(
                    key=key,
                    attempt=attempt,
                    pid=pid,
                    pgid=pid,  # the executor makes each command a process-group leader
                    start=stat.start if stat is not None else None,
                )
            )

        log.write("")  # the file exists from the start: `phasegate logs` shows it at once
        try:
            result = await ctx.executor.run(
                argv,
                env=env,
                cwd=workdir,
                timeout=None,  # bounded by its phase, not by a clock
                on_output=sink,
                capture_limit=0,  # the log has it all; memory must not grow with a long phase
                on_spawn=spawned,
                stop=stop,
                status_file=str(ctx.status_path(key, attempt)),
            )
        finally:
            log.close()
        self._finished(key, monitor, result, stop)

    def _finished(
        self, key: str, monitor: Monitor, result: ProcessResult, stop: StopRequest
    ) -> None:
        runner = self.runner
        record: dict[str, Any] = {
            "key": key,
            "exit_code": result.exit_code,
            "signal": result.signal,
            "duration": round(result.duration, 6),
        }
        if result.error is not None:
            record.update(status="error", message=result.error)
        elif stop.requested:
            record.update(
                status="stopped",
                on=stop.reason,
                signals=[name for name, _ in stop.sent],
                message=f"stopped by phasegate ({stop.reason}; {stop.describe()})",
            )
        else:
            how = f"signal {result.signal}" if result.signal else f"exit {result.exit_code}"
            record.update(
                status="exited",
                message=f"ended by itself ({how}); a monitor's end fails nothing",
            )
        finished = MonitorFinished.model_validate(record)
        runner.journal(finished)
        color = "yellow" if finished.status != "stopped" else "dim"
        runner.ctx.console.note(f"  ◎ monitor {monitor.name}: {finished.message}", color)

    # -- stopping ----------------------------------------------------------------------------
    def stop_phase(self, phase_id: str, reason: str) -> None:
        """End the phase's monitors; returns at once (each journals its end when it ends)."""
        for watch in self.watching.values():
            if watch.phase == phase_id:
                watch.stop.request(reason, wait=0.0, grace=MONITOR_GRACE)

    def stop_all(self, reason: str) -> None:
        for watch in self.watching.values():
            watch.stop.request(reason, wait=0.0, grace=MONITOR_GRACE)

    async def halt(self, reason: str) -> None:
        """End every monitor and wait until each has journalled its end (bounded: the
        executor SIGKILLs the group at the end of the grace period)."""
        self.stop_all(reason)
        tasks = [w.task for w in self.watching.values()]
        if tasks:
            await asyncio.wait(tasks, timeout=MONITOR_GRACE + 2 * KILL_GRACE)
        for task in tasks:
            if not task.done():  # pragma: no cover - the executor's SIGKILL ends it
                task.cancel()

    # -- after a crash -----------------------------------------------------------------------
    async def end_stale(self) -> None:
        """End the monitors a crashed engine left running (the journal says running, and no
        monitor runs under this engine yet), and journal that."""
        runner = self.runner
        for key, monitor in list(runner.state.monitors.items()):
            if monitor.get("status") != "running" or key in self.watching:
                continue
            attempt = int(monitor.get("attempt") or 0)
            pgid = _stale_group(monitor, str(runner.ctx.status_path(key, attempt)))
            signals = await _end_group(pgid) if pgid is not None else []
            if signals:
                message = (
                    f"left running by an engine that died; ended at takeover "
                    f"(process group {pgid}: {', '.join(signals)})"
                )
            else:
                message = "its engine died; nothing of it was running at takeover"
            runner.journal(
                MonitorFinished(
                    key=key,
                    status="stopped",
                    on="takeover",
                    signals=tuple(signals),
                    message=message,
                )
            )
            runner.ctx.console.note(f"  ◎ monitor {monitor.get('name')}: {message}", "yellow")


def _stale_group(monitor: MonitorRecord, status_file: str) -> int | None:
    """The process group of a monitor's last attempt, if anything in it still runs."""
    process = monitor.get("process")
    if process is not None and process["attempt"] == monitor.get("attempt") and process["pgid"]:
        pgid = int(process["pgid"])
        if process_alive(pgid, process.get("start")):
            return pgid
        leader = proc_stat(pgid)
        if leader is not None and leader.state not in ("Z", "X"):
            return None  # the pid names another process now: the group is long gone
        return pgid if group_members(pgid) else None
    # The engine died between spawning the monitor and journalling its pid.
    return find_supervisor(status_file)


async def _end_group(pgid: int) -> list[str]:
    """SIGTERM the group, SIGKILL what is left after the grace period; the signals sent."""
    sent = ["SIGTERM"]
    _signal(pgid, signal.SIGTERM)
    deadline = time.monotonic() + MONITOR_GRACE
    while group_members(pgid) and time.monotonic() < deadline:
        await asyncio.sleep(_POLL)
    if group_members(pgid):
        sent.append("SIGKILL")
    _signal(pgid, signal.SIGKILL)  # children that outlived the leader go too
    return sent


def _signal(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
