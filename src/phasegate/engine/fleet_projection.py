"""What a sampled fleet phase's outcomes say about the whole fleet (docs/fleet.md,
"Projections and risk"): once every sampled host has an outcome, the per-stratum outcomes,
the projections to the fleet the sample stands for (fleet/projection.py) checked against the
plan's ``budget:``, and the risk score. Journalled as one ``fleet.projection`` event."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from phasegate.engine.fleet_hosts import host_key
from phasegate.expr import ExprError, evaluate
from phasegate.fleet.batching import Outcome, batch_sizes
from phasegate.fleet.projection import project, risk_activation, stratum_rows
from phasegate.fleet.sample import stratum_of, words
from phasegate.plan.model import Phase, step_ids
from phasegate.run.events import FleetProjection, FleetSample

if TYPE_CHECKING:
    from phasegate.engine.port import RunPort

DURATION = "duration"


@dataclass(frozen=True)
class Verdict:
    """``fail``: the risk is above its bound (or cannot be computed); ``pause``: a projection
    is over its budget (a human approves going on); both None: the sample may go on."""

    fail: str | None = None
    pause: str | None = None


def host_stratum(phase: Phase, name: str, labels: Mapping[str, Any], variables: Any) -> str:
    """A host's stratum in the words the sample journals (``az=a, os=debian``)."""
    spec = phase.sample
    assert spec is not None
    if spec.key is None:
        return words(stratum_of(labels, spec.strata), spec.strata)
    activation = {"name": name, "labels": dict(labels), "groups": [], "vars": dict(variables)}
    return words((str(evaluate(spec.key, activation)),), ["key"])


def judge_sample(
    runner: RunPort,
    phase: Phase,
    labels: Mapping[str, Mapping[str, Any]],
    outcomes: Mapping[str, Outcome],
) -> Verdict:
    spec = phase.sample
    assert spec is not None
    facts = _sample_facts(runner, phase.id)
    if facts is None:
        return Verdict()
    variables = runner.ctx.variables.values
    strata_of = {h: host_stratum(phase, h, labels[h], variables) for h in labels}
    rows = stratum_rows([s.to_json() for s in facts.strata], strata_of, outcomes)
    sizes = {s.stratum: s.size for s in facts.strata}
    fleet_size = sum(sizes.values())
    plan = runner.ctx.plan
    resources = plan.budget.resources
    metrics = spec.project
    if metrics is None:
        metrics = [DURATION, *((r.output or name) for name, r in resources.items())]
    projections = []
    over: list[str] = []
    for metric in metrics:
        values: dict[str, list[float]] = {}
        for host, outcome in outcomes.items():
            value = _host_value(runner, phase, host, metric) if outcome == "succeeded" else None
            if value is not None:
                values.setdefault(strata_of[host], []).append(value)
        found = project(metric, sizes, values)
        if found is None:
            continue
        entry = found.to_json()
        limit, basis = _budget(runner, metric)
        if metric == DURATION:
            # Host time -> the phase's wall time on the whole fleet: its sequential waves
            # (each batch in slots of max_connections), each as long as a mean host.
            waves = _waves(phase, fleet_size, runner)
            scale = waves / fleet_size if fleet_size else 0.0
            entry.update(
                wall=round(found.estimate * scale, 6),
                wall_low=round(found.low * scale, 6),
                wall_high=round(found.high * scale, 6),
            )
            judged = entry["wall_high"] if basis == "p90" else entry["wall"]
        else:
            judged = entry["high"] if basis == "p90" else entry["estimate"]
        if limit is not None:
            entry.update(budget=limit, basis=basis, over=judged > limit)
            if judged > limit:
                over.append(f"{metric} projected {judged:g} > budget {limit:g}")
        projections.append(entry)
    risk: float | None = None
    fail: str | None = None
    if spec.risk is not None:
        try:
            value = evaluate(spec.risk, {**risk_activation(rows), "vars": dict(variables)})
            risk = float(value) if isinstance(value, int | float) else math.nan
        except (ExprError, TypeError, ValueError) as exc:
            fail = f"risk score {spec.risk!r} cannot be computed: {exc}"
        if risk is not None and math.isnan(risk):
            fail, risk = f"risk score {spec.risk!r} is not a number", None
        elif risk is not None and spec.risk_max is not None and risk > spec.risk_max:
            fail = f"risk score {risk:.4g} > risk_max {spec.risk_max:g}"
    runner.journal(
        FleetProjection(
            phase=phase.id,
            hosts=fleet_size,
            strata=tuple(rows),
            projections=tuple(projections),
            risk=None if risk is None else round(risk, 6),
            risk_max=spec.risk_max,
        )
    )
    return Verdict(fail=fail, pause="; ".join(over) or None)


def _sample_facts(runner: RunPort, phase_id: str) -> FleetSample | None:
    found = None
    for event in runner.store.events(runner.ctx.run_id):
        if event.type == FleetSample.type and event.data.get("phase") == phase_id:
            found = event.data
    return FleetSample.model_validate(found) if found is not None else None


def _host_value(runner: RunPort, phase: Phase, host: str, metric: str) -> float | None:
    """The host's step time (seconds), or its numeric output ``metric`` summed over its
    steps (None when no step reported it)."""
    total: float | None = None
    for sid in step_ids(phase):
        item = runner.state.items.get(host_key(f"{phase.id}/{sid}", host))
        if item is None:
            continue
        if metric == DURATION:
            raw: Any = item.data.get("duration")
        else:
            raw = (item.data.get("outputs") or {}).get(metric)
        try:
            number = float(raw) if raw is not None else None
        except (TypeError, ValueError):
            number = None
        if number is not None and math.isfinite(number):
            total = (total or 0.0) + number
    return total


def _budget(runner: RunPort, metric: str) -> tuple[float | None, str]:
    budget = runner.ctx.plan.budget
    if metric == DURATION:
        return budget.duration, budget.basis
    for name, resource in budget.resources.items():
        if (resource.output or name) == metric:
            return resource.limit, resource.basis
    return None, budget.basis


def _waves(phase: Phase, fleet_size: int, runner: RunPort) -> int:
    targets = runner.ctx.plan.targets
    cap = targets.ssh.max_connections if targets is not None else fleet_size or 1
    sizes = batch_sizes(phase.batch.size if phase.batch is not None else ["100%"], fleet_size)
    return sum(math.ceil(size / cap) for size in sizes)
