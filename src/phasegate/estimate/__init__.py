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

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phasegate.estimate.backtest import Backtest, Score, backtest
    from phasegate.estimate.calibration import Admission, admit, admits, facts
    from phasegate.estimate.digest import read_history
    from phasegate.estimate.estimator import Estimate, Fitted, Models, fit
    from phasegate.estimate.history import RunDurations, durations, human_waits
    from phasegate.estimate.model import Evidence, Predictive, Prior, predictive
    from phasegate.estimate.remaining import Remaining, remaining

# The names above load with their module on first use (PEP 562): every run records its
# durations digest (``digest``) and needs none of the estimator, whose modules cost a plain
# run's start-up ~20 ms. Name -> the submodule that defines it.
_EXPORTS = {
    "Backtest": "backtest", "Score": "backtest", "backtest": "backtest",
    "Admission": "calibration", "admit": "calibration", "admits": "calibration",
    "facts": "calibration", "read_history": "digest",
    "Estimate": "estimator", "Fitted": "estimator", "Models": "estimator", "fit": "estimator",
    "RunDurations": "history", "durations": "history", "human_waits": "history",
    "Evidence": "model", "Predictive": "model", "Prior": "model", "predictive": "model",
    "Remaining": "remaining", "remaining": "remaining",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """``backtest`` and ``remaining`` are functions of this package and also the names of
    its submodules: importing a submodule sets the package's attribute of its name to the
    module, which would hide the function. As when they were imported eagerly, the package's
    attribute stays the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _EXPORTS:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

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
