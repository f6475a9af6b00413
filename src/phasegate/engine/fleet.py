"""A fleet phase: its steps on each selected host, batch after batch, within failure budgets.

The phase is one item ``phase/fleet`` for ``decide`` (its gates follow it as usual); this
module drives it. Each (host, step) is an item of its own, ``phase/step@host``, journalled
durably before its command starts, so resume continues at host granularity and rollback undoes
exactly the hosts where a step completed (``decide.rollback_order``). Which host starts when is
decided by the pure ``fleet.batching.judge``; this module only runs what it says.

On the first start the hosts are resolved (inventory, ``hosts:`` selector, ``--limit``) and
journalled with the fleet item; a resumed run uses that list, never the inventory again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack, cast

from phasegate.engine.fleet_batches import batches_of, budget_of, in_order, order_seed, wait_before
from phasegate.engine.fleet_gates import batch_gated, batch_gates, host_gate_keys, host_gates
from phasegate.engine.fleet_hosts import (
    HostRun,
    fleet_of,
    host_key,
    public_labels,
    run_on_host,
)
from phasegate.engine.fleet_outputs import host_activation
from phasegate.engine.fleet_projection import judge_sample
from phasegate.errors import PhasegateError
from phasegate.executors.stopping import StopRequest
from phasegate.executors.supervisor import StatusRecord
from phasegate.expr import ExprError, evaluate, truthy
from phasegate.fleet.batching import Outcome, judge
from phasegate.fleet.sample import draw_with_bumps, stratum_of, words
from phasegate.fleet.select import limit, load_inventory, select
from phasegate.plan.model import Phase, step_ids
from phasegate.run.events import (
    FinishDetails,
    FleetBatch,
    FleetSample,
    ItemUnknown,
    StartDetails,
    StratumDrawn,
    item_finished,
    item_record,
    item_started,
)
from phasegate.run.records import HostRecord, ItemBase, ItemKey

if TYPE_CHECKING:
    from phasegate.engine.port import FleetPort
    from phasegate.run.state import Item


class RecoveredDetails(TypedDict, total=False):
    """How a host item ended while the controller was dead (its supervisor's record)."""

    exit_code: int
    recovered: str
    ended_at: float
    tolerated: bool


FLEET_ITEM = "fleet"


SETTLE_POLL = 0.2
LATE_BOOTSTRAP = 3.0


def fleet_key(phase_id: str) -> str:
    return f"{phase_id}/{FLEET_ITEM}"


def resolve(runner: FleetPort, phase: Phase) -> tuple[list[HostRecord], FleetSample | None]:
    """The phase's hosts as journalled: [{name, labels}] in inventory order, or in sample
    order for a phase with ``sample:`` (with the sample's facts)."""
    plan = runner.ctx.plan
    assert plan.targets is not None and phase.hosts is not None
    inventory = load_inventory(plan.targets, runner.ctx.loaded.plan_dir)
    variables = runner.ctx.variables.values
    chosen = select(inventory.hosts(), phase.hosts, variables)
    chosen = limit(chosen, runner.ctx.limit, variables)
    hosts: list[HostRecord] = [{"name": h.name, "labels": public_labels(h.labels)} for h in chosen]
    if phase.sample is None:
        return in_order(phase, hosts, plan.name), None
    taken, facts = sampled(phase, hosts, plan.name, variables)
    return in_order(phase, taken, plan.name), facts


def sampled(
    phase: Phase, hosts: list[HostRecord], plan_name: str, variables: Mapping[str, str]
) -> tuple[list[HostRecord], FleetSample]:
    """The representative sample of ``hosts`` (fleet/sample.py) and what it measured."""
    spec = phase.sample
    assert spec is not None
    names = spec.strata or ["key"]

    def stratum(host: HostRecord) -> tuple[str, ...]:
        if spec.key is None:
            return stratum_of(host["labels"], spec.strata)
        activation = {
            "name": host["name"],
            "labels": host["labels"],
            "groups": [],
            "vars": dict(variables),
        }
        return (str(evaluate(spec.key, activation)),)

    pairs = [(h["name"], stratum(h)) for h in hosts]
    result = draw_with_bumps(
        pairs,
        spec.sizes(),
        coverage=spec.coverage,
        salt=spec.salt or plan_name,
        min_per_stratum=spec.min_per_stratum,
        allocation=spec.allocation,
    )
    by_name = {h["name"]: h for h in hosts}
    facts = FleetSample(
        phase=phase.id,
        pct=result.pct,
        coverage=round(result.coverage, 6),
        required=spec.coverage,
        strata=tuple(
            StratumDrawn(stratum=words(s, names), picked=picked, size=size)
            for s, (picked, size) in result.per_stratum.items()
        ),
        missing=tuple(words(s, names) for s in result.missing),
        hosts=result.hosts,
    )
    return [by_name[name] for name in result.hosts], facts


async def run_fleet(runner: FleetPort, key: str) -> None:
    phase_id = key.rsplit("/", 1)[0]
    phase = runner.ctx.plan.phase(phase_id)
    action = phase.on_failure or runner.ctx.plan.on_failure
    item = runner.state.items.get(key)
    hosts: list[HostRecord] | None = None
    if item is not None and item.data.get("hosts") is not None:
        # the hosts as the first start journalled them (resolve's HostRecords)
        hosts = cast("list[HostRecord]", [dict(h) for h in item.data["hosts"]])
    base: ItemKey = {"key": key, "kind": FLEET_ITEM, "phase": phase_id}
    if hosts is None:
        try:
            hosts, sample = resolve(runner, phase)
        except (PhasegateError, ExprError) as exc:
            runner.journal(item_started(_named(base, "hosts")), durable=True)
            message = exc.message + (f" (hint: {exc.hint})" if exc.hint else "")
            _finish(runner, base, "failed", f"cannot resolve hosts: {message}", action)
            return
        seed = order_seed(phase, runner.ctx.plan.name)
        started: StartDetails = {"hosts": tuple(hosts)}
        if seed is not None:
            started["order_seed"] = seed
        runner.journal(item_started(_named(base, f"{len(hosts)} hosts"), **started), durable=True)
        if sample is not None:
            runner.journal(sample)
            if sample.missing and key not in runner.state.approvals:
                # Inconclusive, not failed: a human decides whether this sample will do.
                missing = ", ".join(sample.missing)
                message = (
                    f"strata_coverage {sample.coverage:.3g} < {sample.required:g} at the cap "
                    f"({sample.pct:g}%): no host of {missing}; `phasegate approve "
                    f"{runner.ctx.run_id} --check {key}` runs the sample as it is, `reject` "
                    "rolls back"
                )
                runner.journal(item_finished(base, "awaiting_approval", message=message))
                runner.ctx.console.item(
                    FLEET_ITEM, f"{phase_id} sample", "awaiting_approval", message
                )
                return
    else:
        runner.journal(item_started(_named(base, f"{len(hosts)} hosts")), durable=True)
    labels = {h["name"]: h.get("labels") or {} for h in hosts}
    if not await _settle(runner, phase, labels):
        return  # an unknown host item: decide pauses the run for a human
    await _walk(runner, phase, key, base, labels, action)


async def _walk(
    runner: FleetPort,
    phase: Phase,
    key: str,
    base: ItemKey,
    labels: Mapping[str, Mapping[str, Any]],
    action: str,
) -> None:
    names = list(labels)
    mode = phase.batch.mode if phase.batch is not None else "lockstep"
    batches = batches_of(phase, names, labels)
    budget = dataclasses.replace(
        budget_of(phase), all_failed_approved=key in runner.state.approvals
    )
    targets = runner.ctx.plan.targets
    assert targets is not None
    cap = targets.ssh.max_connections
    stop = runner.stops.get(key)
    outcomes = _outcomes(runner, phase, names)
    running: dict[str, asyncio.Task[Outcome]] = {}
    announced = {
        index
        for index, batch in enumerate(batches)
        if any(host in outcomes or _started(runner, phase, host) for host in batch)
    }
    last_batch_end: float | None = None
    gated = {i for i, b in enumerate(batches) if batch_gated(runner, phase, i)}
    try:
        while True:
            for index, batch in enumerate(batches):
                if index in gated or not all(h in outcomes for h in batch):
                    continue
                gated.add(index)
                now = judge(batches, outcomes, set(running), budget, mode)
                ok = now.stop is None and now.pause is None
                if phase.batch_gates and ok and runner.state.failure is None:
                    await batch_gates(runner, phase, index, batch)
            halted = runner.state.failure is not None or (stop is not None and stop.requested)
            verdict = judge(batches, outcomes, set(running), budget, mode, limit=cap)
            start = () if halted else verdict.start
            if start:
                index = verdict.batch
                if index not in announced:
                    pause = wait_before(phase, batches, labels, index)
                    if announced and pause and last_batch_end is not None:
                        wait = pause - (time.monotonic() - last_batch_end)
                        if wait > 0 and await _pause(stop, wait):
                            continue
                    announced.add(index)
                    runner.journal(
                        FleetBatch(
                            phase=phase.id,
                            batch=index + 1,
                            of=len(batches),
                            hosts=tuple(batches[index]),
                        )
                    )
                    runner.ctx.console.note(
                        f"{phase.id}: batch {index + 1}/{len(batches)}: "
                        f"{', '.join(batches[index])}",
                        "cyan",
                    )
                for host in start:
                    running[host] = asyncio.ensure_future(
                        _host(runner, phase, host, labels[host], stop)
                    )
            if not running:
                if halted:
                    _halted(runner, base, stop)
                    return
                if verdict.pause is not None:
                    _await(runner, base, f"{verdict.pause} (on_batch_all_failed: pause)", key)
                    return
                if verdict.stop is not None:
                    _finish(runner, base, "failed", verdict.stop, action, _counts(outcomes))
                    return
                if verdict.done:
                    summary = _counts(outcomes)
                    if phase.sample is not None and not _sample_holds(
                        runner, phase, key, base, labels, outcomes, action
                    ):
                        return
                    _finish(runner, base, "succeeded", _summary(summary), action, summary)
                    return
            if running:
                done, _ = await asyncio.wait(
                    set(running.values()), return_when=asyncio.FIRST_COMPLETED
                )
                for host, task in list(running.items()):
                    if task in done:
                        del running[host]
                        outcome = task.result()
                        if outcome is not None:
                            outcomes[host] = outcome
                if not running:
                    last_batch_end = time.monotonic()
    finally:
        for task in running.values():
            task.cancel()
        for task in running.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _sample_holds(
    runner: FleetPort,
    phase: Phase,
    key: str,
    base: ItemKey,
    labels: Mapping[str, Mapping[str, Any]],
    outcomes: Mapping[str, Outcome],
    action: str,
) -> bool:
    """The sample's projections and risk (engine/fleet_projection.py): a risk above its
    bound fails the phase; a projection over its budget waits for an approval."""
    verdict = judge_sample(runner, phase, labels, outcomes)
    if verdict.fail is not None:
        _finish(runner, base, "failed", verdict.fail, action, _counts(outcomes))
        return False
    if verdict.pause is not None and key not in runner.state.approvals:
        _await(runner, base, verdict.pause, key)
        return False
    return True


def _await(runner: FleetPort, base: ItemKey, why: str, key: str) -> None:
    """The fleet item waits for a human: approve goes on, reject rolls back."""
    message = (
        f"{why}: `phasegate approve {runner.ctx.run_id} --check {key}` goes on, `reject` rolls back"
    )
    runner.journal(item_finished(base, "awaiting_approval", message=message))
    runner.ctx.console.item(FLEET_ITEM, f"{base['phase']} fleet", "awaiting_approval", message)


async def _host(
    runner: FleetPort,
    phase: Phase,
    host: str,
    labels: Mapping[str, Any],
    stop: StopRequest | None,
) -> Outcome:
    """The phase's steps on one host, in order; the first failure ends the host."""
    retries = 0
    targets = runner.ctx.plan.targets
    if phase.unreachable == "retry" and targets is not None:
        retries = targets.ssh.connect_retries
    for sid, step in zip(step_ids(phase), phase.steps, strict=True):
        key = host_key(f"{phase.id}/{sid}", host)
        item = runner.state.items.get(key)
        if item is not None and item.status in ("succeeded", "skipped"):
            continue  # done before a crash or a pause: never twice
        label = f"{runner.ctx.variables.expand(step.label)} @ {host}"
        if step.when is not None and not _when(runner, phase, step.when, host, labels):
            ref: ItemBase = {"key": key, "kind": "step", "phase": phase.id, "name": label}
            message = f"when: {step.when} is false"
            runner.journal(item_finished(ref, "skipped", message=message, host=host))
            continue
        while True:
            if runner.state.failure is not None or (stop is not None and stop.requested):
                return "failed"
            # `retries:` as for a local step: each attempt is journalled (its own status
            # file on the host); only the last failure fails the host.
            item = runner.state.items.get(key)
            attempt = (item.attempt if item is not None else 0) + 1
            backoff = step.backoff * (2 ** (attempt - 1)) if attempt <= step.retries else None
            done: HostRun = await run_on_host(
                runner,
                key,
                kind="step",
                phase=phase.id,
                name=label,
                action=step,
                host=host,
                labels=labels,
                retries=retries,
                stop=stop,
                backoff=backoff,
            )
            if done.status != "retrying" or backoff is None:
                break
            if await _pause(stop, backoff):
                return "failed"
        if done.status != "succeeded":
            return "unreachable" if done.unreachable else "failed"
    if phase.host_gates and not await host_gates(runner, phase, host, labels):
        return "failed"
    return "succeeded"


def _when(runner: FleetPort, phase: Phase, text: str, host: str, labels: Mapping[str, Any]) -> bool:
    state = runner.state
    activation = host_activation(lambda: runner.ctx.activation(state), state, phase, host, labels)
    try:
        return truthy(text, activation)
    except ExprError:
        return True  # the step runs and its host's outcome says what happened


def _outcomes(runner: FleetPort, phase: Phase, names: list[str]) -> dict[str, Outcome]:
    """Hosts already settled by the journal (a resumed run)."""
    result: dict[str, Outcome] = {}
    keys = [f"{phase.id}/{sid}" for sid in step_ids(phase)]
    for name in names:
        statuses = [runner.state.items.get(host_key(step, name)) for step in keys]
        statuses += [runner.state.items.get(k) for k in host_gate_keys(phase, name)]
        if any(i is not None and i.status in ("failed", "error") for i in statuses):
            unreachable = any(
                i is not None and i.status == "failed" and i.data.get("unreachable")
                for i in statuses
            )
            result[name] = "unreachable" if unreachable else "failed"
        elif statuses and all(
            i is not None and i.status in ("succeeded", "skipped", "passed", "warned")
            for i in statuses
        ):
            result[name] = "succeeded"
    return result


def _started(runner: FleetPort, phase: Phase, host: str) -> bool:
    """A step of the host has an item: its batch was announced before (a resumed run)."""
    return any(host_key(f"{phase.id}/{sid}", host) in runner.state.items for sid in step_ids(phase))


async def _settle(runner: FleetPort, phase: Phase, labels: Mapping[str, Mapping[str, Any]]) -> bool:
    """Host items a dead engine left started: their supervisors' records on the hosts say how
    they ended. False when one stays unknown (no record): a human decides. Each host's records
    (and outputs) are read in one round trip, the hosts concurrently."""
    prefix = f"{phase.id}/"
    by_host: dict[str, list[tuple[str, Item]]] = {}
    for key, item in runner.state.items.items():
        if item.status != "running" or not key.startswith(prefix) or "@" not in key:
            continue
        by_host.setdefault(str(key.rpartition("@")[2]), []).append((key, item))
    if not by_host:
        return True
    settled = await asyncio.gather(
        *(
            _settle_host(runner, host, items, labels.get(host, {}))
            for host, items in by_host.items()
        )
    )
    return all(settled)


async def _settle_host(
    runner: FleetPort, host: str, items: list[tuple[str, Item]], labels: Mapping[str, Any]
) -> bool:
    fleet = fleet_of(runner)
    wanted = [(key, item.attempt) for key, item in items]
    records = await fleet.read_records(runner, host, labels, wanted)
    deadline = time.monotonic() + runner.ctx.orphan_wait
    while time.monotonic() < deadline and any(r.record == "running" for r in records.values()):
        # A supervisor still runs on the host: wait for its record, never start another.
        await asyncio.sleep(SETTLE_POLL)
        running = [a for a, r in records.items() if r.record == "running"]
        records.update(await fleet.read_records(runner, host, labels, running))
    absent = [
        (a, item)
        for (key, item), a in zip(items, wanted, strict=True)
        if records[a].record == "absent"
    ]
    if absent:
        # The bootstrap never created the step's files: the command never started on the
        # host, so running it now runs it once. A bootstrap that got its whole input just
        # before the controller died creates them within milliseconds; reading again after
        # LATE_BOOTSTRAP seconds since the (latest) start rules that out.
        late = max((item.started_at or 0) for _, item in absent) + LATE_BOOTSTRAP - time.time()
        if late > 0:
            await asyncio.sleep(late)
            records.update(await fleet.read_records(runner, host, labels, [a for a, _ in absent]))
    settled = True
    for key, item in items:
        found = records[(key, item.attempt)]
        record = found.record
        if record == "absent":
            message = "never started on the host (no trace of it there); runs again"
            _host_finished(runner, key, item, host, "interrupted", message)
            continue
        if isinstance(record, StatusRecord) and record.signal is None:
            outputs: dict[str, str] = {}
            if record.status == 0 and item.kind == "step":
                outputs = fleet.outputs_from(runner, found.output)
            _recovered(runner, key, item, host, record, outputs)
            continue
        why = (
            "still running on the host"
            if record == "running"
            else "no supervisor record on the host (or killed by a signal)"
        )
        runner.journal(ItemUnknown(key=key, idempotent=False, reason=why), durable=True)
        settled = False
    return settled


def _recovered(
    runner: FleetPort,
    key: str,
    item: Item,
    host: str,
    record: StatusRecord,
    outputs: dict[str, str],
) -> None:
    """A host item finished while the controller was dead: its supervisor's record says how."""
    status = "succeeded" if record.status == 0 else "failed"
    message = f"exit {record.status} (recovered from the host's supervisor record after a crash)"
    _host_finished(
        runner,
        key,
        item,
        host,
        status,
        message,
        exit_code=record.status,
        recovered="supervisor",
        ended_at=record.ended_at,
        tolerated=status == "failed",
        **({"outputs": outputs} if outputs else {}),
    )


def _host_finished(
    runner: FleetPort,
    key: str,
    item: Item,
    host: str,
    status: str,
    message: str,
    **more: Unpack[RecoveredDetails],
) -> None:
    """Settle a host item after a crash, durably: how it ended and why."""
    ref: ItemBase = {"key": key, "kind": item.kind, "phase": item.phase, "name": item.name}
    record = item_record(ref, attempt=item.attempt, host=host, message=message)
    runner.journal(item_finished(record, status, **more), durable=True)


def _named(base: ItemKey, name: str) -> ItemBase:
    """The fleet item with the name this event gives it."""
    return {**base, "name": name}


def _halted(runner: FleetPort, base: ItemKey, stop: StopRequest | None) -> None:
    """The run is failing elsewhere, or phasegate is stopping: no host starts any more."""
    if runner.state.failure is None and stop is not None and stop.reason != "abort":
        message = f"stopped by phasegate at {stop.reason}; `phasegate resume` continues"
        runner.journal(item_finished(base, "interrupted", message=message))
        return
    message = "stopped: the run is failing" if runner.state.failure else "stopped (abort)"
    runner.journal(item_finished(base, "failed", message=message, tolerated=True))


async def _pause(stop: StopRequest | None, seconds: float) -> bool:
    if stop is not None:
        return await stop.pause(seconds)
    await asyncio.sleep(seconds)
    return False


def _counts(outcomes: Mapping[str, Outcome]) -> dict[str, str]:
    counts = {"succeeded": 0, "failed": 0, "unreachable": 0}
    for outcome in outcomes.values():
        counts[outcome] += 1
    return {k: str(v) for k, v in counts.items()}


def _summary(counts: Mapping[str, str]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def _finish(
    runner: FleetPort,
    base: ItemKey,
    status: str,
    message: str,
    action: str,
    outputs: dict[str, str] | None = None,
) -> None:
    details: FinishDetails = {"message": message}
    if outputs is not None:
        details["outputs"] = outputs
    if status != "succeeded":
        details["action"] = action
    runner.journal(item_finished(base, status, **details))
    runner.ctx.console.item(FLEET_ITEM, f"{base['phase']} fleet", status, message)
