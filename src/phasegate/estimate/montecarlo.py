"""The whole run's duration by Monte Carlo over the phase DAG.

Each draw gives every phase a duration (from its own model, or the sum of its steps'); a
phase starts when the last phase it ``needs`` finishes, so independent phases run side by
side; the run ends with its last phase. The draws' quantiles are the run's estimate. Seeded:
the same history gives the same numbers. Not modelled: ``max_parallel`` (more ready phases
than it allows would queue) — the estimate is then optimistic, said in docs/estimates.md.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_SAMPLES = 10_000
DEFAULT_SEED = 13

PhaseDraw = Callable[[random.Random], float]


@dataclass(frozen=True, slots=True)
class Batch:
    """A phase's draws ``n`` at a time (``draws(rng, n)``): one list comprehension per phase
    instead of a call per sample, which is most of the Monte Carlo's cost in Python."""

    draws: Callable[[random.Random, int], list[float]]


Draw = PhaseDraw | Batch


def batch_of(draw: Draw, rng: random.Random, n: int) -> list[float]:
    if isinstance(draw, Batch):
        return draw.draws(rng, n)
    return [draw(rng) for _ in range(n)]


def summed(parts: Sequence[Draw]) -> Batch:
    """The elementwise sum of the parts' draws (a phase as the sum of its steps)."""

    def draws(rng: random.Random, n: int) -> list[float]:
        total = [0.0] * n
        for part in parts:
            total = list(map(operator.add, total, batch_of(part, rng, n)))
        return total

    return Batch(draws)


def topological(phases: Sequence[str], needs: Mapping[str, Sequence[str]]) -> list[str]:
    """``phases`` ordered so that each comes after what it needs (plan order among equals);
    needs naming unknown phases are ignored (validated plans have none)."""
    known = set(phases)
    done: set[str] = set()
    order: list[str] = []
    pending = list(phases)
    while pending:
        ready = [p for p in pending if all(n in done or n not in known for n in needs.get(p, ()))]
        if not ready:  # a cycle: a validated plan has none; keep the rest in plan order
            ready = pending[:1]
        for phase in ready:
            order.append(phase)
            done.add(phase)
        pending = [p for p in pending if p not in done]
    return order


def simulate(
    phases: Sequence[str],
    needs: Mapping[str, Sequence[str]],
    draws: Mapping[str, Draw],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> list[float]:
    """``samples`` draws of the run's duration, sorted. A phase missing from ``draws`` takes
    no time (it already finished). Column-wise: each phase's ``samples`` draws at once (in
    dependency order), its start the elementwise max of its needs' finishes."""
    rng = random.Random(seed)
    zero = [0.0] * samples
    finish: dict[str, list[float]] = {}
    end = zero
    for phase in topological(phases, needs):
        before = [finish[n] for n in needs.get(phase, ()) if n in finish]
        start = before[0] if len(before) == 1 else (list(map(max, *before)) if before else zero)
        draw = draws.get(phase)
        done = (
            start if draw is None else list(map(operator.add, start, batch_of(draw, rng, samples)))
        )
        finish[phase] = done
        end = list(map(max, end, done))
    return sorted(end)


def quantile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p`` quantile of sorted draws (linear between neighbours)."""
    if not sorted_values:
        return 0.0
    position = p * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
