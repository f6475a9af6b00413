"""A fleet phase's host order, batches and the waits between them, from its plan keys
(``batch.order``/``seed``, ``batch.by``/``spread``, ``first_bake``/``bake``,
``pause_between``). The rules themselves are pure (fleet/zoning.py, fleet/batching.py); the
`run` engine and `phasegate hosts` both come here so they cut the same batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phasegate.fleet.batching import Budget
from phasegate.fleet.zoning import ordered, plan_batches, zone_of
from phasegate.plan.model import Phase
from phasegate.run.records import HostRecord


def order_seed(phase: Phase, plan_name: str) -> str | None:
    """The seed of ``order: shuffle`` (None for any other order)."""
    if phase.batch is None or phase.batch.order != "shuffle":
        return None
    return phase.batch.seed or f"{plan_name}/{phase.id}"


def in_order(phase: Phase, hosts: list[HostRecord], plan_name: str) -> list[HostRecord]:
    """``hosts`` ({name, labels}) in the phase's ``batch.order``."""
    if phase.batch is None:
        return hosts
    by_name = {h["name"]: h for h in hosts}
    names = ordered(list(by_name), phase.batch.order, order_seed(phase, plan_name) or "")
    return [by_name[n] for n in names]


def batches_of(
    phase: Phase, names: Sequence[str], labels: Mapping[str, Mapping[str, Any]]
) -> list[list[str]]:
    """The phase's batches for its hosts (already in the phase's order)."""
    spec = phase.batch
    if spec is None:
        return plan_batches(names, labels, ["100%"])
    return plan_batches(names, labels, spec.size, by=spec.by, spread_by=spec.spread)


def wait_before(
    phase: Phase,
    batches: Sequence[Sequence[str]],
    labels: Mapping[str, Mapping[str, Any]],
    index: int,
) -> float:
    """Seconds to wait between the end of batch ``index - 1`` and the start of ``index``:
    ``pause_between``, or at a change of zone (``by``) the longer of it and the bake
    (``first_bake`` after the first zone, ``bake`` after the others)."""
    pause = phase.pause_between or 0.0
    spec = phase.batch
    if index < 1 or spec is None or spec.by is None:
        return pause
    before, now = batches[index - 1], batches[index]
    zone = spec.by
    if not before or not now or zone_of(labels[before[0]], zone) == zone_of(labels[now[0]], zone):
        return pause
    earlier = {zone_of(labels[b[0]], zone) for b in batches[:index] if b}
    first = len(earlier) == 1
    bake = (spec.first_bake if spec.first_bake is not None else spec.bake) if first else spec.bake
    return max(pause, bake or 0.0)


def budget_of(phase: Phase) -> Budget:
    return Budget(
        max_fail_percentage=phase.max_fail_percentage or 0,
        total_fail_budget=phase.total_fail_budget,
        unreachable=phase.unreachable or "fail",
        on_batch_all_failed=phase.on_batch_all_failed or "budget",
        min_healthy=phase.min_healthy,
    )
