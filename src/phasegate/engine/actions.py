"""Run one command of a plan (a step, an undo, a rollback action) with its log and outputs."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from phasegate.engine import shellstate
from phasegate.engine.context import RunContext
from phasegate.engine.outputs_file import read_noted
from phasegate.engine.steplog import StepLog
from phasegate.executors.base import ProcessResult
from phasegate.executors.stopping import StopRequest
from phasegate.masking import MIN_MASKED
from phasegate.plugin import command_argv, describe_command
from phasegate.run.records import ShellChange

OUTPUT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ActionResult:
    process: ProcessResult
    outputs: dict[str, str]
    log: str | None  # None: the command printed nothing
    # shell_session: the change this command made to the session (journalled with its end),
    # and the dumps it was read from, removed once the change is journalled durably.
    shell: ShellChange | None = None
    capture: shellstate.Capture | None = None

    @property
    def ok(self) -> bool:
        return self.process.ok

    def message(self) -> str:
        p = self.process
        if p.error:
            return p.error
        if p.timed_out:
            return f"timed out after {p.duration:.1f}s; process group killed"
        if p.signal:
            return f"killed by signal {p.signal}"
        if p.exit_code != 0:
            tail = (p.stderr.strip() or p.stdout.strip()).splitlines()[-1:] or [""]
            return f"exit {p.exit_code}" + (f": {tail[0][:200]}" if tail[0] else "")
        return "exit 0"


async def run_action(
    ctx: RunContext,
    key: str,
    *,
    run: str | list[str],
    cwd: str | None,
    env: Mapping[str, str],
    timeout: float | None,
    shell: str | None,
    attempt: int,
    stop: StopRequest | None = None,
    on_spawn: Callable[[int], None] | None = None,
    session: shellstate.Session | None = None,
) -> ActionResult:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    header = f"=== {key} attempt {attempt} at {stamp}\n$ {describe_command(run)}\n"
    log = StepLog(ctx.logs, ctx.masker, key, header, ctx.plan.defaults.log_limit)
    output_path = ctx.output_path(key)
    try:
        output_path.unlink(missing_ok=True)  # left by an earlier attempt
    except OSError as exc:  # a full disk must not stop the rollout; outputs are optional
        ctx.console.note(f"cannot use {output_path}: {exc.strerror}", "yellow")
        output_path = Path(os.devnull)
    full_env = dict(ctx.base_env if session is None else session.env)
    full_env.update({k: ctx.variables.expand(v) for k, v in env.items()})
    full_env["PHASEGATE_OUTPUT"] = str(output_path)
    argv = command_argv(run, ctx.shell(shell), ctx.variables.values)
    refused = _secret_in_argv(ctx, run, argv)
    workdir = ctx.variables.expand(cwd) if cwd else ctx.plan_dir
    if session is not None and not cwd and session.cwd:
        # A step's own `cwd:` is its own (like a subshell's `cd`); otherwise it starts where
        # the session's last `cd` went. Never somewhere else: its relative paths mean there.
        workdir = session.cwd
        if refused is None and not os.path.isdir(workdir):
            refused = (
                f"not started: the shell session's working directory {workdir} (where an "
                "earlier step's `cd` went) no longer exists"
            )
    if not Path(workdir).is_absolute():
        workdir = str(Path(ctx.plan_dir) / workdir)
    masker = ctx.masker

    def sink(stream: str, line: str) -> None:
        clean = masker.text(line)
        capped = log.capped
        if log.write(clean + "\n" if stream == "stdout" else f"[stderr] {clean}\n"):
            ctx.console.output(key, stream, clean)
        elif not capped:
            ctx.console.note(f"{key}: log limit reached, its further output is not kept", "yellow")

    if refused is None and stop is not None and stop.requested and stop.term_at <= time.monotonic():
        # Asked to end before it began (an abort or a second signal just now): start nothing.
        stop.prevented = True
        refused = f"not started: phasegate was ending its commands ({stop.reason})"
    if refused is not None:
        log.close()
        return ActionResult(ProcessResult(None, "", "", 0.0, error=refused), {}, None)
    capture = None
    if session is not None:
        capture = shellstate.attach(ctx, session, key, attempt, argv, full_env)
    try:
        result = await ctx.executor.run(
            argv,
            env=full_env,
            cwd=workdir,
            timeout=timeout if timeout is not None else ctx.plan.defaults.timeout,
            on_output=sink,
            capture_limit=OUTPUT_LIMIT,
            stop=stop,
            on_spawn=on_spawn,
            status_file=str(ctx.status_path(key, attempt)),
        )
        found = read_noted(output_path)
        outputs = found.values
        note = found.note()
        if note is not None:
            log.write(f"[phasegate] {note}\n")
            ctx.console.note(f"{key}: {note}", "yellow")
        if output_path != Path(os.devnull):
            # The file holds what the command wrote, secrets included; its values live on,
            # masked, in the journal.
            output_path.unlink(missing_ok=True)
        change = shellstate.collect(ctx, capture, result.ok) if capture is not None else None
        outcome = ActionResult(
            result, outputs, log.location if log.created else None, change, capture
        )
        log.footer(f"=== {outcome.message()} in {result.duration:.3f}s\n")
    finally:
        log.close()  # the log is stored before the step's end is journalled
    return outcome


def _secret_in_argv(ctx: RunContext, run: str | list[str], argv: list[str]) -> str | None:
    """Validation refuses ``${SECRET}`` in an argv list; a value that carries a secret without
    saying so (a variable pasted from the environment) is caught here, before the spawn:
    every local user can read a process's arguments."""
    if isinstance(run, str):
        return None  # the shell expands variables from the environment: argv has no values
    for name in sorted(ctx.variables.secrets):
        value = ctx.variables.values.get(name, "")
        if len(value) >= MIN_MASKED and any(value in part for part in argv):
            return (
                f"refusing to start: the value of secret {name} would be an argument "
                "(readable by every local user in /proc/PID/cmdline); let the command read "
                f"${name} from its environment, or pass it on stdin or in a file"
            )
    return None
