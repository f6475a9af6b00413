"""A fleet phase's gates per host (``host_gates``: after one host's steps) and per batch
(``batch_gates``: after a batch). The phase's ordinary ``gates:`` run once, after every batch,
as for any phase (engine/gates.py).

A host gate is evaluated here, for one host: a ``command`` runs on the host (over its
connection, on ssh hosts), a ``file`` or ``kpi`` check reads the host's files
(``PluginContext.host_files``, executors/ssh_files.py; ``on: controller`` reads this
machine's), other kinds look from this machine. ``${host}`` (and every
``${HOST_<LABEL>}`` / ``${PHASEGATE_HOST}``) expands to that host's values in its fields, its
commands get ``PHASEGATE_HOST`` and ``HOST_<LABEL>`` in their environment, and CEL sees
``host: {name, labels}``. Journalled as ``phase/gate:ID@host`` (kind ``gate``, with ``host``);
the first failing one fails the host (it counts against the budgets like a failed step; its
completed steps are undone on rollback like any other's). Batch gates see ``$PHASEGATE_BATCH``
and ``$PHASEGATE_BATCH_HOSTS`` and are journalled as ``phase/gate:ID@batchN``; the first
failing one fails the run.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from phasegate.checks.command import CommandCheck
from phasegate.engine.fleet_hosts import Fleet, fleet_of, host_env
from phasegate.engine.fleet_outputs import (
    host_activation,
    host_outputs,
    in_shell,
    in_text,
    output_env,
)
from phasegate.engine.gates import evaluate_gate, gate_record
from phasegate.executors.base import Executor, OutputSink, ProcessResult
from phasegate.executors.ssh_files import HostFiles, open_host_files
from phasegate.plan.model import Phase, gate_ids
from phasegate.run.events import item_finished
from phasegate.run.state import ITEM_DONE
from phasegate.substitution import substitute

if TYPE_CHECKING:
    from phasegate.checks.base import CheckSpec
    from phasegate.engine.port import FleetPort, RunView
    from phasegate.executors.stopping import StopRequest
    from phasegate.plugin import PluginContext
    from phasegate.run.records import ItemBase


class HostGateDetails(TypedDict, total=False):
    """What a host gate's ``item.finished`` adds to a gate's (a batch gate adds nothing)."""

    tolerated: bool
    host: str


def batch_gate_key(phase_id: str, gate_id: str, index: int) -> str:
    return f"{phase_id}/gate:{gate_id}@batch{index + 1}"


def host_gate_key(phase_id: str, gate_id: str, host: str) -> str:
    return f"{phase_id}/gate:{gate_id}@{host}"


def host_gate_keys(phase: Phase, host: str) -> list[str]:
    return [host_gate_key(phase.id, gid, host) for gid in gate_ids(phase.host_gates, "host")]


def batch_gated(runner: FleetPort, phase: Phase, index: int) -> bool:
    """The batch's gates were judged before (a resumed run does not judge them again)."""
    keys = [batch_gate_key(phase.id, gid, index) for gid in gate_ids(phase.batch_gates, "batch")]
    return bool(keys) and all(
        k in runner.state.items and runner.state.items[k].status in ITEM_DONE for k in keys
    )


async def batch_gates(runner: FleetPort, phase: Phase, index: int, batch: list[str]) -> None:
    """A finished batch's gates, in order; the first failing one fails the run (the fleet
    item then stops starting hosts)."""
    ctx = runner.ctx
    for gid, check in zip(gate_ids(phase.batch_gates, "batch"), phase.batch_gates, strict=True):
        key = batch_gate_key(phase.id, gid, index)
        item = runner.state.items.get(key)
        if item is not None and item.status in ITEM_DONE:
            continue
        base = ctx.check_context(runner.state)
        env = {
            **base.env,
            "PHASEGATE_BATCH": str(index + 1),
            "PHASEGATE_BATCH_HOSTS": " ".join(batch),
        }
        label = f"{ctx.variables.expand(check.describe())} @ batch {index + 1}"
        status = await _judge(
            runner, phase, key, check, dataclasses.replace(base, env=env), label, None
        )
        if status in ("failed", "error"):
            return


