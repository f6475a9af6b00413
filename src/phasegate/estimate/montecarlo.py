"""The whole run's duration by Monte Carlo over the phase DAG.

Each draw gives every phase a duration (from its own model, or the sum of its steps'); a
phase starts when the last phase it ``needs`` finishes, so independent phases run side by
side; the run ends with its last phase. The draws' quantiles are the run's estimate. Seeded:
the same history gives the same numbers. Not modelled: ``max_parallel`` (more ready phases
than it allows would queue) — the estimate is then optimistic, said in docs/estimates.md.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence

DEFAULT_SAMPLES = 10_000
DEFAULT_SEED = 13

PhaseDraw = Callable[[random.Random], float]


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
    draws: Mapping[str, PhaseDraw],
    *,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> list[float]:
    """``samples`` draws of the run's duration, sorted. A phase missing from ``draws`` takes
    no time (it already finished)."""
    rng = random.Random(seed)
    order = topological(phases, needs)
    plan = [(p, tuple(n for n in needs.get(p, ()) if n in draws or n in phases)) for p in order]
    out: list[float] = []
    for _ in range(samples):
        finish: dict[str, float] = {}
        end = 0.0
        for phase, before in plan:
            start = max((finish[n] for n in before if n in finish), default=0.0)
            draw = draws.get(phase)
            done = start + (draw(rng) if draw is not None else 0.0)
            finish[phase] = done
            end = max(end, done)
        out.append(end)
    out.sort()
    return out


def quantile(sorted_values: Sequence[float], p: float) -> float:
    """The ``p`` quantile of sorted draws (linear between neighbours)."""
    if not sorted_values:
        return 0.0
    position = p * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
