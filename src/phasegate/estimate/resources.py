"""Numeric resources taken from step outputs (issue 13 §4/§5): the seed's tokens.

A step reports what it used as an output (``echo "tokens=1234" >> "$PHASEGATE_OUTPUT"``); a
resource budget names the output it counts (plan/budget.py). What a run used is the sum over
its succeeded steps. What it will still use is estimated like durations: each step's amount is
log-normal, learned from the admitted runs of the plan's history (the same calibration rule),
with the posterior predictive of ``estimate/model.py``; the rest of a live run is the sum of
its steps not yet done, by Monte Carlo. A step no admitted run reported the output for is not
projected (there is no honest default prior for "tokens"): it counts 0 and is listed as
``unprojected``, so a plan without history projects what it used so far, unless the budget's
``estimate:`` hints the step (``{work/a: {p50: 3000, p90: 5000}}``): that hint is then the
step's prior, updated by history as duration hints are.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from phasegate.estimate.calibration import admit
from phasegate.estimate.history import RunDurations, numeric_outputs
from phasegate.estimate.model import Evidence, Predictive, predictive
from phasegate.estimate.montecarlo import DEFAULT_SEED, quantile
from phasegate.plan.budget import AmountHint
from phasegate.plan.estimate import EstimateHint
from phasegate.plan.model import Plan, step_ids

SAMPLES = 2_000
SPREAD = 1.9  # the prior's p90/p50: log-sd 0.5


@dataclass(frozen=True)
class ResourceUse:
    """A live run's use of one resource: so far, and projected totals."""

    output: str
    used: float
    p50: float  # used + the median of what the steps left will use
    p90: float
    unprojected: list[str] = field(default_factory=list)  # steps left without history
    # The projected total's 90 % interval (used + the 5th / 95th percentile of the rest);
    # None: ``used`` itself (nothing left to project).
    low: float | None = None
    high: float | None = None


@dataclass
class ResourceModel:
    """Each step's amount of one output, learned from admitted runs."""

    output: str
    steps: list[str]  # every step key of the plan, in plan order
    evidence: dict[str, Evidence] = field(default_factory=dict)
    hints: dict[str, EstimateHint] = field(default_factory=dict)  # the budget's `estimate:`

    def learn(self, run: RunDurations) -> None:
        for key, numbers in run.amounts.items():
            value = numbers.get(self.output)
            if value is not None and value >= 0 and key in self.steps:
                self.evidence[key] = self.evidence.get(key, Evidence()).add(value)

    def predictive(self, key: str) -> Predictive | None:
        found = self.evidence.get(key)
        hint = self.hints.get(key)
        if hint is not None:  # the plan's own prior for the step, updated by its history
            return predictive(hint, found or Evidence())
        if found is None or not found.n:
            return None
        # The prior is centred on the step's own geometric mean with a moderate spread (a
        # hint worth one run): "tokens" have no scale a default could guess, and the vague
        # duration prior (a median of 30 s) would pull a 5,000-token step towards 30.
        center = math.exp(found.total / found.n)
        return predictive(EstimateHint(p50=center, p90=center * SPREAD), found)


def fit_resource(
    plan: Plan,
    history: Iterable[RunDurations],
    output: str,
    hints: Mapping[str, AmountHint] | None = None,
) -> ResourceModel:
    """The model of ``output``, taught by the runs the plan's calibration rule admits, each
    hinted step (the budget's ``estimate:``) starting from its hint as prior."""
    keys = [f"{p.id}/{sid}" for p in plan.phases for sid in step_ids(p)]
    priors = {
        key: EstimateHint(p50=hint.p50, p90=hint.p90)
        for key, hint in (hints or {}).items()
        if key in keys
    }
    model = ResourceModel(output, keys, hints=priors)
    for run in admit(plan.estimate.calibration, history).admitted:
        model.learn(run)
    return model


def amount_words(value: float, unit: str | None) -> str:
    """``12,500 tokens``, ``0.25 USD``: an amount as the CLI and the dashboard write it."""
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}" if unit else text


def used_so_far(finished: Mapping[str, Any], output: str) -> float:
    """The sum of ``output`` over finished steps (key -> its outputs; None: did not succeed)."""
    return sum(numeric_outputs(outs).get(output, 0.0) for outs in finished.values() if outs)


def project(
    model: ResourceModel,
    finished: Mapping[str, Any],
    *,
    samples: int = SAMPLES,
    seed: int = DEFAULT_SEED,
) -> ResourceUse:
    """What the run used of the resource and what it will have used when it ends.
    ``finished``: the run's finished steps, key -> their outputs (None or empty for a step
    that did not succeed); a live run's state has them (``RunState.items``)."""
    used = used_so_far(finished, model.output)
    left = [key for key in model.steps if key not in finished]
    parts = [(key, model.predictive(key)) for key in left]
    drawn = [p for _, p in parts if p is not None]
    unprojected = [key for key, p in parts if p is None]
    if not drawn:
        return ResourceUse(model.output, used, used, used, unprojected)
    rng = random.Random(seed)
    values = sorted(sum(p.draw(rng) for p in drawn) for _ in range(samples))
    return ResourceUse(
        model.output,
        used,
        used + quantile(values, 0.5),
        used + quantile(values, 0.9),
        unprojected,
        low=used + quantile(values, 0.05),
        high=used + quantile(values, 0.95),
    )


@dataclass(frozen=True)
class ResourceEstimate:
    """A resource budget's amount for a whole run (``phasegate estimate``): the median and
    90 % interval of the sum over the plan's steps, before any step ran."""

    name: str  # the budget's name (``budget.resources`` key)
    output: str
    unit: str
    limit: float
    use: ResourceUse

    def as_dict(self) -> dict[str, Any]:
        use = self.use
        low = use.used if use.low is None else use.low
        high = use.used if use.high is None else use.high
        return {
            "name": self.name,
            "output": self.output,
            "unit": self.unit,
            "budget": self.limit,
            "p50": round(use.p50, 3),
            "p90": round(use.p90, 3),
            "interval": [round(low, 3), round(high, 3)],
            "level": 0.9,
            "unprojected": list(use.unprojected),
        }


def resource_estimates(
    plan: Plan, history: Iterable[RunDurations], *, samples: int = SAMPLES
) -> list[ResourceEstimate]:
    """Each resource budget's whole-run amount (plan order), learned from ``history`` as the
    budget's runway projects it (the calibration rule, the budget's hints): a run that has
    not started, nothing used."""
    runs = list(history)
    found = []
    for name, spec in plan.budget.resources.items():
        output = spec.output or name
        model = fit_resource(plan, runs, output, spec.estimate)
        use = project(model, {}, samples=samples)
        found.append(ResourceEstimate(name, output, spec.unit or output, spec.limit, use))
    return found
