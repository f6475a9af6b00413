"""Log-normal durations with a conjugate prior: what one step, phase or run usually takes.

A duration ``d`` is modelled as ``log d ~ Normal(mu, sigma²)`` with a Normal-Inverse-Gamma
prior on ``(mu, sigma²)``; the posterior after ``n`` observed log durations is again NIG
(closed form, from three sufficient statistics), and the *posterior predictive* of the next
duration's log is a Student-t with ``2·alpha`` degrees of freedom. Intervals are its quantiles:
what the next run will take, uncertainty about the parameters included, not only the mean.

The prior comes from a hint (``estimate: {p50, p90}``) chosen so that with no history the
estimate *is* the hint (predictive median p50, predictive 90th percentile p90), worth
``HINT_WEIGHT`` runs of evidence; without a hint a vague prior (``VAGUE``) that one or two
runs outweigh.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from phasegate.estimate.stats import t_draw, t_quantile
from phasegate.plan.estimate import EstimateHint

LEVEL = 0.90  # the interval's mass: p5 to p95
HINT_WEIGHT = 1.0  # kappa0 of a hinted prior: the hint counts as one run for the mean
HINT_ALPHA = 2.0  # alpha0 of a hinted prior: four pseudo-runs for the spread
VAGUE_WEIGHT = 0.05
VAGUE_ALPHA = 1.0
# A step with no hint at all: a median of 30 s, nine in ten under 10 minutes, barely believed.
VAGUE = EstimateHint(p50=30.0, p90=600.0)
FLOOR = 1e-3  # a measured 0 s (a no-op step) is kept as 1 ms: the log needs a positive value


@dataclass(frozen=True)
class Evidence:
    """The sufficient statistics of observed log durations: count, sum, sum of squares."""

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0

    def add(self, seconds: float) -> Evidence:
        y = math.log(max(seconds, FLOOR))
        return Evidence(self.n + 1, self.total + y, self.total_sq + y * y)

    @classmethod
    def of(cls, durations: list[float]) -> Evidence:
        logs = [math.log(max(d, FLOOR)) for d in durations]
        return cls(len(logs), sum(logs), sum(y * y for y in logs))


@dataclass(frozen=True)
class Prior:
    """Normal-Inverse-Gamma: ``mu | sigma² ~ N(mu0, sigma²/kappa)``,
    ``sigma² ~ IG(alpha, beta)``."""

    mu: float
    kappa: float
    alpha: float
    beta: float

    @classmethod
    def from_hint(cls, hint: EstimateHint | None) -> Prior:
        """The prior whose predictive (with no data) has median p50 and 90th percentile p90."""
        if hint is None:
            return cls._matching(VAGUE, VAGUE_WEIGHT, VAGUE_ALPHA)
        return cls._matching(hint, HINT_WEIGHT, HINT_ALPHA)

    @classmethod
    def _matching(cls, hint: EstimateHint, kappa: float, alpha: float) -> Prior:
        mu = math.log(hint.p50)
        # p90 == p50 (a fixed wait) still gets a little spread: 1 % of the median.
        spread = max(math.log(hint.p90) - mu, 0.01)
        scale = spread / t_quantile(0.9, 2.0 * alpha)
        beta = scale * scale * alpha * kappa / (kappa + 1.0)
        return cls(mu, kappa, alpha, beta)

    def updated(self, evidence: Evidence) -> Prior:
        """The posterior after ``evidence`` (the conjugate update)."""
        n = evidence.n
        if n == 0:
            return self
        mean = evidence.total / n
        squares = max(evidence.total_sq - n * mean * mean, 0.0)
        kappa = self.kappa + n
        mu = (self.kappa * self.mu + n * mean) / kappa
        alpha = self.alpha + n / 2.0
        beta = self.beta + squares / 2.0 + self.kappa * n * (mean - self.mu) ** 2 / (2.0 * kappa)
        return Prior(mu, kappa, alpha, beta)


@dataclass(frozen=True)
class Predictive:
    """The posterior predictive of the next duration: ``log d = loc + scale · T(dof)``."""

    loc: float
    scale: float
    dof: float
    runs: int  # how many observed durations taught it

    @classmethod
    def of(cls, posterior: Prior, runs: int) -> Predictive:
        scale = math.sqrt(
            posterior.beta * (posterior.kappa + 1.0) / (posterior.alpha * posterior.kappa)
        )
        return cls(posterior.mu, scale, 2.0 * posterior.alpha, runs)

    def quantile(self, p: float) -> float:
        """Seconds below which the next duration falls with probability ``p``."""
        return math.exp(self.loc + self.scale * t_quantile(p, self.dof))

    @property
    def p50(self) -> float:
        return math.exp(self.loc)

    def interval(self, level: float = LEVEL) -> tuple[float, float]:
        tail = (1.0 - level) / 2.0
        return self.quantile(tail), self.quantile(1.0 - tail)

    def draw(self, rng: random.Random) -> float:
        # exp overflows past ~709: a draw that far in a 2-dof tail is "forever", capped.
        return math.exp(min(self.loc + self.scale * t_draw(rng, self.dof), 700.0))

    def draws(self, rng: random.Random, n: int) -> list[float]:
        """``n`` draws at once (the Monte Carlo's column): a t draw is a normal over the root
        of a scaled chi-square, as ``t_draw``, without a call per sample."""
        loc, scale, half, theta = self.loc, self.scale, self.dof / 2.0, 2.0 / self.dof
        gauss, gamma, sqrt, exp = rng.gauss, rng.gammavariate, math.sqrt, math.exp
        return [
            exp(min(loc + scale * gauss(0.0, 1.0) / sqrt(gamma(half, theta)), 700.0))
            for _ in range(n)
        ]


def predictive(hint: EstimateHint | None, evidence: Evidence) -> Predictive:
    """The estimate of one unit: its prior (from ``hint``) updated by ``evidence``."""
    return Predictive.of(Prior.from_hint(hint).updated(evidence), evidence.n)
