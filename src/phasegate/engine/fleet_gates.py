"""A fleet phase's gates per host (``host_gates``: after one host's steps) and per batch
(``batch_gates``: after a batch). The phase's ordinary ``gates:`` run once, after every batch,
as for any phase (engine/gates.py).

A host gate is evaluated here, on the controller, for one host: ``${host}`` (and every
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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from phasegate.engine.fleet_hosts import host_env
from phasegate.engine.gates import evaluate_gate, gate_record
from phasegate.plan.model import Phase, gate_ids
from phasegate.run.events import item_finished
from phasegate.run.state import ITEM_DONE
from phasegate.substitution import substitute

if TYPE_CHECKING:
    from phasegate.checks.base import CheckSpec
    from phasegate.engine.runner import Runner
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


def batch_gated(runner: Runner, phase: Phase, index: int) -> bool:
    """The batch's gates were judged before (a resumed run does not judge them again)."""
    keys = [batch_gate_key(phase.id, gid, index) for gid in gate_ids(phase.batch_gates, "batch")]
    return bool(keys) and all(
        k in runner.state.items and runner.state.items[k].status in ITEM_DONE for k in keys
    )


async def batch_gates(runner: Runner, phase: Phase, index: int, batch: list[str]) -> None:
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


async def host_gates(runner: Runner, phase: Phase, host: str, labels: Mapping[str, Any]) -> bool:
    """The host's gates, in order, after its steps; False when one failed (the host fails)."""
    ctx = runner.ctx
    values = {**ctx.variables.values, **host_env(host, labels), "host": host}
    for key, check in zip(host_gate_keys(phase, host), phase.host_gates, strict=True):
        item = runner.state.items.get(key)
        if item is not None and item.status in ITEM_DONE:
            if item.status in ("failed", "error"):
                return False
            continue
        base = ctx.check_context(runner.state)
        context = dataclasses.replace(
            base,
            env={**base.env, **host_env(host, labels), "host": host},
            expand=lambda text: substitute(text, values),
            activation=lambda: _with_host(runner, host, labels),
        )
        label = f"{substitute(check.describe(), values)} @ {host}"
        status = await _judge(runner, phase, key, check, context, label, host)
        if status in ("failed", "error"):
            return False
    return True


def _with_host(runner: Runner, host: str, labels: Mapping[str, Any]) -> dict[str, Any]:
    found = runner.ctx.activation(runner.state)
    found["host"] = {"name": host, "labels": dict(labels)}
    return found


async def _judge(
    runner: Runner,
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
