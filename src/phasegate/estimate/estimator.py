"""A plan's estimates: each step's and phase's predictive, and the run's by Monte Carlo.

``fit(plan, history)`` admits the runs the plan's calibration rule allows, gathers each
unit's evidence (steps by ``phase/step`` id, phases by id, as the journal names them) and
returns ``Models``; ``Models.estimate()`` gives the numbers ``phasegate estimate`` prints.
Pure over the plan and history given.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from phasegate.estimate.calibration import Admission, admit
from phasegate.estimate.history import RunDurations
from phasegate.estimate.model import FLOOR, LEVEL, Evidence, Predictive, predictive
from phasegate.estimate.montecarlo import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    Batch,
    Draw,
    quantile,
    simulate,
    summed,
)
from phasegate.plan.estimate import EstimateHint
from phasegate.plan.model import Phase, Plan, Step, step_ids


class EstimateDict(TypedDict):
    """An estimate as ``estimate --json`` and the API show it (seconds, rounded to ms)."""

    key: str
    kind: str
    p50: float
    interval: list[float]  # [low, high]: the credible interval
    level: float  # the interval's level (0.9)
    runs: int
    source: str


@dataclass(frozen=True)
class Estimate:
    """One unit's estimate: the median and the 90 % interval (seconds), and its basis."""

    key: str
    kind: str  # step | phase | run
    p50: float
    low: float
    high: float
    runs: int  # observed durations behind it (0: the prior alone)
    source: str  # history | hint | default | steps | phases

    def as_dict(self) -> EstimateDict:
        return {
            "key": self.key,
            "kind": self.kind,
            "p50": round(self.p50, 3),
            "interval": [round(self.low, 3), round(self.high, 3)],
            "level": LEVEL,
            "runs": self.runs,
            "source": self.source,
        }

    def contains(self, seconds: float) -> bool:
        return self.low <= seconds <= self.high


def step_hint(plan: Plan, step: Step) -> tuple[EstimateHint | None, bool]:
    """A step's prior: its own hint, else a wait it declares (a timed pause, a bake), else the
    plan's default, else none (the vague prior)."""
    if step.estimate is not None:
        return step.estimate, True
    fixed = step.pause.duration if step.pause is not None else step.bake
    if fixed:
        return EstimateHint(p50=fixed, p90=fixed * 1.05), True
    if plan.estimate.default is not None:
        return plan.estimate.default, True
    return None, False


@dataclass
class Unit:
    """One step's or phase's model: its hint and the evidence so far (sums of log durations,
    kept in place: a history of 10,000 runs adds ~150,000 durations)."""

    key: str
    kind: str
    hint: EstimateHint | None
    hinted: bool
    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    def add(self, seconds: float) -> None:
        y = math.log(seconds if seconds > FLOOR else FLOOR)
        self.n += 1
        self.total += y
        self.total_sq += y * y

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.n, self.total, self.total_sq)

    def predictive(self) -> Predictive:
        return predictive(self.hint, self.evidence)

    def estimate(self) -> Estimate:
        model = self.predictive()
        low, high = model.interval()
        source = "history" if self.n else ("hint" if self.hinted else "default")
        return Estimate(self.key, self.kind, model.p50, low, high, self.n, source)

    @property
    def own(self) -> bool:
        """Whether the unit has a model of its own (else a phase is the sum of its steps)."""
        return self.hinted or self.n > 0


class Models:
    """Every unit of a plan with its evidence; updated one admitted run at a time."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.steps: dict[str, list[Unit]] = {}
        self.phases: dict[str, Unit] = {}
        self.needs = {p.id: list(p.needs) for p in plan.phases}
        for phase in plan.phases:
            self.phases[phase.id] = Unit(
                phase.id, "phase", phase.estimate, phase.estimate is not None
            )
            self.steps[phase.id] = [
                Unit(f"{phase.id}/{sid}", "step", *step_hint(plan, step))
                for sid, step in zip(step_ids(phase), phase.steps, strict=True)
            ]
        self.step_units = {u.key: u for units in self.steps.values() for u in units}
        self.run_unit = Unit("run", "run", None, False)

    def informed(self, phase_id: str) -> bool:
        """Whether the phase's estimate rests on something (its own or a step's hint or
        history), not on the vague prior alone."""
        return self.phases[phase_id].own or any(s.own for s in self.steps[phase_id])

    @property
    def run_evidence(self) -> Evidence:
        return self.run_unit.evidence

    def learn(self, run: RunDurations) -> None:
        """Add one admitted run's durations (units the plan no longer has are ignored)."""
        for phase_id, seconds in run.phases.items():
            unit = self.phases.get(phase_id)
            if unit is not None:
                unit.add(seconds)
        for key, seconds in run.steps.items():
            unit = self.step_units.get(key)
            if unit is not None:
                unit.add(seconds)
        if run.total is not None:
            self.run_unit.add(run.total)

    def phase_draw(self, phase: Phase | str) -> Batch:
        """The phase's draws: its own model, else the sum of its steps'."""
        unit = self.phases[phase if isinstance(phase, str) else phase.id]
        if unit.own:
            return Batch(unit.predictive().draws)
        return summed([Batch(s.predictive().draws) for s in self.steps[unit.key]])

    def run_draws(self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED) -> list[float]:
        draws: dict[str, Draw] = {p.id: self.phase_draw(p) for p in self.plan.phases}
        return simulate(list(draws), self.needs, draws, samples=samples, seed=seed)

    def phase_quantile(
        self, phase_id: str, p: float, *, samples: int = 2_000, seed: int = DEFAULT_SEED
    ) -> float:
        """Seconds the phase takes with probability ``p`` (its own model's quantile, else a
        quantile of the sum of its steps' draws)."""
        unit = self.phases[phase_id]
        if unit.own:
            return unit.predictive().quantile(p)
        values = self.phase_draw(phase_id).draws(random.Random(seed), samples)
        return quantile(sorted(values), p)

    def phase_estimate(self, phase_id: str, *, samples: int, seed: int) -> Estimate:
        unit = self.phases[phase_id]
        if unit.own:
            return unit.estimate()
        values = sorted(self.phase_draw(phase_id).draws(random.Random(seed), samples))
        return from_draws(phase_id, "phase", values, 0, "steps")

    def estimate(
        self, *, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED
    ) -> tuple[list[Estimate], list[Estimate], Estimate]:
        """(steps, phases, the run)."""
        steps = [u.estimate() for units in self.steps.values() for u in units]
        phases = [self.phase_estimate(p, samples=samples, seed=seed) for p in self.phases]
        run = from_draws(
            "run", "run", self.run_draws(samples=samples, seed=seed), self.run_evidence.n, "phases"
        )
        return steps, phases, run


def from_draws(key: str, kind: str, values: list[float], runs: int, source: str) -> Estimate:
    tail = (1.0 - LEVEL) / 2.0
    return Estimate(
        key,
        kind,
        quantile(values, 0.5),
        quantile(values, tail),
        quantile(values, 1 - tail),
        runs,
        source,
    )


@dataclass(frozen=True)
class Fitted:
    models: Models
    admission: Admission


def fit(plan: Plan, history: Iterable[RunDurations]) -> Fitted:
    """The plan's models, taught by the runs of ``history`` its calibration rule admits."""
    admission = admit(plan.estimate.calibration, history)
    models = Models(plan)
    for run in admission.admitted:
        models.learn(run)
    return Fitted(models, admission)
