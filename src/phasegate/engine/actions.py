"""Run one command of a plan (a step, an undo, a rollback action) with its log and outputs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from phasegate.checks.command import command_argv
from phasegate.engine.context import RunContext
from phasegate.executors.base import ProcessResult

OUTPUT_LIMIT = 64 * 1024


@dataclass(frozen=True)
class ActionResult:
    process: ProcessResult
    outputs: dict[str, str]
    log: str

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


def describe_command(run: str | list[str]) -> str:
    if isinstance(run, str):
        return run.strip()
    import shlex

    return shlex.join(run)


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
) -> ActionResult:
    log_path = ctx.log_path(key)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    output_path = ctx.output_path(key)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    output_path.write_text("")
    full_env = dict(ctx.base_env)
    full_env.update({k: ctx.variables.expand(v) for k, v in env.items()})
    full_env["PHASEGATE_OUTPUT"] = str(output_path)
    argv = command_argv(run, ctx.shell(shell), ctx.variables.values)
    workdir = ctx.variables.expand(cwd) if cwd else ctx.plan_dir
    if not Path(workdir).is_absolute():
        workdir = str(Path(ctx.plan_dir) / workdir)
    masker = ctx.masker
    with open(log_path, "a", encoding="utf-8") as log:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        log.write(
            masker.text(f"=== {key} attempt {attempt} at {stamp}\n$ {describe_command(run)}\n")
        )
        log.flush()

        def sink(stream: str, line: str, log: IO[str] = log) -> None:
            clean = masker.text(line)
            log.write(clean + "\n" if stream == "stdout" else f"[stderr] {clean}\n")
            ctx.console.output(key, stream, clean)

        result = await ctx.executor.run(
            argv,
            env=full_env,
            cwd=workdir,
            timeout=timeout if timeout is not None else ctx.plan.defaults.timeout,
            on_output=sink,
            capture_limit=OUTPUT_LIMIT,
        )
        outputs = read_outputs(output_path)
        # The file holds what the command wrote, secrets included; its values live on,
        # masked, in the journal.
        output_path.unlink(missing_ok=True)
        outcome = ActionResult(result, outputs, str(log_path))
        log.write(masker.text(f"=== {outcome.message()} in {result.duration:.3f}s\n"))
    return outcome


def read_outputs(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines a command wrote to ``$PHASEGATE_OUTPUT`` (as GitHub's $GITHUB_OUTPUT)."""
    outputs: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return outputs
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            outputs[name.strip()] = value
    return outputs
