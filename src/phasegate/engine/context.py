"""Everything a run's side effects need, assembled once per process."""

from __future__ import annotations

import functools
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from phasegate.engine import shellstate
from phasegate.engine.console import Console
from phasegate.engine.steplog import LogSink
from phasegate.executors.base import Executor
from phasegate.masking import Masker
from phasegate.plan.loader import LoadedPlan
from phasegate.plan.model import Plan
from phasegate.plan.variables import Variables
from phasegate.plugin import DEFAULT_CHECK_TIMEOUT, PluginContext
from phasegate.run.state import RunState
from phasegate.store.steplogs import safe_name


@functools.lru_cache(maxsize=64)
def _split(command_line: str) -> tuple[str, ...]:
    return tuple(shlex.split(command_line))


class StepFacts(TypedDict):
    """What a condition (CEL ``steps.NAME``) sees of a step: ``exit_code`` -1 until it ran."""

    status: str
    exit_code: int
    outputs: Any  # the step's outputs as journalled (its own key=value lines, weights …)
    phase: str


class CheckFacts(TypedDict):
    """What a condition (CEL ``checks.ID``) sees of a gate or a rollback verification."""

    passed: bool
    status: str
    observed: Any  # whatever the check's kind observed


@dataclass
class RunContext:
    loaded: LoadedPlan
    run_id: str
    run_dir: Path
    variables: Variables
    masker: Masker
    executor: Executor
    console: Console
    logs: LogSink  # where commands' output goes: the store, batched (engine/steplog.py)
    max_parallel: int | None = None
    require_checked: bool = False
    # SIGTERM/SIGINT to phasegate: how long running commands get to finish (run --grace).
    shutdown_grace: float = 30.0
    base_env: dict[str, str] = field(default_factory=dict)
    # What resume does about a step's process group left running by a crashed engine:
    # wait this long for it to end, or (kill_orphans) end it (engine/orphans.py).
    kill_orphans: bool = False
    orphan_wait: float = 60.0
    # A server's worker: a monitoring run whose next check is further away than this many
    # seconds stops executing until then (engine/postmonitor.py ``park``); None: it waits.
    park_monitoring: float | None = None
    # A server's worker: a run queued for a lane slot this many seconds stops executing,
    # keeping its place, and the server resumes it once its slot is granted
    # (engine/laning.py ``parkable``); None: it waits in its process.
    park_queued: float | None = None
    # The wall clock the engine's time-dependent decisions read (change windows): epoch
    # seconds. A seam, so tests decide at any instant without sleeping.
    clock: Callable[[], float] = time.time
    # A schedule's streak from the run's store (the `streak` check; engine/session.py).
    streak: Callable[[str], int | None] | None = None
    # The policy pack the run was admitted with, asked again before each phase starts
    # (engine/policing.py); None: the run has no policies.
    policies: str | None = None
    # `run --limit`: fleet phases run only on these hosts (names, patterns or a CEL selector).
    limit: str | None = None
    # `run --priority`: the run's place in its lanes' queues (None: the plan's `priority:`).
    priority: int | None = None

    _outputs_ready: bool = False
    logs_ready: bool = False

    def __post_init__(self) -> None:
        if not self.base_env:
            self.base_env = {**os.environ, **self.variables.values}

    @property
    def plan(self) -> Plan:
        return self.loaded.plan

    @property
    def plan_dir(self) -> str:
        return str(self.loaded.plan_dir)

    def shell(self, override: str | None = None) -> list[str]:
        return list(_split(override or self.plan.defaults.shell))

    def status_path(self, key: str, attempt: int) -> Path:
        """Where the supervisor of ``key``'s attempt records its exit status, beside the log
        (executors/supervisor.py). One file per attempt: an older attempt's record never
        speaks for a newer one."""
        directory = self.run_dir / "logs"
        if not self.logs_ready:
            directory.mkdir(parents=True, exist_ok=True)
            self.logs_ready = True
        return directory / f"{safe_name(key)}.{attempt}.status"

    def output_path(self, key: str) -> Path:
        # The command creates the file if it writes outputs (`>> "$PHASEGATE_OUTPUT"`).
        directory = self.run_dir / "outputs"
        if not self._outputs_ready:
            directory.mkdir(parents=True, exist_ok=True)
            self._outputs_ready = True
        return directory / f"{safe_name(key)}.env"

    def activation(self, state: RunState) -> dict[str, Any]:
        steps: dict[str, StepFacts] = {}
        checks: dict[str, CheckFacts] = {}
        for key, item in state.items.items():
            short = key.split("/", 1)[-1]
            if item.kind == "step":
                entry: StepFacts = {
                    "status": item.status,
                    "exit_code": item.exit_code if item.exit_code is not None else -1,
                    "outputs": item.data.get("outputs", {}),
                    "phase": item.phase or "",
                }
                steps[key] = entry
                steps.setdefault(short, entry)
            elif item.kind in ("gate", "verify"):
                seen: CheckFacts = {
                    "passed": item.status in ("passed", "warned"),
                    "status": item.status,
                    "observed": item.data.get("observed"),
                }
                checks[key] = seen
                checks.setdefault(short.removeprefix("gate:"), seen)
        return {
            "vars": {**self.variables.values, **state.choices},
            "steps": steps,
            "checks": checks,
            "run": {"id": self.run_id, "status": state.status},
        }

    def check_context(self, state: RunState) -> PluginContext:
        env, cwd = self.base_env, None
        if self.plan.shell_session:
            # A check typed into the run's terminal sees its variables and its `cd`; it only
            # observes, so nothing it does carries (engine/shellstate.py).
            session = shellstate.restore(self, state.shell)
            env, cwd = session.env, session.cwd
        return PluginContext(
            executor=self.executor,
            masker=self.masker,
            plan_dir=self.plan_dir,
            cwd=cwd,
            env=env,
            expand=self.variables.expand,
            shell=self.shell(),
            activation=lambda: self.activation(state),
            timeout=self.plan.defaults.timeout or DEFAULT_CHECK_TIMEOUT,
            streak=self.streak,
        )
