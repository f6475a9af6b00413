"""Estimates with credible intervals (issue 13 §4): how long a plan's steps, phases and runs
take, learned from the journal's history of the same plan; docs/estimates.md for users.

Pure over the plan and the history it is given (nothing here runs or schedules anything):

- ``history``: what past runs took, read from their journals, human waits (pauses,
  approvals, change windows) subtracted;
- ``digest``: each finished run's durations kept as a digest in the store, so
  ``read_history`` reads one row per run, not its journal;
- ``calibration``: which runs may teach (the plan's CEL rule over a run's facts);
- ``model``: log-normal durations, a Normal-Inverse-Gamma prior from ``estimate:`` hints,
  the Student-t posterior predictive and its 90 % interval (``stats``: the t itself);
- ``montecarlo``: the whole run over the phase DAG, seeded;
- ``estimator``: ``fit(plan, history)`` -> ``Models`` -> per step/phase/run ``Estimate``;
- ``remaining``: a live run's remaining time; ``backtest``: MAE and interval coverage.

The names below are imported on first use (PEP 562): ``phasegate run`` needs only the
digest and the history of this package (a finished run's digest), not the model, the Monte
Carlo or the backtest, whose imports cost ~20 ms of every run's start (docs/performance.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phasegate.estimate.backtest import Backtest, Score, backtest
    from phasegate.estimate.calibration import Admission, admit, admits, facts
    from phasegate.estimate.digest import read_history
    from phasegate.estimate.estimator import Estimate, Fitted, Models, fit
    from phasegate.estimate.history import RunDurations, durations, human_waits
    from phasegate.estimate.model import Evidence, Predictive, Prior, predictive
    from phasegate.estimate.remaining import Remaining, remaining

_WHERE = {
    "Backtest": "backtest",
    "Score": "backtest",
    "backtest": "backtest",
    "Admission": "calibration",
    "admit": "calibration",
    "admits": "calibration",
    "facts": "calibration",
    "read_history": "digest",
    "Estimate": "estimator",
    "Fitted": "estimator",
    "Models": "estimator",
    "fit": "estimator",
    "RunDurations": "history",
    "durations": "history",
    "human_waits": "history",
    "Evidence": "model",
    "Predictive": "model",
    "Prior": "model",
    "predictive": "model",
    "Remaining": "remaining",
    "remaining": "remaining",
}

__all__ = [
    "Admission",
    "Backtest",
    "Estimate",
    "Evidence",
    "Fitted",
    "Models",
    "Predictive",
    "Prior",
    "Remaining",
    "RunDurations",
    "Score",
    "admit",
    "admits",
    "backtest",
    "durations",
    "facts",
    "fit",
    "human_waits",
    "predictive",
    "read_history",
    "remaining",
]


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{where}"), name)
    globals()[name] = value
    return value
