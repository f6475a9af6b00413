"""How good the estimates were: ``phasegate estimate --calibration``.

Rolling origin: the admitted runs are replayed oldest first; before learning run *i*, the
models taught by runs 1…i-1 predict it, and each prediction is scored against what run *i*
took: the absolute error of the median in percent of the truth (MAE %), and whether the
truth fell in the 90 % interval (coverage; a calibrated model covers about 90 %). The first
``warmup`` runs only teach. The whole run's prediction is a Monte Carlo per origin, so it is
scored on the newest ``run_origins`` runs only, with fewer draws.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from phasegate.estimate.calibration import Admission, AdmissionDict, admit
from phasegate.estimate.estimator import Models, from_draws
from phasegate.estimate.history import RunDurations
from phasegate.estimate.model import LEVEL
from phasegate.plan.model import Plan


class ScoreDict(TypedDict):
    kind: str  # step | phase | run
    predictions: int
    mae_pct: float | None  # mean absolute error of the median, percent; None: no prediction
    coverage: float | None  # the share of truths inside the interval
    level: float


class BacktestDict(TypedDict):
    method: str
    calibration: AdmissionDict
    scores: list[ScoreDict]


@dataclass
class Score:
    """The predictions of one kind of unit (step, phase, run)."""

    kind: str
    predictions: int = 0
    error_pct: float = 0.0  # summed
    covered: int = 0

    def add(self, p50: float, low: float, high: float, truth: float) -> None:
        self.predictions += 1
        self.error_pct += abs(p50 - truth) / max(truth, 1e-9) * 100.0
        self.covered += low <= truth <= high

    def as_dict(self) -> ScoreDict:
        n = self.predictions
        return {
            "kind": self.kind,
            "predictions": n,
            "mae_pct": round(self.error_pct / n, 2) if n else None,
            "coverage": round(self.covered / n, 4) if n else None,
            "level": LEVEL,
        }


@dataclass(frozen=True)
class Backtest:
    admission: Admission
    scores: dict[str, Score]
    method: str

    def as_dict(self) -> BacktestDict:
        return {
            "method": self.method,
            "calibration": self.admission.as_dict(),
            "scores": [s.as_dict() for s in self.scores.values()],
        }


def backtest(
    plan: Plan,
    history: Iterable[RunDurations],
    *,
    warmup: int = 3,
    run_origins: int = 100,
    samples: int = 1000,
    seed: int = 13,
) -> Backtest:
    admission = admit(plan.estimate.calibration, history)
    models = Models(plan)
    scores = {kind: Score(kind) for kind in ("step", "phase", "run")}
    runs = admission.admitted
    for index, run in enumerate(runs):
        if index >= warmup:
            for units in models.steps.values():
                for unit in units:
                    if unit.key in run.steps:
                        model = unit.predictive()
                        scores["step"].add(model.p50, *model.interval(), run.steps[unit.key])
            for phase_id in models.phases:
                if phase_id in run.phases:
                    est = models.phase_estimate(phase_id, samples=samples, seed=seed)
                    scores["phase"].add(est.p50, est.low, est.high, run.phases[phase_id])
            if run.total is not None and index >= len(runs) - run_origins:
                draws = models.run_draws(samples=samples, seed=seed)
                est = from_draws("run", "run", draws, 0, "phases")
                scores["run"].add(est.p50, est.low, est.high, run.total)
        models.learn(run)
    method = f"rolling origin (warm-up {warmup} runs; the run on the newest {run_origins})"
    return Backtest(admission, scores, method)