async def host_gates(runner: FleetPort, phase: Phase, host: str, labels: Mapping[str, Any]) -> bool:
    """The host's gates, in order, after its steps; False when one failed (the host fails)."""
    ctx = runner.ctx
    fleet = fleet_of(runner)
    remote = fleet.targets.executor == "ssh"
    for key, written in zip(host_gate_keys(phase, host), phase.host_gates, strict=True):
        item = runner.state.items.get(key)
        if item is not None and item.status in ITEM_DONE:
            if item.status in ("failed", "error"):
                return False
            continue
        state = runner.state
        published = host_outputs(state, phase, host)
        values = {**ctx.variables.values, **host_env(host, labels), "host": host}
        own = {**host_env(host, labels), "host": host, **output_env(published)}
        base = ctx.check_context(state)
        # A command runs on the host, as the host's steps do (same connection, supervisor and
        # environment: the plan's variables and the host's, none of this machine's).
        env = (
            {**ctx.variables.values, **own, "PHASEGATE_RUN_ID": ctx.run_id}
            if remote
            else {
                **base.env,
                **own,
            }
        )
        executor = HostCheckExecutor(
            fleet.executor(host, labels), ctx.plan_dir if remote else None, fleet, runner, key
        )
        context = dataclasses.replace(
            base,
            executor=executor,
            env=env,
            expand=_expander(values, published),
            activation=_activation(runner, phase, host, labels),
            # `file` and `kpi` read the host's files (unless `on: controller`), over the
            # host's connection.
            host_files=_host_files(fleet, host, labels) if remote else None,
        )
        check = on_host(written, published)
        label = f"{in_text(substitute(written.describe(), values), published)} @ {host}"
        status = await _judge(runner, phase, key, check, context, label, host)
        if status in ("failed", "error"):
            return False
    return True


def _host_files(
    fleet: Fleet, host: str, labels: Mapping[str, Any]
) -> Callable[[], AbstractAsyncContextManager[HostFiles]]:
    target = fleet.target(host, labels)
    return lambda: open_host_files(fleet.pool, target)


def _expander(
    values: Mapping[str, str], published: Mapping[str, Mapping[str, str]]
) -> Callable[[str], str]:
    def expand(text: str) -> str:
        return in_text(substitute(text, values), published)

    return expand


def _activation(
    runner: FleetPort, phase: Phase, host: str, labels: Mapping[str, Any]
) -> Callable[[], dict[str, Any]]:
    state = runner.state

    def activation() -> dict[str, Any]:
        return host_activation(lambda: runner.ctx.activation(state), state, phase, host, labels)

    return activation


def on_host(check: CheckSpec, published: Mapping[str, Mapping[str, str]]) -> CheckSpec:
    """A command check's ``${steps.ID.outputs.KEY}``: an environment reference in a script,
    the value in an argv list (engine/fleet_outputs.py)."""
    if not isinstance(check, CommandCheck):
        return check
    command = check.command
    if isinstance(command, str):
        rewritten: str | list[str] = in_shell(command)
    else:
        rewritten = [in_text(part, published) for part in command]
    return check.model_copy(update={"command": rewritten}) if rewritten != command else check


@dataclass
class HostCheckExecutor:
    """Where a host gate's commands run: the host's executor, each attempt under the
    supervisor with its own status file beside the host's steps'. ``plan_dir`` (remote
    hosts): a command naming no ``cwd`` starts in the login's home, as a step does."""

    inner: Executor
    plan_dir: str | None
    fleet: Fleet
    runner: RunView
    key: str
    calls: int = 0

    async def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        timeout: float | None,
        on_output: OutputSink | None = None,
        capture_limit: int = 1 << 20,
        on_spawn: Callable[[int], None] | None = None,
        stop: StopRequest | None = None,
        status_file: str | None = None,
    ) -> ProcessResult:
        self.calls += 1
        if self.plan_dir is not None and cwd == self.plan_dir:
            cwd = ""
        return await self.inner.run(
            argv,
            env=env,
            cwd=cwd,
            timeout=timeout,
            on_output=on_output,
            capture_limit=capture_limit,
            stop=stop,
            status_file=status_file or self.fleet.status_file(self.runner, self.key, self.calls),
        )


async def _judge(
    runner: FleetPort,
    phase: Phase,
    key: str,
    check: CheckSpec,
    context: PluginContext,
    label: str,
    host: str | None,
) -> str:
    ctx = runner.ctx
    started = time.time()
    outcome = await evaluate_gate(check, context)
    obs = outcome.observation
    status = "passed" if obs.passed else "warned" if check.severity == "warn" else obs.status
    action = phase.on_failure or ctx.plan.on_failure
    base: ItemBase = {"key": key, "kind": "gate", "phase": phase.id, "name": label}
    more: HostGateDetails = {}
    if host is not None:
        more["host"] = host
        if host:  # a host gate's failure fails its host; the budgets decide about the run
            more["tolerated"] = status in ("failed", "error")
    details = gate_record(check, outcome, context.expand)
    runner.journal(
        item_finished(base, status, **details, started_at=started, action=action, **more)
    )
    ctx.console.item("gate", label, status, "" if obs.passed else obs.message)
    return status
