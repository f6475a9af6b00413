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
"""

from phasegate.estimate.backtest import Backtest, Score, backtest
from phasegate.estimate.calibration import Admission, admit, admits, facts
from phasegate.estimate.digest import read_history
from phasegate.estimate.estimator import Estimate, Fitted, Models, fit
from phasegate.estimate.history import RunDurations, durations, human_waits
from phasegate.estimate.model import Evidence, Predictive, Prior, predictive
from phasegate.estimate.remaining import Remaining, remaining

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
