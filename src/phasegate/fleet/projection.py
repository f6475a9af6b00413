"""Projections from a representative sample to its whole fleet: pure functions, no I/O.

The sample was drawn by strata (fleet/sample.py), so the estimate is the **stratified**
one (a survey's textbook estimator, exact arithmetic aside):

- For a metric y (a host's step time in seconds, or a numeric step output summed over the
  host's steps, e.g. ``tokens``), stratum h with ``N_h`` hosts of which ``n_h`` were sampled
  and measured: the projected total is ``T = sum_h N_h * mean_h``.
- Its variance: ``sum_h N_h^2 * (1 - n_h/N_h) * s_h^2 / n_h`` (finite population
  correction included: a stratum measured whole contributes none). ``s_h^2`` is the stratum's
  sample variance when it has 2 or more measured hosts, else the variance of every measured
  host (the pooled guess; 0 with fewer than 2 measurements).
- A stratum with no measured host (missing, or every sampled host failed before reporting)
  takes the mean and variance of every measured host, with ``n_h = 1``.
- The interval is ``T +- 1.645 * sqrt(variance)`` (a 90 % normal interval), the low end never
  below 0.

The risk score is the value of a CEL expression over the per-stratum outcomes (the
activation ``risk_activation`` builds), compared with ``risk_max``: above it the canary fails.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from phasegate.run.record import JsonDict

Z90 = 1.645


@dataclass(frozen=True)
class Projection:
    metric: str
    estimate: float
    low: float
    high: float
    measured: int  # hosts that gave a value

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "estimate": round(self.estimate, 6),
            "low": round(self.low, 6),
            "high": round(self.high, 6),
            "measured": self.measured,
        }


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, var


def project(
    metric: str,
    sizes: Mapping[str, int],
    values: Mapping[str, Sequence[float]],
) -> Projection | None:
    """The whole fleet's total of ``metric``: ``sizes`` are each stratum's hosts (N_h),
    ``values`` each stratum's measured hosts' values. None when nothing was measured."""
    every = [v for vs in values.values() for v in vs]
    if not every:
        return None
    pooled_mean, pooled_var = _mean_var(every)
    total = 0.0
    variance = 0.0
    for stratum, size in sizes.items():
        mine = list(values.get(stratum, ()))
        if mine:
            mean, var = _mean_var(mine)
            n = len(mine)
            if n < 2:
                var = pooled_var
        else:
            mean, var, n = pooled_mean, pooled_var, 1
        total += size * mean
        fpc = max(1 - n / size, 0.0) if size else 0.0
        variance += size * size * fpc * var / n
    half = Z90 * math.sqrt(variance)
    return Projection(metric, total, max(total - half, 0.0), total + half, len(every))


def risk_activation(rows: Sequence[Mapping[str, Any]]) -> JsonDict:
    """What a ``risk`` expression sees: ``strata`` (each {stratum, size, picked, succeeded,
    failed, fail_rate}), and the sample's ``hosts``, ``failed`` and ``fail_rate``."""
    picked = sum(int(r["picked"]) for r in rows)
    failed = sum(int(r["failed"]) for r in rows)
    return {
        "strata": [dict(r) for r in rows],
        "hosts": picked,
        "failed": failed,
        "fail_rate": failed / picked if picked else 0.0,
    }


def stratum_rows(
    strata: Sequence[Mapping[str, Any]],
    stratum_of: Mapping[str, str],
    outcomes: Mapping[str, str],
) -> list[dict[str, Any]]:
    """Per-stratum outcomes: ``strata`` as the sample journalled them ({stratum, picked,
    size}), ``stratum_of`` each sampled host's stratum, ``outcomes`` each host's outcome."""
    rows = []
    for entry in strata:
        name = str(entry["stratum"])
        hosts = [h for h, s in stratum_of.items() if s == name]
        failed = sum(outcomes.get(h) in ("failed", "unreachable") for h in hosts)
        succeeded = sum(outcomes.get(h) == "succeeded" for h in hosts)
        picked = int(entry["picked"])
        rows.append(
            {
                "stratum": name,
                "size": int(entry["size"]),
                "picked": picked,
                "succeeded": succeeded,
                "failed": failed,
                "fail_rate": failed / picked if picked else 0.0,
            }
        )
    return rows
